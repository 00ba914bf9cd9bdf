"""Every rule of a motive holds on every door: the scheduling core, the patient pages, the API,
the waiting list, and the practice space where the rule binds staff (never for "online only",
"new patients", the agenda's online switch, online booking stopped for the patient or the
booking window; always for an inactive agenda or overlap)."""

import html
import json
from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from consulto.api.models import ApiToken
from consulto.patients import waitlist
from consulto.practice import services as practice_services
from consulto.scheduling import booking, rules
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept_for_known(world):
    """The follow-up consultation is kept for patients the practitioner has already seen."""
    world.follow_up.open_to_new_patients = False
    world.follow_up.save()
    return world.follow_up


def seen_before(world, patient, *, days_ago=30, status=Appointment.Status.SEEN, agenda=None):
    start = at(timezone.localdate() - timedelta(days=days_ago), 10)
    lapses = timezone.now() + timedelta(minutes=5) if status == Appointment.Status.HELD else None
    return Appointment.objects.create(
        agenda=agenda or world.agenda, motive=world.first, patient=patient, start=start,
        end=start + timedelta(minutes=30), status=status, booked_by=patient.owner,
        hold_expires_at=lapses,
    )  # fmt: skip


def book(world, patient, user, *, start=None, motive=None, **kwargs):
    return booking.book(
        agenda=world.agenda, motive=motive or world.follow_up,
        start=start or at(world.monday, 9), patient=patient, booked_by=user, **kwargs,
    )  # fmt: skip


# The scheduling core -----------------------------------------------------------------------------


def test_a_new_patient_cannot_book_a_motive_kept_for_known_patients(
    world, patient, user, kept_for_known
):
    with pytest.raises(rules.NewPatientsNotAccepted):
        book(world, patient, user)
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()


def test_a_patient_seen_by_the_practitioner_before_may_book_it(
    world, patient, user, kept_for_known
):
    seen_before(world, patient)
    assert book(world, patient, user).status == Appointment.Status.BOOKED


@pytest.mark.parametrize(
    "status", [Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW, Appointment.Status.HELD]
)
def test_an_appointment_that_did_not_take_place_does_not_make_a_patient_known(
    world, patient, user, kept_for_known, status
):
    seen_before(world, patient, status=status)
    with pytest.raises(rules.NewPatientsNotAccepted):
        book(world, patient, user)


def test_an_appointment_still_to_come_does_not_make_a_patient_known(
    world, patient, user, kept_for_known
):
    book(world, patient, user, motive=world.first, start=at(world.monday, 10))
    with pytest.raises(rules.NewPatientsNotAccepted):
        book(world, patient, user)


def test_being_known_to_another_practitioner_is_not_enough(world, patient, user, kept_for_known):
    from tests.api.test_api import add_practitioners

    add_practitioners(world, 1)
    colleague = world.organisation.agendas.exclude(pk=world.agenda.pk).get()
    seen_before(world, patient, agenda=colleague)
    with pytest.raises(rules.NewPatientsNotAccepted):
        book(world, patient, user)


def test_a_motive_for_staff_only_is_refused_online(world, patient, user):
    world.follow_up.online = False
    world.follow_up.save()
    with pytest.raises(rules.NotBookableOnline):
        book(world, patient, user)
    with pytest.raises(rules.NotBookableOnline):
        booking.hold(
            agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 9), held_by=None
        )


def test_an_agenda_closed_to_online_booking_refuses_online_bookings(world, patient, user):
    world.agenda.online_booking = False
    world.agenda.save()
    with pytest.raises(rules.NotBookableOnline) as refused:
        book(world, patient, user)
    assert refused.value.field == "agenda"


def test_an_inactive_motive_or_agenda_is_refused_to_everyone(world, patient, user):
    world.follow_up.is_active = False
    world.follow_up.save()
    with pytest.raises(rules.MotiveNotOffered):
        book(world, patient, user, as_staff=True)
    world.follow_up.is_active = True
    world.follow_up.save()
    world.agenda.is_active = False
    world.agenda.save()
    with pytest.raises(rules.AgendaClosed):
        book(world, patient, user, as_staff=True)


def test_the_booking_window_says_what_is_wrong(world, patient, user):
    world.follow_up.min_notice_minutes = 48 * 60
    world.follow_up.max_advance_days = 14
    world.follow_up.save()
    soon = timezone.now() + timedelta(hours=2)
    with pytest.raises(rules.OutsideBookingWindow, match="au moins 48 heures"):
        book(world, patient, user, start=soon)
    with pytest.raises(rules.OutsideBookingWindow, match="au plus 14 jours"):
        book(world, patient, user, start=at(world.monday + timedelta(days=21), 9))
    with pytest.raises(rules.OutsideBookingWindow, match="Cet horaire est passé"):
        book(world, patient, user, start=at(world.monday - timedelta(days=21), 9))


