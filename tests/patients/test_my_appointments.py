"""My appointments: see, cancel, move, add to a calendar; relatives; only one's own."""

from datetime import date, timedelta

import pytest
from icalendar import Calendar

from consulto.patients import waitlist
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(world, patient, user):
    return booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=user,
    )


@pytest.fixture
def logged(client, user):
    client.force_login(user)
    return client


def test_the_list_shows_upcoming_and_past_appointments(logged, booked, world, patient, user):
    past = Appointment.objects.create(
        agenda=world.agenda,
        motive=world.follow_up,
        patient=patient,
        booked_by=user,
        start=at(world.monday - timedelta(days=28), 10),
        end=at(world.monday - timedelta(days=28), 10, 15),
        status=Appointment.Status.SEEN,
    )
    page = logged.get("/rendez-vous/").content.decode()
    upcoming, _, earlier = page.partition("Passés et annulés")
    assert f"/rendez-vous/{booked.pk}/" in upcoming
    assert f"/rendez-vous/{past.pk}/" in earlier


def test_the_detail_shows_time_place_and_what_can_be_done(logged, booked):
    page = logged.get(f"/rendez-vous/{booked.pk}/").content.decode()
    assert "09:00" in page and "12 rue des Lilas" in page
    assert "Annuler ce rendez-vous" in page and "Déplacer ce rendez-vous" in page


def test_cancelling_frees_the_slot_and_says_so(logged, booked, world, client):
    response = logged.post(f"/rendez-vous/{booked.pk}/annuler/", follow=True)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert "est annulé" in response.content.decode()
    page = client.get(
        f"/praticien/{world.gp.pk}/",
        {"agenda": world.agenda.pk, "motive": world.first.pk, "week": world.monday.isoformat()},
    ).content.decode()
    assert f'value="{at(world.monday, 9).isoformat()}"' in page


def test_too_late_to_cancel_is_explained_and_refused(logged, booked, world):
    world.first.cancellation_deadline_hours = 24 * 20  # next Monday is closer than that
    world.first.save()
    page = logged.get(f"/rendez-vous/{booked.pk}/").content.decode()
    assert "ne peut plus être annulé" in page
    response = logged.post(f"/rendez-vous/{booked.pk}/annuler/", follow=True)
    assert "trop tard" in response.content.decode().lower()
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_moving_books_the_new_time_and_frees_the_old_one(logged, booked, world):
    page = logged.get(f"/rendez-vous/{booked.pk}/deplacer/?week={world.monday}").content.decode()
    assert f'value="{at(world.monday, 10).isoformat()}"' in page
    response = logged.post(
        f"/rendez-vous/{booked.pk}/deplacer/", {"start": at(world.monday, 10).isoformat()}
    )
    moved = Appointment.objects.get(rescheduled_from=booked)
    assert response.url == f"/rendez-vous/{moved.pk}/"
    assert moved.start == at(world.monday, 10) and moved.status == "booked"
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED


