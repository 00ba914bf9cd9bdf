"""Hostile input never makes a page fail: every URL pattern of the site (but the API and
Django's admin, tested on their own), as every kind of visitor, with bad values in every
parameter the view reads, answers below 500.

The walk first sends each page a plausible request and notes which query and form parameters
the view reads (tests/core/recording.py); it then sends, one parameter at a time, NUL bytes,
ids past 64 bits, years 0, 1 and 9999, impossible dates and offsets, times skipped by the clock,
empty and 10,000-character strings and values of the wrong type. Each request runs in a
savepoint rolled back after it, so a cancellation or a deletion does not hide what follows.
On SQLite, a query parameter holding a NUL byte is refused as PostgreSQL refuses it.
"""

from __future__ import annotations

import re
import time
import traceback
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from consulto.directory.models import Membership, Organisation, Practitioner
from consulto.fhir import webhooks
from consulto.fhir.partners import create_partner
from consulto.onboarding.models import Journey, Step
from consulto.onboarding.services import finish
from consulto.patients.models import WaitlistEntry
from consulto.practice import feeds, files
from consulto.referral import patient_links
from consulto.referral.models import RegulationCase
from consulto.scheduling import booking
from consulto.scheduling.models import Absence, Appointment, PatientProfile
from consulto.teleconsultation import rooms
from consulto.teleconsultation.models import Delegation
from tests.conftest import at, valid_rpps
from tests.core import recording
from tests.onboarding.conftest import identity_data, schedule_data
from tests.practice.conftest import practice, with_totp  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
# Sent in every parameter the view reads...
ANY = {"nul": "a\x00b", "empty": "", "long": "x" * 10_000}
# ...and, by the kind of value the parameter takes (what its plausible value looks like):
BY_KIND = {
    "id": {"huge": HUGE, "superscript_two": "²", "minus_one": "-1"},
    "date": {
        "year_0": "0000-01-01",
        "year_1": "0001-01-01",
        "year_9999": "9999-12-31",
        "february_30": "2026-02-30",
    },
    "datetime": {
        "instant_year_1": "0001-01-01T00:00:00.0Z",
        "instant_year_9999": "9999-12-31T23:59:59+00:00",
        "offset_99h": "2026-12-14T09:00:00+99:00",
        "spring_gap": "2027-03-28T02:30:00",
    },
    "time": {"time_25h": "25:61", "spring_gap": "02:30"},
    "other": {"huge": HUGE, "superscript_two": "²", "year_9999": "9999-12-31"},
}
# Values that only make sense together: the date of a clock change and a time it skips...
TOGETHER = {
    "spring_gap": {"date": "2027-03-28", "time": "02:30", "datetime": "2027-03-28T02:30"},
    "autumn_twice": {"date": "2026-10-25", "time": "02:30", "datetime": "2026-10-25T02:30"},
    "year_9999": {"date": "9999-12-31", "time": "23:59", "datetime": "9999-12-31T23:59"},
    "year_1": {"date": "0001-01-01", "time": "00:00", "datetime": "0001-01-01T00:00"},
}


def _kind(value) -> str:
    text = str(value)
    if re.fullmatch(r"[0-9]{1,19}", text):
        return "id"
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return "date"
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|[+-][0-9:]+)?", text):
        return "datetime"
    if re.fullmatch(r"[0-9]{2}:[0-9]{2}", text):
        return "time"
    return "other"


PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
SKIPPED_PREFIXES = ("api/", "admin/")


def _patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


