"""The REST API (OpenAPI at /api/v1/docs). Endpoints parse, call one service or selector, answer.

Every refusal is JSON with a stable ``error`` code: 401 unauthenticated, 404 unknown or not
yours, 409 slot taken, 413 body too large, 422 invalid input (with ``fields``).
"""

import logging
from datetime import date, timedelta

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils import timezone
from ninja import Header, NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from consulto.core.errors import DomainError, InvalidInput
from consulto.directory.selectors import specialties
from consulto.notifications import services as notify
from consulto.patients import services as patient_services
from consulto.practice import files as practice_files
from consulto.scheduling import booking
from consulto.scheduling.cache import slots_for_many
from consulto.scheduling.models import Agenda, Appointment, Motive
from consulto.scheduling.search import SORTS, search_practitioners
from consulto.scheduling.selectors import appointment_of, appointments_of

from . import schemas
from .auth import auth
from .presenters import appointment_out, hit_out, motive_out, slot_out

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Consulto API",
    version="1",
    description="Find practitioners, read their availability and book appointments.",
    docs_url="/docs",
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, fields=None):
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    fields = {exc.field: str(exc.message)} if exc.field else None
    return _error(request, exc.status, exc.code, str(exc.message), fields)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields = {}
    for item in exc.errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "payload")]
        name = ".".join(location[1:] if location[:1] == ["query"] else location) or "body"
        message = str(item.get("msg", "Invalid value.")).removeprefix("Value error, ")
        fields.setdefault(name, message)
    return _error(request, 422, "invalid", "Some fields are invalid.", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "unauthorized", "Log in or send a valid bearer token.")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return _error(request, exc.status_code, "invalid", str(exc))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return _error(request, 413, "too_large", "The request body is too large.")


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    logger.exception("Unexpected API error")
    return _error(request, 500, "server_error", "Something went wrong on our side.")


def _parse_near(near: str | None) -> tuple[float, float] | None:
    if not near:
        return None
    try:
        lat, lon = (float(part) for part in near.split(","))
    except ValueError:
        raise InvalidInput("Give near as LAT,LON, e.g. 48.8566,2.3522.", field="near") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("Coordinates out of range.", field="near")
    return lat, lon


class SearchParams(schemas.Schema):
    specialty: str | None = None
    q: str | None = schemas.Field(None, max_length=100)
    near: str | None = schemas.Field(None, max_length=50)
    radius_km: float = schemas.Field(20, gt=0, le=500)
    mode: str | None = schemas.Field(None, pattern="^(video|in_person)$")
    sort: str = schemas.Field("earliest", pattern="^(" + "|".join(SORTS) + ")$")
    limit: int = schemas.Field(20, ge=1, le=100)
    offset: int = schemas.Field(0, ge=0, le=10000)
    slots: int = schemas.Field(10, ge=0, le=100)


@api.get("/specialties", response=list[schemas.SpecialtyOut], tags=["search"])
def list_specialties(request):
    return [{"code": s.code, "label": s.label} for s in specialties()]


@api.get("/practitioners", response=schemas.PractitionerSearchOut, tags=["search"])
def search(request, params: Query[SearchParams]):
    """Practitioners matching the filters, each with its next slots over 14 days."""
    near = _parse_near(params.near)
    result = search_practitioners(
        specialty=params.specialty,
        q=params.q,
        near=near,
        radius_km=params.radius_km if near else None,
        mode=params.mode,
        sort=params.sort if (params.sort != "distance" or near) else "earliest",
        limit=params.limit,
        offset=params.offset,
    )
    return {"count": result.count, "results": [hit_out(h, params.slots) for h in result.hits]}


class SlotParams(schemas.Schema):
    motive: int = schemas.Field(..., gt=0)
    start: date | None = None
    days: int = schemas.Field(7, ge=1, le=31)


@api.get("/agendas/{agenda_id}/slots", response=schemas.AgendaSlotsOut, tags=["booking"])
def agenda_slots(request, agenda_id: int, params: Query[SlotParams]):
    agenda = Agenda.objects.select_related("site").filter(pk=agenda_id, is_active=True).first()
    if agenda is None:
        raise Http404
    motive = Motive.objects.filter(
        pk=params.motive, agenda=agenda, is_active=True, online=True
    ).first()
    if motive is None:
        raise InvalidInput("This agenda has no such motive.", field="motive")
    now = timezone.now()
    today = now.astimezone(agenda.zone).date()
    start = params.start or today
    if start < today - timedelta(days=1) or start > today + timedelta(days=366):
        raise InvalidInput("Choose a start date within the coming year.", field="start")
    slots = slots_for_many([(agenda, motive)], start=start, days=params.days, now=now)[agenda.pk]
    return {
        "agenda_id": agenda.pk,
        "motive": motive_out(motive),
        "timezone": agenda.site.timezone,
        "slots": [slot_out(s) for s in slots],
    }


@api.get("/appointments", response=list[schemas.AppointmentOut], auth=auth, tags=["booking"])
def my_appointments(request, upcoming: bool = True):
    qs = appointments_of(request.auth)
    now = timezone.now()
    qs = qs.filter(end__gte=now) if upcoming else qs.filter(end__lt=now).order_by("-start")
    return [appointment_out(a) for a in qs[:200]]


@api.post(
    "/appointments",
    response={201: schemas.AppointmentOut, 200: schemas.AppointmentOut},
    auth=auth,
    tags=["booking"],
)
def create_appointment(
    request,
    payload: schemas.AppointmentIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
):
    """Book a slot. Retrying with the same Idempotency-Key returns the first booking."""
    agenda = Agenda.objects.select_related("site").filter(pk=payload.agenda, is_active=True).first()
    if agenda is None:
        raise InvalidInput("This agenda does not exist.", field="agenda")
    motive = Motive.objects.filter(
        pk=payload.motive, agenda=agenda, is_active=True, online=True
    ).first()
    if motive is None:
        raise InvalidInput("This agenda has no such motive.", field="motive")
    if not agenda.online_booking:
        raise InvalidInput("This agenda does not take bookings online.", field="agenda")
    patient = booking.PatientIdentity(**payload.patient.dict())
    with booking.reservation():
        appointment = booking.book(
            agenda=agenda,
            motive=motive,
            start=payload.start,
            patient=patient,
            booked_by=request.auth,
            channel=Appointment.Channel.API,
            idempotency_key=idempotency_key or None,
        )
        if not appointment.replayed:
            # Rolled back with the booking when the practice stopped online booking for them.
            if not practice_files.online_booking_allowed(
                profile_id=appointment.patient_id, organisation_id=agenda.organisation_id
            ):
                raise patient_services.OnlineBookingClosed()
            notify.appointment_booked(appointment=appointment)
    status = 200 if appointment.replayed else 201
    return Status(status, appointment_out(appointment_of(request.auth, appointment.pk)))


class CancelIn(schemas.Schema):
    reason: str = schemas.Field("", max_length=255)


@api.post(
    "/appointments/{appointment_id}/cancel",
    response=schemas.AppointmentOut,
    auth=auth,
    tags=["booking"],
)
def cancel_appointment(request, appointment_id: int, payload: CancelIn | None = None):
    appointment = appointment_of(request.auth, appointment_id)
    if appointment is None:
        raise Http404
    patient_services.cancel_appointment(
        user=request.auth, appointment=appointment, reason=payload.reason if payload else ""
    )
    return appointment_out(appointment_of(request.auth, appointment_id))
