"""The patient side shows an account the appointments of the profiles it owns, whoever booked
them, and nothing else: having booked an appointment (a secretary by phone) gives no access."""

import json

import pytest

from consulto.api.models import ApiToken
from consulto.core.errors import PermissionDenied
from consulto.practice import services as practice_services
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def by_phone(practice):
    """The secretary books Jeanne Petit (a patient without an account) by phone."""
    w = practice
    return practice_book(w, w.profile, at(w.monday, 9))


def practice_book(w, profile, start):
    return practice_services.book_for_patient(
        user=w.secretary, agenda_id=w.agenda.pk, motive_id=w.follow_up.pk, start=start,
        file_id=w.file.pk,
    )  # fmt: skip


@pytest.mark.parametrize(
    "url", ["/rendez-vous/{pk}/", "/rendez-vous/{pk}/calendrier.ics", "/rendez-vous/{pk}/deplacer/"]
)
def test_the_staff_who_booked_does_not_see_it_on_the_patient_pages(client, practice, by_phone, url):
    client.force_login(practice.secretary)
    assert client.get(url.format(pk=by_phone.pk)).status_code == 404
    assert f"/rendez-vous/{by_phone.pk}/" not in client.get("/rendez-vous/").content.decode()


def test_the_staff_who_booked_cannot_cancel_or_move_it_from_the_patient_pages(
    client, practice, by_phone
):
    client.force_login(practice.secretary)
    assert client.post(f"/rendez-vous/{by_phone.pk}/annuler/").status_code == 404
    move = {"start": at(practice.monday, 10).isoformat()}
    assert client.post(f"/rendez-vous/{by_phone.pk}/deplacer/", move).status_code == 404
    waitlist = {"appointment": by_phone.pk}
    assert client.post("/liste-attente/", waitlist).status_code == 404
    by_phone.refresh_from_db()
    assert by_phone.status == Appointment.Status.BOOKED


def test_the_staff_who_booked_does_not_list_or_cancel_it_through_the_api(
    client, practice, by_phone
):
    _token, secret = ApiToken.issue(practice.secretary)
    headers = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/v1/appointments", headers=headers)
    assert listed.status_code == 200 and listed.json() == []
    cancel = client.post(
        f"/api/v1/appointments/{by_phone.pk}/cancel",
        data=json.dumps({}),
        content_type="application/json",
        headers=headers,
    )
    assert cancel.status_code == 404
    by_phone.refresh_from_db()
    assert by_phone.status == Appointment.Status.BOOKED


def test_the_scheduling_core_refuses_a_patient_side_change_by_the_booker(practice, by_phone):
    with pytest.raises(PermissionDenied):
        booking.cancel(appointment=by_phone, by=practice.secretary)


def test_the_patient_sees_and_cancels_what_staff_booked_for_her(client, practice, patient, user):
    """A patient with an account, booked by phone for her own profile: it is hers."""
    w = practice
    appointment = booking.book(
        agenda=w.agenda, motive=w.follow_up, start=at(w.monday, 10), patient=patient,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY, as_staff=True,
    )  # fmt: skip
    client.force_login(user)
    assert client.get(f"/rendez-vous/{appointment.pk}/").status_code == 200
    assert client.get(f"/rendez-vous/{appointment.pk}/calendrier.ics").status_code == 200
    client.post(f"/rendez-vous/{appointment.pk}/annuler/")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_a_relatives_appointment_is_the_accounts_whoever_booked_it(client, practice, user):
    from datetime import date

    from consulto.scheduling.models import PatientProfile

    w = practice
    child = PatientProfile.objects.create(
        owner=user, relationship="child", first_name="Léo", last_name="Durand",
        birth_date=date(2015, 4, 1),
    )  # fmt: skip
    appointment = booking.book(
        agenda=w.agenda, motive=w.follow_up, start=at(w.monday, 11), patient=child,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY, as_staff=True,
    )  # fmt: skip
    _token, secret = ApiToken.issue(user)
    listed = client.get("/api/v1/appointments", headers={"Authorization": f"Bearer {secret}"})
    assert [a["id"] for a in listed.json()] == [appointment.pk]


def test_a_former_owner_of_a_relative_loses_access(client, world, user, patient):
    """A profile handed to someone else (or forgotten): the account that booked it loses it."""
    appointment = booking.book(
        agenda=world.agenda, motive=world.follow_up, start=at(world.monday, 9), patient=patient,
        booked_by=user,
    )  # fmt: skip
    patient.owner = None
    patient.save(update_fields=["owner"])
    client.force_login(user)
    assert client.get(f"/rendez-vous/{appointment.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        booking.cancel(appointment=appointment, by=user)
