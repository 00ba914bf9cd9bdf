"""The REST API (OpenAPI at /api/v1/docs). Endpoints parse, call one service or selector, answer.

Every refusal is JSON (``ErrorOut``) with a stable ``error`` code, and each endpoint declares in
the schema every status it may answer: 400 unreadable body, 401 no credentials, 403 forbidden
(a CSRF token missing on a session, a rule of the motive), 404 unknown or not yours, 409 slot
taken, 413 body too large, 422 invalid input (with ``fields``), 429 too many requests (with
``Retry-After``). What a request reads is typed with ``types.py``: bounded ids and dates,
strings without NUL, so hostile input is a 422 before any query.
"""

import logging
import math
from datetime import timedelta
from typing import Annotated

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Header, NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from consulto.core import conditional
from consulto.core.errors import DomainError, InvalidInput
from consulto.directory.models import Membership
from consulto.directory.selectors import specialties
from consulto.notifications import services as notify
from consulto.patients import services as patient_services
from consulto.referral import adressage
from consulto.referral import services as referral_services
from consulto.scheduling import booking, booking_reads, limits, visibility
from consulto.scheduling.cache import slots_for_many, slots_state
from consulto.scheduling.models import Agenda, Appointment, Motive, Referral
from consulto.scheduling.search import SORTS, search_practitioners
from consulto.scheduling.selectors import appointment_of, appointments_of

from . import schemas
from .auth import auth, reader_of
from .presenters import appointment_out, hit_out, motive_out, slot_out
from .types import Day, Id, QueryText

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Consulto API",
    version="1",
    description="Find practitioners, read their availability and book appointments.",
    docs_url="/docs",
    urls_namespace="api",
)


def answers(ok: dict, *statuses: int) -> dict:
    """An endpoint's ``response`` mapping: its success shapes, and ``ErrorOut`` for each refusal
    it may answer (the OpenAPI schema then documents them all)."""
    return {**ok, **dict.fromkeys(statuses, schemas.ErrorOut)}


def _error(request, status: int, code: str, message: str, fields=None):
    body = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    fields = {exc.field: str(exc.message)} if exc.field else None
    response = _error(request, exc.status, exc.code, str(exc.message), fields)
    if isinstance(exc, limits.TooManyRequests):
        response["Retry-After"] = str(math.ceil(exc.retry_after))
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields = {}
    for item in exc.errors:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "payload")]
        if location[:1] in (["query"], ["path"], ["header"]):
            location = location[1:]
        name = ".".join(location) or "body"
        message = str(item.get("msg", "Invalid value.")).removeprefix("Value error, ")
        if item.get("type") in ("model_type", "dict_type"):
            message = "Send a JSON object."
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
    specialty: QueryText | None = schemas.Field(None, max_length=100)
    q: QueryText | None = schemas.Field(None, max_length=100)
    near: QueryText | None = schemas.Field(
        None, max_length=50, pattern=r"^-?\d{1,3}(\.\d+)?,-?\d{1,3}(\.\d+)?$"
    )
    radius_km: float = schemas.Field(20, gt=0, le=500)
    mode: str | None = schemas.Field(None, pattern="^(video|in_person)$")
    sort: str = schemas.Field("earliest", pattern="^(" + "|".join(SORTS) + ")$")
    limit: int = schemas.Field(20, ge=1, le=100)
    offset: int = schemas.Field(0, ge=0, le=10000)
    slots: int = schemas.Field(10, ge=0, le=100)


@api.get("/specialties", response=list[schemas.SpecialtyOut], tags=["search"])
def list_specialties(request):
    return [{"code": s.code, "label": s.label} for s in specialties()]


@api.get(
    "/practitioners", response=answers({200: schemas.PractitionerSearchOut}, 422), tags=["search"]
)
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
    motive: Id
    start: Day | None = None
    days: int = schemas.Field(7, ge=1, le=31)


def door_of(user, agenda: Agenda, *, now) -> frozenset[str] | None:
    """The professional audience ``user`` books ``agenda`` with (``visibility.py``): a
    regulator's or a practitioner's of another organisation; None for a patient's door (the
    public, a patient, the agenda's own staff, who book for patients in the practice space)."""
    return visibility.professional_audience(user, agenda)


def reader_audience(user, agenda: Agenda, *, now) -> frozenset[str]:
    """The openings whose slots ``user`` is shown on ``agenda``: a professional's, else a
    patient's (the public's, and the known patients' when the practice knows the account)."""
    door = door_of(user, agenda, now=now)
    if door is not None:
        return door
    if (
        user is not None
        and user.is_authenticated
        and visibility.knows_account(user, agenda, now=now)
    ):
        return visibility.KNOWN_PATIENT
    return visibility.PUBLIC