@pytest.fixture
def site(practice, django_user_model, settings):  # noqa: F811
    """The practice world, a patient with a relative, an appointment by video with a room and a
    shared document, a waiting list entry, a hold, a blocked period, a delegation, and a
    practitioner half-way through onboarding."""
    settings.RATELIMIT_ENABLE = False
    settings.ACCOUNT_RATE_LIMITS = False
    w = practice
    w.me = PatientProfile.objects.create(
        owner=w.patient_user,
        first_name="Inès",
        last_name="Moreau",
        birth_date=date(1985, 6, 1),
        phone="0611223344",
    )
    w.relative = PatientProfile.objects.create(
        owner=w.patient_user,
        relationship=PatientProfile.Relationship.CHILD,
        first_name="Noé",
        last_name="Moreau",
        birth_date=date(2015, 2, 3),
    )
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=5)
    w.appointment = Appointment.objects.create(
        agenda=w.agenda,
        motive=w.video,
        patient=w.me,
        start=start,
        end=start + timedelta(minutes=15),
        booked_by=w.patient_user,
    )
    w.room = rooms.ensure_room(w.appointment)
    w.shared = rooms.send_document(w.room, by=w.gp_user, name="ordonnance.png", content=PNG)
    w.later = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(w.monday, 10),
        patient=w.me,
        booked_by=w.patient_user,
    )
    w.hold = booking.hold(
        agenda=w.agenda, motive=w.first, start=at(w.monday, 11), held_by=w.patient_user
    )
    w.entry = WaitlistEntry.objects.create(
        user=w.patient_user, patient=w.me, motive=w.first, before=at(w.monday, 9)
    )
    w.absence = Absence.objects.create(
        agenda=w.agenda, start=at(w.monday, 12), end=at(w.monday, 13), reason="Réunion"
    )
    w.opening = w.agenda.openings.order_by("pk").first()
    w.document = files.add_document(user=w.gp_user, file_id=w.file.pk, name="x.png", content=PNG)
    substitute = Practitioner.objects.create(
        title="Dr",
        first_name="Rémy",
        last_name="Remplaçant",
        rpps=valid_rpps(77),
        specialty=w.gp.specialty,
    )
    w.delegation = Delegation.objects.create(
        titular=w.gp,
        substitute=substitute,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(days=3),
        scope=Delegation.Scope.VIDEO,
    )
    w.feed_token = feeds.create_feed(user=w.gp_user, agenda=w.agenda).token
    w.newcomer = django_user_model.objects.create_user(
        email="camille@cabinet.test", password="x" * 12
    )
    with_totp(w.newcomer)
    journey = Journey.objects.create(email=w.newcomer.email, user=w.newcomer, rpps=valid_rpps(55))
    finish(journey, Step.ACCOUNT)
    finish(journey, Step.SECURITY)
    newcomer = Client()
    newcomer.force_login(w.newcomer)
    assert newcomer.post("/pro/demarrage/identite/", identity_data()).status_code == 302
    assert newcomer.post("/pro/demarrage/horaires/", schedule_data()).status_code == 302
    w.samu = Organisation.objects.create(name="SAMU 75", kind=Organisation.Kind.REGULATION_CENTRE)
    w.regulator = django_user_model.objects.create_user(
        email="regulateur@samu75.test", password="x" * 12
    )
    Membership.objects.create(user=w.regulator, organisation=w.samu, role=Membership.Role.ADMIN)
    with_totp(w.regulator)
    w.case = RegulationCase.objects.create(
        centre=w.samu, opened_by=w.regulator, opened_at=timezone.now(), first_name="Louise",
        last_name="Morel", birth_date=date(1988, 4, 2), phone="+33611223344", postcode="75019",
        need="gp_48h",
    )  # fmt: skip
    w.partner, _secret = create_partner(
        name="SIH", kind="organisation", organisation=w.organisation, scopes=["system/Slot.read"]
    )
    w.webhook, _secret = webhooks.create_endpoint(
        organisation_id=w.organisation.pk, url="https://hooks.example.org/in",
        events=["appointment.booked"], by=w.admin,
    )  # fmt: skip
    w.webhook_delivery = webhooks.send_test_event(endpoint=w.webhook)
    return w