def test_moving_onto_a_taken_time_keeps_the_old_appointment(
    logged, booked, world, other_user, patient
):
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 10),
        patient=PatientProfile.objects.create(
            owner=other_user, first_name="Bob", last_name="Roy", birth_date=date(1970, 1, 1)
        ),
        booked_by=other_user,
    )
    response = logged.post(
        f"/rendez-vous/{booked.pk}/deplacer/",
        {"start": at(world.monday, 10).isoformat()},
        follow=True,
    )
    assert "créneau" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_the_calendar_file_holds_the_appointment(logged, booked):
    response = logged.get(f"/rendez-vous/{booked.pk}/calendrier.ics")
    assert response["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == at(booked.start.date(), 9)


@pytest.mark.parametrize(
    "url",
    [
        "/rendez-vous/{pk}/",
        "/rendez-vous/{pk}/deplacer/",
        "/rendez-vous/{pk}/calendrier.ics",
    ],
)
def test_another_accounts_appointment_is_not_found(client, booked, other_user, url):
    client.force_login(other_user)
    assert client.get(url.format(pk=booked.pk)).status_code == 404


def test_another_account_cannot_cancel_or_move(client, booked, other_user, world):
    client.force_login(other_user)
    assert client.post(f"/rendez-vous/{booked.pk}/annuler/").status_code == 404
    move = {"start": at(world.monday, 10).isoformat()}
    assert client.post(f"/rendez-vous/{booked.pk}/deplacer/", move).status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_the_pages_need_a_login(client, booked):
    response = client.get("/rendez-vous/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_relatives_are_added_edited_and_removed(logged, user):
    response = logged.post(
        "/proches/",
        {
            "relationship": "parent",
            "first_name": "Jeanne",
            "last_name": "Durand",
            "birth_date": "1948-02-11",
            "phone": "06 12 34 56 78",
        },
    )
    assert response.status_code == 302
    jeanne = PatientProfile.objects.get(owner=user, first_name="Jeanne")
    assert jeanne.phone == "0612345678"
    # The date field shows the stored date (an <input type=date> needs ISO).
    assert 'value="1948-02-11"' in logged.get(f"/proches/{jeanne.pk}/").content.decode()
    logged.post(
        f"/proches/{jeanne.pk}/",
        {
            "relationship": "parent",
            "first_name": "Jeanne",
            "last_name": "Martin",
            "birth_date": "1948-02-11",
        },
    )
    jeanne.refresh_from_db()
    assert jeanne.last_name == "Martin"
    logged.post(f"/proches/{jeanne.pk}/supprimer/")
    assert not PatientProfile.objects.filter(owner=user, first_name="Jeanne").exists()


def test_someone_elses_relative_is_not_found(client, other_user, user):
    theirs = PatientProfile.objects.create(
        owner=user,
        relationship="child",
        first_name="Tom",
        last_name="D",
        birth_date=date(2015, 1, 1),
    )
    client.force_login(other_user)
    assert client.get(f"/proches/{theirs.pk}/").status_code == 404
    assert client.post(f"/proches/{theirs.pk}/supprimer/").status_code == 404
    assert PatientProfile.objects.filter(pk=theirs.pk, owner=user).exists()


def test_a_relative_with_an_upcoming_appointment_cannot_be_removed(logged, world, user):
    child = PatientProfile.objects.create(
        owner=user,
        relationship="child",
        first_name="Tom",
        last_name="D",
        birth_date=date(2015, 1, 1),
    )
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=child,
        booked_by=user,
    )
    response = logged.post(f"/proches/{child.pk}/supprimer/", follow=True)
    assert "Annulez" in response.content.decode()
    child.refresh_from_db()
    assert child.owner == user


def test_a_moved_appointment_says_where_it_went_with_a_link(logged, booked, world):
    """Not "Motif d'annulation : rescheduled": the patient reads "Déplacé au ..." and can
    follow the link to the new appointment, on its page and in the list."""
    logged.post(f"/rendez-vous/{booked.pk}/deplacer/", {"start": at(world.monday, 10).isoformat()})
    moved = Appointment.objects.get(rescheduled_from=booked)
    page = logged.get(f"/rendez-vous/{booked.pk}/").content.decode()
    assert "Déplacé au" in page and f'href="/rendez-vous/{moved.pk}/"' in page
    assert "10:00" in page
    listing = logged.get("/rendez-vous/").content.decode()
    past = listing.partition("Passés et annulés")[2]
    assert "Déplacé au" in past and f'href="/rendez-vous/{moved.pk}/"' in past
    for text in (page, listing):
        assert "rescheduled" not in text and "Motif d’annulation" not in text


def test_an_appointment_replaced_from_the_waiting_list_links_to_the_earlier_one(
    logged, booked, world, user, other_user
):
    later = booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday + timedelta(days=4), 17),
        patient=booked.patient,
        booked_by=user,
    )
    logged.post("/liste-attente/", {"appointment": later.pk})
    booking.cancel(appointment=booked, by=user)
    made = waitlist.offer(agenda_id=world.agenda.pk, start=booked.start)
    logged.post(f"/reserver/{made.hold.pk}/", {"patient": str(booked.patient_id)})
    later.refresh_from_db()
    assert later.cancel_reason == Appointment.REASON_WAITLIST
    page = logged.get(f"/rendez-vous/{later.pk}/").content.decode()
    assert "Remplacé par un créneau plus tôt" in page
    assert f'href="/rendez-vous/{made.hold.pk}/"' in page
    assert "waiting list)" not in page and "moved earlier" not in page