# A reader's slots depend on their credentials: a bearer token, or the session's cookie.
SLOTS_VARY = ("Authorization", "Cookie")


@api.get(
    "/agendas/{agenda_id}/slots",
    response=answers({200: schemas.AgendaSlotsOut, 304: None}, 401, 404, 422),
    tags=["booking"],
)
def agenda_slots(request, agenda_id: Id, params: Query[SlotParams], response: HttpResponse):
    """The free slots of a motive. Anonymous, the public's; with a patient's credentials (a
    bearer token, or the session), the known patients' too where the practice knows them; with
    a practitioner's of another organisation, the professionals'; with a regulator's, the
    regulation's (SAS) as well (for those two, every active motive, bookable online or not). A
    bearer token that is not valid is a 401.

    The answer has an ``ETag``: send it back in ``If-None-Match`` and, while the slots are the
    same, the answer is a 304 without a body. It changes with any booking or change of the
    agenda, and at least every minute (slots pass out of the booking window as time goes).
    Answers to a reader with credentials are ``private`` and their ETags are the reader's own.
    """
    now = timezone.now()
    # The motive with its agenda in one query (what a 304 costs besides the reader); the agenda
    # alone only when the motive is not one of its own, to tell a 404 from a 422.
    motive = (
        Motive.objects.select_related("agenda__site")
        .filter(pk=params.motive, agenda_id=agenda_id, agenda__is_active=True, is_active=True)
        .first()
    )
    agenda = (
        motive.agenda
        if motive is not None
        else Agenda.objects.select_related("site").filter(pk=agenda_id, is_active=True).first()
    )
    if agenda is None:
        raise Http404
    user = reader_of(request)
    door = door_of(user, agenda, now=now) if user is not None else None
    if door is None and not agenda.online_booking:
        raise Http404
    if motive is None or (door is None and not motive.online):
        raise InvalidInput("This agenda has no such motive.", field="motive")
    audience = door or reader_audience(user, agenda, now=now)
    today = now.astimezone(agenda.zone).date()
    start = params.start or today
    if start < today - timedelta(days=1) or start > today + timedelta(days=366):
        raise InvalidInput("Choose a start date within the coming year.", field="start")
    private = user is not None
    tag = conditional.etag(
        slots_state(agenda, motive, start=start, days=params.days, now=now, audience=audience),
        user.pk if private else "",
    )
    conditional.validated(response, tag, private=private, vary=SLOTS_VARY)
    if conditional.matches(request, tag):
        return Status(304, None)
    slots = slots_for_many(
        [(agenda, motive)], start=start, days=params.days, now=now, audience=audience
    )[agenda.pk]
    return {
        "agenda_id": agenda.pk,
        "motive": motive_out(motive),
        "timezone": agenda.site.timezone,
        "slots": [slot_out(s) for s in slots],
    }


@api.get(
    "/appointments",
    response=answers({200: list[schemas.AppointmentOut]}, 401, 422),
    auth=auth,
    tags=["booking"],
)
def my_appointments(request, upcoming: bool = True):
    """The appointments of the account's own profile and its relatives, whoever booked them."""
    qs = appointments_of(request.auth)
    now = timezone.now()
    qs = qs.filter(end__gte=now) if upcoming else qs.filter(end__lt=now).order_by("-start")
    return [appointment_out(a) for a in qs[:200]]


@api.post(
    "/appointments",
    response=answers(
        {201: schemas.AppointmentOut, 200: schemas.AppointmentOut},
        *(400, 401, 403, 409, 413, 422, 429),
    ),
    auth=auth,
    tags=["booking"],
)
def create_appointment(
    request,
    payload: schemas.AppointmentIn,
    idempotency_key: Annotated[
        QueryText | None, Header(alias="Idempotency-Key", max_length=128)
    ] = None,
):
    """Book a slot for the account's own profile or a relative (a profile is made for a person
    the account has not booked for yet). Retrying with the same Idempotency-Key returns the
    first booking. Every rule of the motive applies as on the patient pages: bookable online,
    online booking not stopped by the practice for this patient (403 ``online_booking_closed``),
    open to new patients (a motive kept for known patients refuses a person not seen yet, 403
    ``closed_to_new_patients``), the booking window; bookings are limited per account, per
    patient and per address (429 with Retry-After)."""
    motive = booking_reads.motive_to_book(agenda_id=payload.agenda, motive_id=payload.motive)
    if motive is None:
        if not Agenda.objects.filter(pk=payload.agenda).exists():
            raise InvalidInput("This agenda does not exist.", field="agenda")
        raise InvalidInput("This agenda has no such motive.", field="motive")
    agenda = motive.agenda
    person = payload.patient
    limits.count_booking(
        limits.visitor_of(request),
        identity=limits.identity_digest(person.first_name, person.last_name, person.birth_date),
    )
    patient = booking.PatientIdentity(**person.model_dump())
    door = door_of(request.auth, agenda, now=timezone.now())
    if door is not None:
        return _book_as_professional(
            request, agenda, motive, patient, door, idempotency_key, start=payload.start
        )
    if payload.follow_up_start is not None:
        return _book_with_follow_up(request, payload, agenda, motive, patient, idempotency_key)
    appointment = booking.book(
        agenda=agenda,
        motive=motive,
        start=payload.start,
        patient=patient,
        booked_by=request.auth,
        channel=Appointment.Channel.API,
        idempotency_key=idempotency_key or None,
        also=lambda booked: notify.appointment_booked(appointment=booked, just_booked=True),
    )
    if appointment.replayed:
        return Status(200, appointment_out(appointment_of(request.auth, appointment.pk)))
    # Made in this request, it carries all the answer shows: no need to read it again.
    return Status(201, appointment_out(appointment))