def _path_args(w) -> dict[str, dict]:
    """The ids each URL pattern is walked with (objects the visitors may or may not see)."""
    agenda = {"agenda_id": w.agenda.pk}
    return {
        "practitioner": {"pk": w.gp.pk},
        "booking": {"hold_id": w.hold.pk},
        "appointment": {"pk": w.later.pk},
        "cancel": {"pk": w.later.pk},
        "move": {"pk": w.later.pk},
        "calendar_file": {"pk": w.later.pk},
        "waitlist_leave": {"pk": w.entry.pk},
        "relative": {"pk": w.relative.pk},
        "remove_relative": {"pk": w.relative.pk},
        "visio_patient": {"room_id": w.room.pk},
        "visio_documents": {"room_id": w.room.pk},
        "visio_document": {"room_id": w.room.pk, "document_id": w.shared.document_id},
        "visio_practitioner": {"room_id": w.room.pk},
        "visio_send_document": {"room_id": w.room.pk},
        "visio_patient_file": {"room_id": w.room.pk},
        "invitation_resend": {"invitation_id": 1},
        "block": agenda,
        "unblock": {"absence_id": w.absence.pk},
        "practice:appointment": {"pk": w.later.pk},
        "appointment_move": {"pk": w.later.pk},
        "appointment_cancel": {"pk": w.later.pk},
        "appointment_status": {"pk": w.later.pk},
        "appointment_undo_move": {"pk": w.later.pk},
        "file": {"pk": w.file.pk},
        "file_edit": {"pk": w.file.pk},
        "note_add": {"pk": w.file.pk},
        "document_add": {"pk": w.file.pk},
        "file_online_booking": {"pk": w.file.pk},
        "document": {"pk": w.document.pk},
        "settings_policy": {"organisation_id": w.organisation.pk},
        "settings_agenda": agenda,
        "settings_reminders": agenda,
        "settings_regulation": agenda,
        "settings_preview": agenda,
        "settings_motive_new": agenda,
        "settings_motive": agenda | {"pk": w.first.pk},
        "settings_motive_delete": agenda | {"pk": w.first.pk},
        "settings_opening_new": agenda,
        "settings_opening": agenda | {"pk": w.opening.pk},
        "settings_opening_delete": agenda | {"pk": w.opening.pk},
        "settings_absences": agenda,
        "settings_absence_new": agenda,
        "settings_absence_delete": agenda | {"pk": w.absence.pk},
        "feed": agenda,
        "agenda_feed": {"token": w.feed_token},
        "visio_link": {"token": rooms.join_link_token(w.room)},
        "invitation": {"token": "an-unknown-invitation"},
        "mfa_remove_webauthn": {"pk": 1},
        "case": {"pk": w.case.pk},
        "book": {"pk": w.case.pk},
        "extra": {"pk": w.case.pk},
        "close": {"pk": w.case.pk},
        "appointment_page": {"token": patient_links.token_for(w.later)},
        "mfa_edit_webauthn": {"pk": 1},
        "referral_received": {"pk": 1},
        "referral_sent": {"pk": 1},
        "establishment": {"pk": w.organisation.pk, "slug": "etablissement"},
        "request": {"pk": 1},
        "survey": {"token": "an-unknown-survey"},
        "attachment": {"pk": 1},
        "contact": {"pk": 1},
        "contact_entries": {"pk": 1},
        "ticket": {"pk": 1},
        "contact_action": {"pk": 1, "action": "accept"},
        "consult_answer": {"pk": 1},
        "department": {"pk": w.organisation.pk, "slug": "etablissement", "department_id": 1},
        # The FHIR facade's reads (a session reads them as the person): the patient's own
        # appointment and profile, the practice's directory entries, one computed slot.
        "fhir_practitioner": {"logical_id": str(w.gp.pk)},
        "fhir_practitionerrole": {"logical_id": str(w.agenda.pk)},
        "fhir_organization": {"logical_id": str(w.organisation.pk)},
        "fhir_location": {"logical_id": str(w.agenda.site_id)},
        "fhir_healthcareservice": {"logical_id": str(w.first.pk)},
        "fhir_schedule": {"logical_id": str(w.agenda.pk)},
        "fhir_slot": {"logical_id": f"{w.agenda.pk}-{w.first.pk}-{int(w.later.start.timestamp())}"},
        "fhir_appointment": {"logical_id": str(w.later.pk)},
        "fhir_patient": {"logical_id": str(w.me.pk)},
        "integrations_client": {"partner_id": w.partner.pk},
        "integrations_client_revoke": {"partner_id": w.partner.pk},
        "integrations_client_calls": {"partner_id": w.partner.pk},
        **{
            f"webhook_{name}": {"endpoint_id": w.webhook.pk}
            for name in ("edit", "active", "delete", "test", "deliveries")
        },
        "webhook_replay": {"endpoint_id": w.webhook.pk, "delivery_id": w.webhook_delivery.pk},
    }


