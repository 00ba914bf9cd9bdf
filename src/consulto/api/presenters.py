"""Model objects to API dictionaries (no queries here: callers select what is needed)."""

from datetime import UTC

from consulto.scheduling.models import Appointment, Motive
from consulto.scheduling.search import SearchHit


def motive_out(motive: Motive) -> dict:
    return {
        "id": motive.pk,
        "label": motive.label,
        "duration_minutes": motive.duration_minutes,
        "mode": motive.mode,
        "open_to_new_patients": motive.open_to_new_patients,
    }


def site_out(site) -> dict:
    return {
        "id": site.pk,
        "name": site.name,
        "address": site.address,
        "postcode": site.postcode,
        "city": site.city,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "timezone": site.timezone,
    }


def slot_out(slot) -> dict:
    return {"start": slot.start, "end": slot.end, "remaining": slot.remaining}


def hit_out(hit: SearchHit, slots: int) -> dict:
    p = hit.practitioner
    return {
        "id": p.pk,
        "name": p.display_name,
        "specialty": {"code": p.specialty.code, "label": p.specialty.label},
        "languages": [code for code in p.languages.split(",") if code],
        "convention_sector": p.convention_sector,
        "accepts_new_patients": p.accepts_new_patients,
        "video_enabled": p.video_enabled,
        "rpps_status": p.rpps_status,
        "site": site_out(hit.site),
        "distance_km": round(hit.distance_km, 2) if hit.distance_km is not None else None,
        "agenda_id": hit.agenda.pk,
        "motive": motive_out(hit.motive),
        "first_available": hit.first_available,
        "next_slots": [slot_out(s) for s in hit.slots[:slots]],
    }


def appointment_out(a: Appointment) -> dict:
    practitioner = a.agenda.practitioner
    return {
        "id": a.pk,
        "agenda_id": a.agenda_id,
        "practitioner": practitioner.display_name if practitioner else None,
        "site": site_out(a.agenda.site),
        "motive": motive_out(a.motive),
        "patient": (
            {
                "id": a.patient.pk,
                "first_name": a.patient.first_name,
                "last_name": a.patient.last_name,
            }
            if a.patient
            else None
        ),
        # In UTC, as read from the database, also for an appointment just made from a request.
        "start": a.start.astimezone(UTC),
        "end": a.end.astimezone(UTC),
        "status": a.status,
        "channel": a.channel,
        "created_at": a.created_at,
        "cancelled_at": a.cancelled_at,
    }