def test_staff_are_exempt_from_the_online_rules_but_not_from_overlap(
    world, patient, user, kept_for_known
):
    world.follow_up.online = False
    world.follow_up.min_notice_minutes = 7 * 24 * 60
    world.follow_up.save()
    world.agenda.online_booking = False
    world.agenda.save()
    start = at(world.monday, 12, 30)  # lunch break: outside the openings too
    made = book(world, patient, user, start=start, as_staff=True)
    assert made.status == Appointment.Status.BOOKED
    with pytest.raises(booking.SlotTaken):
        book(world, patient, user, start=start, as_staff=True)


def test_a_patient_moving_an_appointment_stays_within_the_online_rules(
    world, patient, user, kept_for_known
):
    seen_before(world, patient)
    appointment = book(world, patient, user)
    world.follow_up.online = False
    world.follow_up.save()
    with pytest.raises(rules.NotBookableOnline):
        booking.reschedule(appointment=appointment, new_start=at(world.monday, 10), by=user)
    moved = booking.reschedule(
        appointment=appointment, new_start=at(world.monday, 10), by=user, as_staff=True
    )
    assert moved.status == Appointment.Status.BOOKED


@pytest.fixture
def stopped(world, patient):
    """The practice stopped online booking for Alice (by hand from her file, or after too many
    no-shows)."""
    rules.set_online_booking(
        organisation_id=world.organisation.pk, profile_id=patient.pk, allowed=False
    )
    return patient


def test_a_patient_stopped_online_cannot_book_online_but_staff_may_book_her(
    world, patient, user, stopped
):
    with pytest.raises(rules.OnlineBookingClosed):
        book(world, patient, user)
    assert not Appointment.objects.exists()
    assert book(world, patient, user, as_staff=True).status == Appointment.Status.BOOKED


def test_online_booking_stopped_binds_one_patient_at_one_organisation_until_reopened(
    world, patient, user, stopped
):
    son = PatientProfile.objects.create(
        owner=user, first_name="Tom", last_name="Durand", birth_date=date(2015, 1, 1),
        relationship=PatientProfile.Relationship.CHILD,
    )  # fmt: skip
    assert book(world, son, user).status == Appointment.Status.BOOKED
    elsewhere = booking.book(
        agenda=world.line, motive=world.flu, start=at(world.monday, 10), patient=patient,
        booked_by=user,
    )  # fmt: skip
    assert elsewhere.status == Appointment.Status.BOOKED
    rules.set_online_booking(
        organisation_id=world.organisation.pk, profile_id=patient.pk, allowed=True
    )
    again = book(world, patient, user, start=at(world.monday, 11))
    assert again.status == Appointment.Status.BOOKED


# The API -----------------------------------------------------------------------------------------


def api_book(client, token, world, *, motive=None, start=None, patient=None):
    body = {
        "agenda": world.agenda.pk,
        "motive": (motive or world.follow_up).pk,
        "start": (start or at(world.monday, 9)).isoformat(),
        "patient": patient
        or {"first_name": "Nouveau", "last_name": "Patient", "birth_date": "1990-01-01"},
    }
    return client.post(
        "/api/v1/appointments",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_api_refuses_a_brand_new_profile_on_a_motive_kept_for_known_patients(
    client, world, user, kept_for_known
):
    _t, token = ApiToken.issue(user)
    response = api_book(client, token, world)
    assert response.status_code == 403
    assert response.json()["error"] == "closed_to_new_patients"
    assert response.json()["fields"] == {"motive": response.json()["message"]}
    # Refused before anything is written: no appointment, no profile.
    assert not Appointment.objects.exists() and not PatientProfile.objects.exists()


def test_the_api_books_it_for_a_profile_the_practitioner_has_seen(
    client, world, user, patient, kept_for_known
):
    seen_before(world, patient)
    _t, token = ApiToken.issue(user)
    identity = {"first_name": "alice", "last_name": "DURAND", "birth_date": "1980-05-17"}
    response = api_book(client, token, world, patient=identity)
    assert response.status_code == 201, response.content
    assert response.json()["patient"]["id"] == patient.pk


def test_the_api_refuses_a_staff_only_motive_and_an_agenda_closed_online(client, world, user):
    _t, token = ApiToken.issue(user)
    world.video.online = False
    world.video.save()
    response = api_book(client, token, world, motive=world.video)
    assert (response.status_code, response.json()["error"]) == (403, "not_bookable_online")
    world.agenda.online_booking = False
    world.agenda.save()
    response = api_book(client, token, world)
    assert (response.status_code, response.json()["error"]) == (403, "not_bookable_online")
    assert "agenda" in response.json()["fields"]


def test_the_api_refuses_a_time_outside_the_booking_window(client, world, user):
    world.follow_up.max_advance_days = 3
    world.follow_up.save()
    _t, token = ApiToken.issue(user)
    response = api_book(client, token, world, start=at(world.monday + timedelta(days=7), 9))
    assert (response.status_code, response.json()["error"]) == (422, "outside_booking_window")
    assert "start" in response.json()["fields"]


def test_the_api_refuses_a_patient_the_practice_stopped_online(
    client, world, user, patient, stopped
):
    _t, token = ApiToken.issue(user)
    identity = {"first_name": "Alice", "last_name": "Durand", "birth_date": "1980-05-17"}
    response = api_book(client, token, world, patient=identity)
    assert (response.status_code, response.json()["error"]) == (403, "online_booking_closed")
    assert not Appointment.objects.exists()


# The patient pages -------------------------------------------------------------------------------


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user(email="lea@example.org", password="x" * 12)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    PatientProfile.objects.create(
        owner=user, first_name="Léa", last_name="Roux", birth_date=date(1990, 2, 3)
    )
    return user


def hold_and_confirm(client, world, motive, profile):
    held = client.post(
        "/reserver/",
        {"agenda": world.agenda.pk, "motive": motive.pk, "start": at(world.monday, 9).isoformat()},
    )
    assert held.status_code == 302 and "/reserver/" in held.url, held
    return client.post(held.url, {"patient": str(profile.pk), "idempotency_key": "k"})


def test_the_booking_page_refuses_a_new_patient_and_lets_her_choose_someone_else(
    client, world, member, kept_for_known
):
    client.force_login(member)
    lea = member.patient_profiles.get()
    response = hold_and_confirm(client, world, kept_for_known, lea)
    assert response.status_code == 200
    assert "réservé aux patients déjà suivis" in response.content.decode()
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()
    seen_before(world, lea)
    response = client.post(response.wsgi_request.path, {"patient": str(lea.pk)})
    assert response.status_code == 302
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED, patient=lea).exists()


