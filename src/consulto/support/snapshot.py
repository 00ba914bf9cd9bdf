"""The context snapshot: what the server knows of a customer when they ask for help, so that the
agent sees who they are, where they are and how their account is set up before saying hello.

Taken by the server, never typed by the customer: the account and its verification, the
organisations and roles, the RPPS, the page they came from (the request's Referer, this site's
paths only), the onboarding checklist, the agenda settings (motives, openings, online booking,
substitutes), the video device test and the figures of the last calls, the server errors of the
last 24 hours, the browser and system. A patient's holds their upcoming appointments and
relatives. Plain JSON: stored encrypted (``services``), rendered by the console.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.db.models import Count, Q
from django.utils import timezone
from ua_parser import parse as parse_user_agent

from consulto.core import errors_seen
from consulto.directory.models import Membership, Practitioner
from consulto.onboarding import selectors as onboarding
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening, PatientProfile
from consulto.teleconsultation.models import Delegation
from consulto.teleconsultation.quality import summaries_of_user

CALLS_SHOWN = 5
APPOINTMENTS_SHOWN = 5


def take(*, user, page: str = "", user_agent: str = "", now: datetime | None = None) -> dict:
    now = now or timezone.now()
    memberships = list(
        Membership.objects.filter(user=user).select_related("organisation").order_by("id")
    )
    practitioner = (
        Practitioner.objects.filter(user=user).select_related("specialty").first()
        if user.pk
        else None
    )
    professional = bool(memberships) or practitioner is not None
    data = {
        "taken_at": now.isoformat(),
        "professional": professional,
        "account": _account(user),
        "page": page,
        "browser": describe_browser(user_agent),
        "errors": [
            {"at": e.at.isoformat(), "method": e.method, "path": e.path, "error": e.error}
            for e in errors_seen.recent(user.pk, now=now)
        ],
    }
    if professional:
        data["organisations"] = [
            {
                "id": m.organisation_id,
                "name": m.organisation.name,
                "kind": m.organisation.get_kind_display(),
                "role": m.get_role_display(),
            }
            for m in memberships
        ]
        data["practitioner"] = _practitioner(practitioner)
        data["onboarding"] = _onboarding(user)
        data["agendas"] = _agendas(practitioner, memberships, now=now)
        data["video"] = _video(user)
    else:
        data["appointments"] = _upcoming(user, now=now)
        data["relatives"] = list(
            PatientProfile.objects.filter(owner=user)
            .exclude(relationship="self")
            .values_list("first_name", flat=True)[:10]
        )
    return data


def primary_organisation_id(data: dict) -> int | None:
    organisations = data.get("organisations") or []
    return organisations[0]["id"] if organisations else None


def page_of(referer: str, host: str) -> str:
    """The path of the page the customer came from: this site's pages only, never a query
    string (it may carry a search for a patient's name)."""
    if not referer:
        return ""
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != host:
        return ""
    return parts.path[:300]


def describe_browser(user_agent: str) -> dict:
    if not user_agent:
        return {}
    found = parse_user_agent(user_agent[:1000])
    agent, system, device = found.user_agent, found.os, found.device
    return {
        "browser": " ".join(p for p in (agent.family, agent.major) if p) if agent else "",
        "os": " ".join(p for p in (system.family, system.major) if p) if system else "",
        "device": device.family if device and device.family != "Other" else "",
        "mobile": bool(device and device.family not in ("Other", "Mac")),
    }


def _account(user) -> dict:
    verified = EmailAddress.objects.filter(user=user, verified=True).exists()
    mfa = list(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    return {
        "id": user.pk,
        "name": user.get_full_name(),
        "email": user.email,
        "email_verified": verified,
        "mfa": sorted(mfa),
        "joined": user.date_joined.isoformat() if user.date_joined else "",
        "last_login": user.last_login.isoformat() if user.last_login else "",
        "phone": user.phone,
    }


def _practitioner(practitioner: Practitioner | None) -> dict | None:
    if practitioner is None:
        return None
    return {
        "id": practitioner.pk,
        "name": practitioner.display_name,
        "rpps": practitioner.rpps,
        "rpps_status": practitioner.get_rpps_status_display(),
        "specialty": practitioner.specialty.label if practitioner.specialty_id else "",
    }


def _onboarding(user) -> dict | None:
    journey = onboarding.journey_of(user)
    if journey is None:
        return None
    checklist = onboarding.checklist(user)
    return {
        "done": journey.done,
        "progress": checklist.progress if checklist else 100,
        "left": [str(item.label) for item in checklist.items if not item.done] if checklist else [],
    }


def _agendas(practitioner, memberships, *, now: datetime) -> list[dict]:
    filters = Q(practitioner=practitioner) if practitioner is not None else Q(pk__in=[])
    admin_of = [m.organisation_id for m in memberships if m.role == Membership.Role.ADMIN]
    if admin_of:
        filters |= Q(organisation_id__in=admin_of)
    agendas = list(
        Agenda.objects.filter(filters, is_active=True)
        .select_related("site", "organisation")
        .annotate(
            active_motives=Count("motives", filter=Q(motives__is_active=True), distinct=True),
            online_motives=Count(
                "motives",
                filter=Q(motives__is_active=True, motives__online=True),
                distinct=True,
            ),
            video_motives=Count(
                "motives",
                filter=Q(motives__is_active=True, motives__mode=Motive.Mode.VIDEO),
                distinct=True,
            ),
        )
        .order_by("id")[:10]
    )
    today = now.date()
    openings = Opening.objects.filter(agenda__in=agendas).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    hours: dict[int, float] = {}
    days: dict[int, set[int]] = {}
    for opening in openings.only("agenda_id", "weekday", "start_time", "end_time", "every_weeks"):
        start = opening.start_time.hour * 60 + opening.start_time.minute
        end = opening.end_time.hour * 60 + opening.end_time.minute
        weekly = (end - start) / 60 / max(1, opening.every_weeks)
        hours[opening.agenda_id] = hours.get(opening.agenda_id, 0) + weekly
        days.setdefault(opening.agenda_id, set()).add(opening.weekday)
    substitutes = _substitutes(practitioner, now=now)
    return [
        {
            "id": agenda.pk,
            "name": agenda.name,
            "organisation": agenda.organisation.name,
            "site": agenda.site.city if agenda.site_id else "",
            "online_booking": agenda.online_booking,
            "motives": agenda.active_motives,
            "online_motives": agenda.online_motives,
            "video_motives": agenda.video_motives,
            "weekly_hours": round(hours.get(agenda.pk, 0), 1),
            "open_days": len(days.get(agenda.pk, ())),
            "substitutes": substitutes
            if agenda.practitioner_id == getattr(practitioner, "pk", None)
            else [],
        }
        for agenda in agendas
    ]


def _substitutes(practitioner, *, now: datetime) -> list[dict]:
    if practitioner is None:
        return []
    delegations = (
        Delegation.objects.filter(titular=practitioner, revoked_at__isnull=True, ends_at__gte=now)
        .select_related("substitute")
        .order_by("starts_at")[:5]
    )
    return [
        {
            "name": d.substitute.display_name,
            "from": d.starts_at.isoformat(),
            "until": d.ends_at.isoformat(),
            "scope": d.get_scope_display(),
        }
        for d in delegations
    ]


def _video(user) -> dict:
    journey = onboarding.journey_of(user)
    calls = []
    for summary in summaries_of_user(user)[:CALLS_SHOWN]:
        calls.append(
            {
                "at": summary.created_at.isoformat(),
                "rtt_ms": summary.rtt_ms_median,
                "jitter_ms": summary.jitter_ms_p95,
                "loss_percent": summary.loss_percent_max,
                "bitrate_kbps": summary.bitrate_kbps_median,
                "freezes": summary.freeze_count,
                "flagged": summary.flagged,
            }
        )
    return {"device_check": (journey.device_check if journey else None) or {}, "calls": calls}


def _upcoming(user, *, now: datetime) -> list[dict]:
    appointments = (
        Appointment.objects.filter(patient__owner=user, start__gte=now - timedelta(hours=2))
        .exclude(
            status__in=[
                Appointment.Status.CANCELLED,
                Appointment.Status.EXPIRED,
                Appointment.Status.HELD,
            ]
        )
        .select_related("agenda__practitioner", "agenda__site", "motive", "patient")
        .order_by("start")[:APPOINTMENTS_SHOWN]
    )
    return [
        {
            "id": a.pk,
            "start": a.start.isoformat(),
            "status": a.get_status_display(),
            "with": a.agenda.practitioner.display_name
            if a.agenda.practitioner_id
            else a.agenda.name,
            "mode": a.motive.get_mode_display() if a.motive_id else "",
            "for": a.patient.first_name,
        }
        for a in appointments
    ]