def _seeds(w) -> dict[str, dict]:
    """A plausible query string or form for the pages whose deeper paths need one: bad values
    replace one of these at a time."""
    day = w.monday.isoformat()
    identity = {
        "first_name": "Jeanne",
        "last_name": "Petit",
        "birth_date": "1950-03-02",
        "phone": "0612345678",
        "email": "jeanne@example.org",
        "ins": "",
    }
    return {
        "home": {"what": "Médecin généraliste", "where": "Paris", "page": "1", "within": "3"},
        "practitioner": {"agenda": str(w.agenda.pk), "motive": str(w.first.pk), "week": day},
        "hold": {
            "agenda": str(w.agenda.pk),
            "motive": str(w.first.pk),
            "start": at(w.monday, 14).isoformat(),
        },
        "booking": {"patient": str(w.me.pk), "idempotency_key": "k1"},
        "move": {"start": at(w.monday, 15).isoformat(), "week": day},
        "waitlist_join": {
            "agenda": str(w.agenda.pk),
            "motive": str(w.first.pk),
            "patient": str(w.me.pk),
            "before": (w.monday + timedelta(days=30)).isoformat(),
        },
        "relatives": {"relationship": "child"} | identity,
        "relative": {"relationship": "child"} | identity,
        "agenda": {"agendas": str(w.agenda.pk), "date": day, "view": "week"},
        "events": {
            "agendas": str(w.agenda.pk),
            "start": day,
            "end": (w.monday + timedelta(days=7)).isoformat(),
        },
        "day_list": {"agendas": str(w.agenda.pk), "date": day},
        "block": {
            "start_date": day,
            "start_time": "12:00",
            "end_date": day,
            "end_time": "13:30",
            "reason": "Formation",
        },
        "appointment_new": {
            "agenda": str(w.agenda.pk),
            "motive": str(w.first.pk),
            "date": day,
            "time": "16:00",
            "patient_kind": "file",
            "file": str(w.file.pk),
            "start": f"{day}T16:00:00Z",
        },
        "file_picker": {"agenda": str(w.agenda.pk), "query": "Petit"},
        "appointment_move": {"date": day, "time": "16:30", "start": f"{day}T16:30:00Z"},
        "appointment_cancel": {"reason": "Médecin absent", "confirmed": "1"},
        "appointment_slots": {
            "agenda": str(w.agenda.pk),
            "motive": str(w.first.pk),
            "date": day,
        },
        "visio_patient_file": {"text": "Tension 12/8"},
        "appointment_status": {"status": "arrived", "next": "agenda"},
        "files": {"q": "Petit", "org": str(w.organisation.pk)},
        "refer": {"file": str(w.file.pk), "specialty": "medecin-generaliste", "place": "Paris"},
        "refer_confirm": {
            "file": str(w.file.pk),
            "agenda": str(w.agenda2.pk),
            "motive": str(w.motive2.pk),
            "start": at(w.monday, 9).isoformat(),
            "token": "0123456789abcdef0123456789abcdef",
            "urgency": "week",
            "reason": "Avis",
        },
        "file_new": identity,
        "file_edit": identity,
        "note_add": {"text": "Allergie à la pénicilline"},
        "new_case": {
            "caller": "patient",
            "caller_name": "",
            "last_name": "Morel",
            "first_name": "Louise",
            "birth_date": "02/04/1988",
            "phone": "0611223344",
            "email": "",
            "postcode": "75019",
            "address": "",
            "need": "gp_48h",
            "specialty": "",
            "reason": "Fièvre",
        },
        "cases": {"outcome": "booked", "days": "7"},
        "book": {
            "agenda": str(w.agenda.pk),
            "motive": str(w.first.pk),
            "start": at(w.monday, 16).isoformat(),
        },
        "file_online_booking": {"allowed": "1"},
        "settings_policy": {f"org{w.organisation.pk}-no_show_limit": "3"},
        "settings_preview": {"du": day},
        "settings_motive_new": {
            "label": "Vaccin",
            "duration_minutes": "15",
            "mode": "in_person",
            "online": "on",
            "min_notice_minutes": "60",
            "max_advance_days": "90",
            "cancellation_deadline_hours": "24",
            "colour": "#2e6fd8",
            "position": "3",
            "is_active": "on",
        },
        "settings_opening_new": {
            "weekday": "5",
            "start_time": "09:00",
            "end_time": "12:00",
            "every_weeks": "1",
            "valid_from": day,
            "valid_until": "",
            "site": str(w.site.pk),
            "motives": str(w.first.pk),
        },
        "settings_absence_new": {
            "start_date": day,
            "start_time": "08:00",
            "end_date": day,
            "end_time": "09:00",
            "reason": "Congé",
        },
        "dashboard": {"org": str(w.organisation.pk), "agenda": str(w.agenda.pk)},
        "audit": {
            "org": str(w.organisation.pk),
            "actor": str(w.gp_user.pk),
            "patient_file": str(w.file.pk),
            "date_from": day,
            "date_to": day,
            "page": "1",
        },
        "team": {"org": str(w.organisation.pk), "secretary": str(w.secretary.pk)},
        "replacements": {
            "substitute": w.gp2.rpps,
            "starts_at": f"{day}T08:00",
            "ends_at": f"{day}T18:00",
            "scope": "video",
            "delegation": str(w.delegation.pk),
        },
        "funnel": {"jours": "30", "type": "self"},
        "identity": identity_data(),
        "schedule": schedule_data(),
        "video": {"enabled": "on", "camera": "true", "microphone": "true", "rtt_ms": "12"},
        "account_login": {"login": w.patient_user.email, "password": "x" * 12},
        "account_signup": {
            "email": "nouveau@example.org",
            "password1": "Un-mot-de-passe-2026",
            "password2": "Un-mot-de-passe-2026",
        },
        "account_reset_password": {"email": w.patient_user.email},
        "integrations_client_new": {
            "org": str(w.organisation.pk),
            "name": "SIH",
            "scopes": "system/Slot.read",
            "rate_per_minute": "600",
        },
        "integrations_client_calls": {"status": "4", "page": "1"},
        "join": {
            "email": "nouveau@cabinet.test",
            "password": "Un-mot-de-passe-2026",
            "rpps": valid_rpps(56),
            "terms": "on",
        },
    }