def test_the_patient_pages_do_not_hold_a_slot_too_soon(client, world):
    world.first.min_notice_minutes = 30 * 24 * 60
    world.first.save()
    response = client.post(
        "/reserver/",
        {"agenda": world.agenda.pk, "motive": world.first.pk,
         "start": at(world.monday, 9).isoformat()},
        follow=True,
    )  # fmt: skip
    assert "au moins 720 heures à l’avance" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_waiting_list_refuses_a_new_patient_on_a_motive_kept_for_known_patients(
    client, world, member, kept_for_known
):
    lea = member.patient_profiles.get()
    with pytest.raises(rules.NewPatientsNotAccepted):
        waitlist.join(user=member, patient=lea, motive=kept_for_known, before=at(world.monday, 18))
    client.force_login(member)
    response = client.post(
        "/liste-attente/",
        {"agenda": world.agenda.pk, "motive": kept_for_known.pk, "patient": lea.pk,
         "before": (world.monday + timedelta(days=3)).isoformat()},
        follow=True,
    )  # fmt: skip
    assert "réservé aux patients déjà suivis" in response.content.decode()


def test_the_booking_page_tells_a_patient_stopped_online_to_call(client, world, member):
    lea = member.patient_profiles.get()
    rules.set_online_booking(
        organisation_id=world.organisation.pk, profile_id=lea.pk, allowed=False
    )
    client.force_login(member)
    response = hold_and_confirm(client, world, world.first, lea)
    assert response.status_code == 302
    page = html.unescape(client.get(response.url).content.decode())
    assert "Ce cabinet n'accepte plus de réservation en ligne pour ce patient" in page
    assert not Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()


def test_the_waiting_list_neither_takes_nor_offers_a_slot_to_a_patient_stopped_online(
    world, user, patient, member
):
    lea = member.patient_profiles.get()
    later = at(world.monday + timedelta(days=30), 0)
    alice = waitlist.join(user=user, patient=patient, motive=world.first, before=later)
    waitlist.join(user=member, patient=lea, motive=world.first, before=later)
    rules.set_online_booking(
        organisation_id=world.organisation.pk, profile_id=patient.pk, allowed=False
    )
    with pytest.raises(rules.OnlineBookingClosed):
        waitlist.join(user=user, patient=patient, motive=world.follow_up, before=later)
    freed = book(world, lea, member, motive=world.first)
    booking.cancel(appointment=freed, by=member)
    made = waitlist.offer(agenda_id=world.agenda.pk, start=freed.start)
    # Alice waited first, but could not take it: the slot is held for Léa, who can.
    assert made.entry.patient == lea
    alice.refresh_from_db()
    assert alice.status == "waiting"


# The practice space ------------------------------------------------------------------------------


def test_staff_book_a_new_patient_on_a_motive_kept_for_known_patients_and_staff_only(
    practice, kept_for_known
):
    w = practice
    kept_for_known.online = False
    kept_for_known.save()
    made = practice_services.book_for_patient(
        user=w.secretary, agenda_id=w.agenda.pk, motive_id=kept_for_known.pk,
        start=at(w.monday, 9), new_patient={
            "first_name": "Paul", "last_name": "Neuf", "birth_date": date(1985, 6, 1),
            "phone": "0611223344",
        },
    )  # fmt: skip
    assert made.status == Appointment.Status.BOOKED


def test_staff_cannot_book_into_an_inactive_agenda(practice):
    w = practice
    w.agenda.is_active = False
    w.agenda.save()
    with pytest.raises(rules.AgendaClosed):
        practice_services.book_for_patient(
            user=w.secretary, agenda_id=w.agenda.pk, motive_id=w.follow_up.pk,
            start=at(w.monday, 9), file_id=w.file.pk,
        )  # fmt: skip