def _book_with_follow_up(request, payload, agenda, motive, patient, idempotency_key):
    def confirm(first, second) -> None:
        notify.appointment_booked(appointment=first)
        notify.appointment_booked(appointment=second)

    first, second = booking.book_with_follow_up(
        agenda=agenda,
        motive=motive,
        start=payload.start,
        follow_up_start=payload.follow_up_start,
        patient=patient,
        booked_by=request.auth,
        channel=Appointment.Channel.API,
        idempotency_key=idempotency_key or None,
        also=confirm,
    )
    answer = appointment_out(appointment_of(request.auth, first.pk))
    answer["follow_up"] = {
        "id": second.pk,
        "agenda_id": second.agenda_id,
        "motive_id": second.motive_id,
        "start": second.start,
        "end": second.end,
    }
    return Status(200 if first.replayed else 201, answer)


def _book_as_professional(request, agenda, motive, patient, audience, idempotency_key, *, start):
    """A regulator or a practitioner of another organisation books for a patient: in the slots
    of the openings they see, the patient's profile found by identity among those no account
    holds (or created), the practice told by a referral ("Adressé par SAMU 75")."""
    user = request.auth
    regulator = audience == visibility.REGULATOR
    from_org, label = _referrer(user, regulator=regulator)
    with booking.reservation():
        profile = referral_services.profile_for(patient)
        appointment = booking.book(
            agenda=agenda,
            motive=motive,
            start=start,
            patient=profile,
            booked_by=user,
            channel=Appointment.Channel.REGULATOR if regulator else Appointment.Channel.API,
            idempotency_key=idempotency_key or None,
            as_staff=False,
            audience=audience,
        )
        if not appointment.replayed:
            Referral.objects.create(
                appointment=appointment,
                kind=Referral.Kind.REGULATION if regulator else Referral.Kind.PRACTITIONER,
                from_organisation=from_org,
                referrer_label=label,
                referred_by=user,
            )
            notify.appointment_booked(appointment=appointment)
    found = Appointment.objects.select_related(
        "agenda__site", "agenda__practitioner", "motive", "patient"
    ).get(pk=appointment.pk)
    return Status(200 if appointment.replayed else 201, appointment_out(found))


def _referrer(user, *, regulator: bool):
    """(organisation, what the receiving practice reads) for a professional booking."""
    roles = visibility.REGULATION_ROLES if regulator else visibility.STAFF_ROLES
    membership = (
        Membership.objects.filter(user=user, role__in=roles)
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    organisation = membership.organisation if membership else None
    if regulator:
        return organisation, organisation.name if organisation else str(user)
    return organisation, adressage.referrer_label(user, organisation)


@api.post(
    "/appointments/{appointment_id}/cancel",
    response=answers({200: schemas.AppointmentOut}, 400, 401, 403, 404, 409, 413, 422),
    auth=auth,
    tags=["booking"],
)
def cancel_appointment(request, appointment_id: Id, payload: schemas.CancelIn | None = None):
    """Cancel an appointment of the account's own profile or a relative (none other is found).
    The body, optional, is a JSON object: ``{"reason": "..."}``."""
    if payload is None and request.body.strip():
        raise InvalidInput("Send a JSON object, or no body.", field="body")
    appointment = appointment_of(request.auth, appointment_id)
    if appointment is None:
        raise Http404
    patient_services.cancel_appointment(
        user=request.auth, appointment=appointment, reason=payload.reason if payload else ""
    )
    return appointment_out(appointment_of(request.auth, appointment_id))