def test_a_cancellation_says_who_cancelled_and_the_practices_words_only(
    logged, booked, world, user, django_user_model
):
    booking.cancel(appointment=booked, by=user, reason=Appointment.REASON_BY_PATIENT)
    page = logged.get(f"/rendez-vous/{booked.pk}/").content.decode()
    assert "Annulé par vous" in page and "patient</" not in page
    other = booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 11),
        patient=booked.patient,
        booked_by=user,
    )
    secretary = django_user_model.objects.create_user(email="sec@example.org", password="x" * 12)
    booking.cancel(appointment=other, by=secretary, reason="Le docteur est malade", as_staff=True)
    page = logged.get(f"/rendez-vous/{other.pk}/").content.decode()
    assert "Annulé par le cabinet" in page and "Le docteur est malade" in page


def test_cancelling_asks_for_confirmation_with_a_summary_first(logged, booked):
    detail = logged.get(f"/rendez-vous/{booked.pk}/").content.decode()
    # The page's button leads to a question, not to a form that cancels at once.
    assert f'action="/rendez-vous/{booked.pk}/annuler/"' not in detail
    assert f'href="/rendez-vous/{booked.pk}/annuler/"' in detail
    page = logged.get(f"/rendez-vous/{booked.pk}/annuler/").content.decode()
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    assert "Annuler le rendez-vous ?" in page and "09:00" in page
    assert "Première consultation" in page and "Alice Durand" in page
    assert f'action="/rendez-vous/{booked.pk}/annuler/"' in page
    assert "Oui, annuler ce rendez-vous" in page and "Non, le garder" in page


def test_choosing_a_new_time_asks_for_confirmation_before_moving(logged, booked, world):
    page = logged.get(f"/rendez-vous/{booked.pk}/deplacer/?week={world.monday}").content.decode()
    # Slots lead to the question (GET), they do not move anything.
    assert f'<form method="get" action="/rendez-vous/{booked.pk}/deplacer/"' in page
    new = at(world.monday, 10).isoformat()
    question = logged.get(f"/rendez-vous/{booked.pk}/deplacer/", {"start": new})
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    assert not Appointment.objects.filter(rescheduled_from=booked).exists()
    text = question.content.decode()
    assert "Déplacer le rendez-vous\u00a0?" in text and "09:00" in text and "10:00" in text
    assert f'name="start" value="{new}"' in text and "Confirmer le nouvel horaire" in text


@pytest.mark.parametrize("start", ["nonsense", "2026-02-30T10:00:00+01:00", "2026-12-14T10:00"])
def test_a_bad_new_time_is_not_found(logged, booked, start):
    response = logged.get(f"/rendez-vous/{booked.pk}/deplacer/", {"start": start})
    assert response.status_code == 404


def test_a_cancelled_appointment_offers_neither_cancel_nor_move(logged, booked, user):
    booking.cancel(appointment=booked, by=user)
    for url in (f"/rendez-vous/{booked.pk}/annuler/", f"/rendez-vous/{booked.pk}/deplacer/"):
        response = logged.get(url)
        assert response.status_code == 302 and response.url == f"/rendez-vous/{booked.pk}/"


def test_removing_a_relative_asks_for_confirmation_first(logged, user):
    tom = PatientProfile.objects.create(
        owner=user,
        relationship="child",
        first_name="Tom",
        last_name="D",
        birth_date=date(2015, 1, 1),
    )
    page = logged.get(f"/proches/{tom.pk}/").content.decode()
    assert f'action="/proches/{tom.pk}/supprimer/"' not in page
    question = logged.get(f"/proches/{tom.pk}/supprimer/").content.decode()
    tom.refresh_from_db()
    assert tom.owner == user
    assert "Tom D" in question and f'action="/proches/{tom.pk}/supprimer/"' in question
