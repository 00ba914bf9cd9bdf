"""The booking flow: a slot is held when chosen, then booked for the patient or a relative."""

import re
from datetime import date, time, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from consulto.notifications import services as notifications
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, PatientProfile
from tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model):
    user = django_user_model.objects.create_user(
        email="lea@example.org", password="Un-mot-de-passe-2026"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def choose(client, world, hour=9, motive=None):
    motive = motive or world.first
    return client.post(
        "/reserver/",
        {
            "agenda": world.agenda.pk,
            "motive": motive.pk,
            "start": at(world.monday, hour).isoformat(),
        },
    )


def seconds_left(page: str) -> int:
    return int(re.search(r'class="countdown" data-seconds="(\d+)"', page)[1])


def held_of(response) -> Appointment:
    return Appointment.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def test_choosing_a_slot_holds_it_for_a_few_minutes_even_before_login(client, world):
    response = choose(client, world)
    held = held_of(response)
    assert held.status == Appointment.Status.HELD and held.booked_by is None
    page = client.get(response.url).content.decode()
    assert "Connectez-vous pour confirmer" in page
    assert 410 <= seconds_left(page) <= 420  # CONSULTO_HOLD_MINUTES, counted by the server
    # The slot is no longer offered to others while held.
    other = client.__class__()
    assert other.post(
        "/reserver/",
        {"agenda": world.agenda.pk, "motive": world.first.pk, "start": held.start.isoformat()},
    ).url.startswith(f"/praticien/{world.gp.pk}/")


def test_a_patient_books_for_herself_after_giving_her_identity_once(client, world, member):
    response = choose(client, world)
    client.force_login(member)
    page = client.get(response.url)
    assert "Vos informations" in page.content.decode()
    client.post(
        response.url,
        {"me-first_name": "Léa", "me-last_name": "Roux", "me-birth_date": "1990-04-02"},
    )
    me = PatientProfile.objects.get(owner=member, relationship="self")
    done = client.post(response.url, {"patient": str(me.pk), "idempotency_key": "k1"})
    appointment = Appointment.objects.get(status="booked", booked_by=member)
    assert done.url == f"/rendez-vous/{appointment.pk}/"
    assert appointment.patient == me
    assert appointment.start == at(world.monday, 9)
    notifications.deliver_due()  # what the task worker does
    assert [m.to for m in mail.outbox] == [["lea@example.org"]]
    assert "Rendez-vous confirmé" in mail.outbox[0].subject


def test_a_patient_books_for_a_new_relative_in_the_same_step(client, world, member):
    PatientProfile.objects.create(
        owner=member, first_name="Léa", last_name="Roux", birth_date=date(1990, 4, 2)
    )
    response = choose(client, world)
    client.force_login(member)
    client.post(
        response.url,
        {
            "patient": "new",
            "new-relationship": "child",
            "new-first_name": "Hugo",
            "new-last_name": "Roux",
            "new-birth_date": "2019-09-01",
            "idempotency_key": "k2",
        },
    )
    appointment = Appointment.objects.get(status="booked")
    assert appointment.patient.first_name == "Hugo"
    assert appointment.patient.owner == member and appointment.patient.relationship == "child"


def test_missing_relative_details_are_explained_next_to_each_field(client, world, member):
    PatientProfile.objects.create(
        owner=member, first_name="Léa", last_name="Roux", birth_date=date(1990, 4, 2)
    )
    response = choose(client, world)
    client.force_login(member)
    page = client.post(response.url, {"patient": "new", "new-birth_date": "2090-01-01"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ce champ est obligatoire." in html
    assert "La date de naissance ne peut pas être dans le futur." in html
    assert 'aria-invalid="true"' in html
    assert not Appointment.objects.filter(status="booked").exists()


def test_a_double_click_on_confirm_books_once(client, world, member):
    me = PatientProfile.objects.create(
        owner=member, first_name="Léa", last_name="Roux", birth_date=date(1990, 4, 2)
    )
    response = choose(client, world)
    client.force_login(member)
    first = client.post(response.url, {"patient": str(me.pk), "idempotency_key": "same"})
    client.get("/")
    again = client.post(response.url, {"patient": str(me.pk), "idempotency_key": "same"})
    assert Appointment.objects.filter(status="booked").count() == 1
    assert again.status_code in (302, 404) and first.status_code == 302


def test_a_slot_taken_meanwhile_says_so_and_shows_fresh_slots(client, world, other_user, patient):
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=other_user,
    )
    response = choose(client, world)
    assert response.status_code == 302 and "/praticien/" in response.url
    page = client.get(response.url).content.decode()
    assert "vient d&#x27;être pris" in page or "vient d’être pris" in page
    assert f'value="{at(world.monday, 9).isoformat()}"' not in page
    assert f'value="{at(world.monday, 9, 30).isoformat()}"' in page


def test_a_lapsed_hold_still_books_when_the_slot_is_free(client, world, member):
    me = PatientProfile.objects.create(
        owner=member, first_name="Léa", last_name="Roux", birth_date=date(1990, 4, 2)
    )
    client.force_login(member)
    response = choose(client, world)
    Appointment.objects.filter(status="held").update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    page = client.get(response.url).content.decode()
    assert "sont écoulées" in page
    client.post(response.url, {"patient": str(me.pk), "idempotency_key": "k3"})
    assert Appointment.objects.filter(status="booked", start=at(world.monday, 9)).exists()


def test_a_lapsed_hold_taken_by_someone_else_sends_back_to_fresh_slots(
    client, world, member, other_user, patient
):
    me = PatientProfile.objects.create(
        owner=member, first_name="Léa", last_name="Roux", birth_date=date(1990, 4, 2)
    )
    client.force_login(member)
    response = choose(client, world)
    Appointment.objects.filter(status="held").update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(world.monday, 9),
        patient=patient,
        booked_by=other_user,
    )
    done = client.post(response.url, {"patient": str(me.pk), "idempotency_key": "k4"})
    assert "/praticien/" in done.url
    assert "a été pris entre-temps" in client.get(done.url).content.decode()
    assert Appointment.objects.filter(booked_by=member, status="booked").count() == 0


def test_choosing_another_slot_gives_the_first_one_back(client, world):
    first = held_of(choose(client, world, hour=9))
    second = held_of(choose(client, world, hour=10))
    first.refresh_from_db()
    assert first.status == Appointment.Status.EXPIRED
    assert second.status == Appointment.Status.HELD


def test_someone_elses_hold_page_is_not_found(client, world):
    response = choose(client, world)
    stranger = client.__class__()
    assert stranger.get(response.url).status_code == 404


def test_a_motive_reserved_to_known_patients_asks_first(client, world):
    world.follow_up.open_to_new_patients = False
    world.follow_up.save()
    url = f"/praticien/{world.gp.pk}/?agenda={world.agenda.pk}"
    page = client.get(url).content.decode()
    assert "Avez-vous déjà consulté ce praticien" in page
    new = client.get(url + "&known=no").content.decode()
    assert world.follow_up.label not in new and world.first.label in new
    known = client.get(url + "&known=yes").content.decode()
    assert world.follow_up.label in known


def test_the_practitioner_page_shows_a_week_of_slots_per_motive(client, world):
    page = client.get(
        f"/praticien/{world.gp.pk}/",
        {"agenda": world.agenda.pk, "motive": world.first.pk, "week": world.monday.isoformat()},
    ).content.decode()
    assert "12 rue des Lilas" in page
    assert f'value="{at(world.monday, 9).isoformat()}"' in page
    assert f'value="{at(world.monday, 11, 30).isoformat()}"' in page
    assert f'value="{at(world.monday, 11, 45).isoformat()}"' not in page  # 30 min must fit
    assert "Semaine suivante" in page


def test_the_week_view_answers_htmx_with_the_fragment_only(client, world):
    response = client.get(
        f"/praticien/{world.gp.pk}/",
        {"agenda": world.agenda.pk, "motive": world.first.pk},
        headers={"HX-Request": "true", "HX-Target": "week"},
    )
    html = response.content.decode()
    assert "<html" not in html and 'class="days week"' in html


def test_answering_already_consulted_updates_the_motives_and_slots_in_place(client, world):
    world.follow_up.open_to_new_patients = False
    world.follow_up.save()
    url = f"/praticien/{world.gp.pk}/"
    hx = {"HX-Request": "true", "HX-Target": "motive-step"}
    new = client.get(url, {"agenda": world.agenda.pk, "known": "no"}, headers=hx)
    html = new.content.decode()
    assert "<html" not in html
    assert world.follow_up.label not in html and world.first.label in html
    assert 'id="slots-step" hx-swap-oob="true"' in html
    assert 'hx-swap-oob="innerHTML:#booking-status"' in html
    known = client.get(url, {"agenda": world.agenda.pk, "known": "yes"}, headers=hx)
    assert world.follow_up.label in known.content.decode()


def test_choosing_a_motive_brings_its_slots_in_place(client, world):
    response = client.get(
        f"/praticien/{world.gp.pk}/",
        {"agenda": world.agenda.pk, "known": "yes", "motive": world.first.pk},
        headers={"HX-Request": "true", "HX-Target": "slots-step"},
    )
    html = response.content.decode()
    assert "<html" not in html and 'class="days week"' in html
    assert "Disponibilités pour « Première consultation » affichées" in html


def test_going_back_in_history_gets_the_whole_page(client, world):
    response = client.get(
        f"/praticien/{world.gp.pk}/",
        {"agenda": world.agenda.pk, "motive": world.first.pk},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.content.decode()


def test_the_page_works_without_javascript(client, world):
    """The same form, submitted by its button, answers with the whole page."""
    world.follow_up.open_to_new_patients = False
    world.follow_up.save()
    page = client.get(f"/praticien/{world.gp.pk}/").content.decode()
    assert 'id="motive-form"' in page and "Voir les disponibilités" in page
    assert 'hx-target="#motive-step"' in page  # answered in place when JavaScript runs
    full = client.get(
        f"/praticien/{world.gp.pk}/", {"agenda": world.agenda.pk, "known": "no"}
    ).content.decode()
    assert "<html" in full and world.follow_up.label not in full


def test_the_practitioner_page_tells_fees_hours_languages_and_the_way_in(client, world):
    from decimal import Decimal

    from consulto.scheduling.models import Opening

    world.gp.languages = "fr,en,ar"
    world.gp.convention_sector = "2"
    world.gp.save()
    world.first.price = Decimal("50.00")
    world.first.save()
    world.follow_up.price = Decimal("32.50")
    world.follow_up.save()
    world.site.access_details = "Bâtiment B, 2e étage"
    world.site.phone = "01 99 00 12 34"
    world.site.save()
    saturday = Opening.objects.create(
        agenda=world.agenda,
        site=world.site,
        weekday=5,
        start_time=time(9),
        end_time=time(12),
        valid_from=world.monday - timedelta(days=60),
        every_weeks=2,
    )
    saturday.motives.set([world.first])
    page = client.get(f"/praticien/{world.gp.pk}/").content.decode()
    assert '<span class="avatar" aria-hidden="true">CM</span>' in page
    assert "Secteur 2" in page and "50 €" in page and "32,50 €" in page
    assert "Français, anglais, arabe" in page
    assert "Bâtiment B, 2e étage" in page and 'href="tel:0199001234"' in page
    hours = page.partition('class="hours"')[2].partition("</table>")[0]
    assert "Lundi" in hours and "09:00–12:00" in hours and "14:00–18:00" in hours
    assert "Samedi" in hours and "une semaine sur deux" in hours and "Dimanche" not in hours
    assert "openstreetmap.org/?mlat=48.87770&amp;mlon=2.39250" in page


def test_an_unpublished_practitioner_is_not_found(client, world):
    world.gp.is_published = False
    world.gp.save()
    assert client.get(f"/praticien/{world.gp.pk}/").status_code == 404


def test_the_time_left_is_sent_in_seconds_by_the_servers_clock(client, world, clock):
    """The page counts down from what the server measured, not from an absolute expiry the
    browser would compare with its own (possibly wrong, or in tests frozen) clock."""
    response = choose(client, world)
    clock.shift(timedelta(minutes=3))
    page = client.get(response.url).content.decode()
    assert 230 <= seconds_left(page) <= 240
    assert "data-expires" not in page
    clock.shift(timedelta(minutes=5))
    page = client.get(response.url).content.decode()
    assert 'class="countdown"' not in page and "Les quelques minutes" in page


def test_the_login_and_signup_pages_keep_the_held_slot_in_view(client, world):
    response = choose(client, world)
    held = held_of(response)
    for url in (f"/accounts/login/?next={response.url}", f"/accounts/signup/?next={response.url}"):
        page = client.get(url).content.decode()
        assert "Votre rendez-vous" in page, url
        assert "Première consultation" in page and "Dr Claire Martin" in page
        assert 410 <= seconds_left(page) <= 420
        assert "/static/patients/booking.js" in page
    assert held.start.astimezone(world.site.zone).strftime("%H:%M") in page


def test_the_login_page_without_a_held_slot_shows_no_recap(client, world):
    page = client.get("/accounts/login/").content.decode()
    assert "Votre rendez-vous" not in page and "booking.js" not in page