def _merge(seed: dict, key: str, value) -> dict:
    data = dict(seed)
    data[key] = value
    return data


def _together(seed: dict, keys: set[str], values: dict) -> dict | None:
    data = dict(seed)
    changed = False
    for key in keys:
        name = key.rsplit("-", 1)[-1]
        if name.endswith("date") or name in ("date_from", "date_to", "du", "week", "before"):
            data[key] = values["date"]
        elif name.endswith("time"):
            data[key] = values["time"]
        elif name in ("start", "starts_at", "ends_at"):
            data[key] = values["datetime"]
        else:
            continue
        changed = True
    return data if changed else None


class Walk:
    def __init__(self, w):
        self.w = w
        self.failures: list[str] = []
        self.requests = 0

    def send(self, client, method: str, url: str, data: dict, *, files=None, note: str):
        recording.READ["GET"].clear()
        recording.READ["POST"].clear()
        recording.READ["FILES"].clear()
        self.requests += 1
        try:
            with transaction.atomic():
                if method == "get":
                    response = client.get(url, data)
                else:
                    response = client.post(url, {**data, **(files or {})})
                transaction.set_rollback(True)
        except Exception as error:
            frames = traceback.extract_tb(error.__traceback__)
            where = next(
                (f"{f.filename.split('/src/')[-1]}:{f.lineno}" for f in reversed(frames)
                 if "/consulto/" in f.filename),
                "",
            )  # fmt: skip
            self.failures.append(
                f"{method.upper()} {url[:80]} {note}: {type(error).__name__}: "
                f"{str(error)[:120]} ({where})"
            )
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method.upper()} {url[:80]} {note}: {response.status_code}")
        return response


def _refuse_nul_like_postgresql(execute, sql, params, many, context):
    flat = params if not many else [p for row in params for p in row]
    if any(isinstance(p, str) and "\x00" in p for p in (flat or ())):
        raise ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return execute(sql, params, many, context)


def test_no_page_answers_500_to_hostile_input(site, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.core.recording.RecordReads"]
    w = site
    visitors = {
        "anonymous": None,
        "patient": w.patient_user,
        "practitioner": w.gp_user,
        "secretary": w.secretary,
        "admin": w.admin,
        "newcomer": w.newcomer,
        "regulator": w.regulator,
    }
    path_args = _path_args(w)
    seeds = _seeds(w)
    routes = [(r, p) for r, p in _patterns() if not r.startswith(SKIPPED_PREFIXES)]
    names = {p.name for _r, p in routes} | {"practice:appointment"}
    # A new page with ids in its path needs real ones here, a new form a plausible seed.
    assert not set(seeds) - names and not set(path_args) - names
    assert {
        p.name for r, p in routes if p.pattern.converters and not r.startswith("accounts/")
    } <= set(path_args), "give the walk the ids of the new pages' paths"
    walk = Walk(w)
    began, cpu = time.monotonic(), time.process_time()
    clients = {}
    for who, user in visitors.items():
        clients[who] = Client()
        if user is not None:
            clients[who].force_login(user)
    with connection.execute_wrapper(_refuse_nul_like_postgresql):
        for route, pattern in routes:
            name = pattern.name or route
            url_name = "practice:appointment" if route.startswith("pro/rendez-vous/<") else name
            urls = _urls(route, pattern, path_args.get(url_name, {}))
            seed = seeds.get(name, {})
            skip_post = set()
            for method in ("get", "post"):
                # Every visitor sends the plausible request (a visitor turned away on GET is
                # not sent a POST); the one whose request the view reads furthest then gets the
                # hostile values.
                best = None  # (parameters read, visitor, uploads read)
                for who, client in clients.items():
                    if method == "post" and who in skip_post:
                        continue
                    response = walk.send(
                        client, method, urls["plain"], seed, note=f"as {who} (plain)"
                    )
                    if method == "get" and _turned_away(response):
                        skip_post.add(who)
                    read = set(recording.READ["POST" if method == "post" else "GET"])
                    read -= {"csrfmiddlewaretoken"}
                    if read and (best is None or len(read) > len(best[0])):
                        best = (read, who, set(recording.READ["FILES"]))
                if best is not None:
                    read, who, uploads = best
                    _walk_one(walk, clients[who], method, urls["plain"], seed, read, note=who)
                    if uploads and method == "post":
                        _walk_uploads(walk, clients[who], urls["plain"], seed, uploads, note=who)
            who = "admin" if route.startswith("pro/") else "patient"
            for url in urls["hostile"]:
                walk.send(clients[who], "get", url, {}, note=f"as {who}")
    print(
        f"{walk.requests} requests in {time.monotonic() - began:.1f} s"
        f" ({time.process_time() - cpu:.1f} s of CPU)"
    )
    assert not walk.failures, f"{len(walk.failures)} failures:\n" + "\n".join(walk.failures)
    assert walk.requests > 1000


def _one_of_each_shape(keys) -> list[str]:
    """``d0-s1``, ``d0-e1``... ``m3-label``: one key of each shape is enough (same code)."""
    shapes = {}
    for key in sorted(keys):
        shapes.setdefault(re.sub(r"[0-9]+", "#", key), key)
    return sorted(shapes.values())


def _turned_away(response) -> bool:
    """Not let in: not found, forbidden, or sent to log in."""
    if response is None:
        return False
    location = response.get("Location", "")
    return response.status_code in (403, 404) or "/accounts/login/" in location


def _walk_one(walk: Walk, client, method: str, url: str, seed: dict, keys, *, note: str) -> None:
    for key in _one_of_each_shape(keys):
        values = ANY | BY_KIND[_kind(seed[key]) if key in seed else "other"]
        for label, value in values.items():
            walk.send(client, method, url, _merge(seed, key, value), note=f"{note} {key}={label}")
        walk.send(
            client,
            method,
            url,
            _merge(seed, key, [seed.get(key, "1"), HUGE]),
            note=f"{note} {key}=list",
        )
    for label, values in TOGETHER.items():
        data = _together(seed, keys, values)
        if data is not None:
            walk.send(client, method, url, data, note=f"{note} {label}")


def _walk_uploads(walk: Walk, client, url: str, seed: dict, keys, *, note: str) -> None:
    for key in keys:
        for label, upload in (
            ("nul name", SimpleUploadedFile("a\x00b.png", PNG, content_type="image/png")),
            ("empty", SimpleUploadedFile("vide.pdf", b"", content_type="application/pdf")),
            ("not a document", SimpleUploadedFile("x.exe", b"MZ" * 100)),
        ):
            walk.send(client, "post", url, seed, files={key: upload}, note=f"{note} {key}: {label}")


def _urls(route: str, pattern: URLPattern, args: dict) -> dict:
    """The page's URL with the walk's ids, and with hostile values in each of its segments."""
    converters = pattern.pattern.converters
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if not converters and "(?P<" in route:
        return {"plain": "/accounts/password/reset/key/1-set-password/", "hostile": [
            "/accounts/password/reset/key/" + HUGE + "-x/",
            "/accounts/password/reset/key/1-%00/",
        ]}  # fmt: skip
    values = {n: str(args.get(n, 1)) for n in names}

    def build(changes):
        path = route
        for n in names:
            path = re.sub(rf"<(?:\w+:)?{n}>", changes.get(n, values[n]), path)
        return "/" + path

    hostile = []
    for n in names:
        for value in (HUGE, str(2**63), "%00"):
            hostile.append(build({n: value}))
    return {"plain": build({}), "hostile": hostile}
