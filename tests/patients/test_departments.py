"""A hospital's pages for patients: its departments and what each lets patients book online, a
department's agendas with their next availabilities, and booking there like anywhere else."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consulto.directory.models import Department, Organisation, Practitioner, Site, Specialty
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening
from tests.conftest import at, valid_rpps

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(world):
    """A hospital: "Cardiologie" (a cardiologist's agenda, and "Consultation cardiologie" of no
    practitioner, Mon–Fri 8–12), "Pédiatrie" (nothing online), and a hidden motive."""
    w = world
    w.hospital = Organisation.objects.create(
        name="Hôpital Saint-Louis", kind="hospital", phone="01 42 49 49 49"
    )
    w.hospital_site = Site.objects.create(
        organisation=w.hospital,
        name="Hôpital Saint-Louis",
        address="1 avenue Claude Vellefaux",
        postcode="75010",
        city="Paris",
        latitude=48.873,
        longitude=2.369,
    )
    specialty = Specialty.objects.get(code="medecin-generaliste")
    w.cardio = Department.objects.create(
        organisation=w.hospital,
        name="Cardiologie",
        specialty=specialty,
        description="Consultations et examens du cœur.",
        phone="01 42 49 40 00",
    )
    w.paedi = Department.objects.create(organisation=w.hospital, name="Pédiatrie", position=1)
    w.cardiologist = Practitioner.objects.create(
        title="Dr", first_name="Louis", last_name="Cœur", rpps=valid_rpps(7), specialty=specialty
    )
    w.doctor_agenda = Agenda.objects.create(
        organisation=w.hospital,
        site=w.hospital_site,
        department=w.cardio,
        practitioner=w.cardiologist,
        name="Dr Cœur",
    )
    w.cardio_agenda = Agenda.objects.create(
        organisation=w.hospital,
        site=w.hospital_site,
        department=w.cardio,
        name="Consultation cardiologie",
    )
    w.paedi_agenda = Agenda.objects.create(
        organisation=w.hospital,
        site=w.hospital_site,
        department=w.paedi,
        name="Consultation pédiatrie",
        online_booking=False,
    )
    w.ecg = Motive.objects.create(
        agenda=w.cardio_agenda, label="Électrocardiogramme", duration_minutes=20
    )
    w.hidden = Motive.objects.create(
        agenda=w.cardio_agenda, label="Motif interne", duration_minutes=20, online=False
    )
    w.doctor_motive = Motive.objects.create(
        agenda=w.doctor_agenda, label="Avis cardiologique", duration_minutes=30
    )
    Motive.objects.create(agenda=w.paedi_agenda, label="Consultation enfant", duration_minutes=20)
    for agenda, motives in ((w.cardio_agenda, [w.ecg]), (w.doctor_agenda, [w.doctor_motive])):
        for weekday in range(5):
            opening = Opening.objects.create(
                agenda=agenda,
                site=w.hospital_site,
                weekday=weekday,
                start_time=time(8),
                end_time=time(12),
                valid_from=date.today() - timedelta(days=7),
            )
            opening.motives.set(motives)
    w.url = reverse("establishment", args=[w.hospital.pk, "hopital-saint-louis"])
    w.cardio_url = reverse("department", args=[w.hospital.pk, "hopital-saint-louis", w.cardio.pk])
    return w


def test_the_hospital_page_lists_its_departments_and_their_online_motives(client, hospital):
    w = hospital
    response = client.get(w.url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hôpital Saint-Louis" in page and "01 42 49 49 49" in page
    assert page.index("Cardiologie") < page.index("Pédiatrie")
    assert "Consultations et examens du cœur." in page and "01 42 49 40 00" in page
    assert "Électrocardiogramme" in page and "Avis cardiologique" in page
    assert "Motif interne" not in page  # not bookable online
    assert "Consultation enfant" not in page  # its agenda takes no online booking
    assert f"{w.cardio_url}?agenda={w.cardio_agenda.pk}&amp;motive={w.ecg.pk}#slots" in page


def test_the_department_page_shows_each_agenda_and_its_next_availability(client, hospital):
    w = hospital
    page = client.get(w.cardio_url).content.decode()
    assert "Consultation cardiologie" in page
    assert reverse("practitioner", args=[w.cardiologist.pk]) in page
    assert "Dr Louis Cœur" in page
    # TEST_NOW is a Wednesday 10:17: the first ECG slot is tomorrow 8:00 (an hour's notice).
    response = client.get(w.cardio_url)
    assert response.context["agendas"][1].online_motives[0].first_slot is not None


def test_choosing_a_motive_of_an_agenda_of_no_practitioner_shows_its_week(client, hospital):
    w = hospital
    response = client.get(w.cardio_url, {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk})
    page = response.content.decode()
    assert response.context["week"] is not None
    assert 'action="/reserver/"' in page
    assert f'name="motive" value="{w.ecg.pk}"' in page
    fragment = client.get(
        w.cardio_url,
        {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk, "week": w.monday.isoformat()},
        headers={"HX-Target": "week"},
    )
    assert "<html" not in fragment.content.decode()
    assert 'class="days week"' in fragment.content.decode()


def test_a_departments_week_answers_304_until_its_slots_change(
    client, hospital, patient, user, clock
):
    w = hospital
    # The ETag holds the booking window's minute: the requests must fall in the same one.
    clock.move_to(timezone.now().replace(second=1, microsecond=0))
    query = {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk, "week": w.monday.isoformat()}
    first = client.get(w.cardio_url, query, headers={"HX-Target": "week"})
    tag = first["ETag"]
    assert "private" in first["Cache-Control"]
    again = client.get(w.cardio_url, query, headers={"HX-Target": "week", "If-None-Match": tag})
    assert again.status_code == 304
    booking.book(
        agenda=w.cardio_agenda,
        motive=w.ecg,
        start=at(w.monday, 8),
        patient=patient,
        booked_by=user,
    )
    after = client.get(w.cardio_url, query, headers={"HX-Target": "week", "If-None-Match": tag})
    assert after.status_code == 200 and after["ETag"] != tag


def test_a_patient_books_a_department_slot_through_the_usual_pages(client, hospital, user):
    from allauth.account.models import EmailAddress

    from consulto.scheduling.models import PatientProfile

    w = hospital
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    me = PatientProfile.objects.create(
        owner=user, first_name="Alice", last_name="Durand", birth_date=date(1980, 5, 17)
    )
    client.force_login(user)
    held = client.post(
        "/reserver/",
        {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk, "start": at(w.monday, 9).isoformat()},
    )
    assert held.status_code == 302 and held.url.startswith("/reserver/")
    page = client.get(held.url).content.decode()
    assert "Consultation cardiologie" in page and "Cardiologie" in page
    done = client.post(held.url, {"patient": str(me.pk), "idempotency_key": "dep1"})
    appointment = Appointment.objects.get(status="booked")
    assert done.url == f"/rendez-vous/{appointment.pk}/"
    assert (appointment.agenda, appointment.start) == (w.cardio_agenda, at(w.monday, 9))


def test_a_taken_department_slot_sends_back_to_the_department_page(client, hospital, other_user):
    w = hospital
    first = client.post(
        "/reserver/",
        {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk, "start": at(w.monday, 9).isoformat()},
    )
    assert first.status_code == 302
    other = client.__class__()
    again = other.post(
        "/reserver/",
        {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk, "start": at(w.monday, 9).isoformat()},
    )
    assert again.url.startswith(w.cardio_url + "?")


def test_a_wrong_slug_or_an_unknown_establishment_is_not_found(client, hospital):
    w = hospital
    assert client.get(reverse("establishment", args=[w.hospital.pk, "autre"])).status_code == 404
    assert (
        client.get(f"/etablissement/{w.hospital.pk + 99}-hopital-saint-louis/").status_code == 404
    )
    wrong = reverse("department", args=[w.hospital.pk, "autre", w.cardio.pk])
    assert client.get(wrong).status_code == 404


def test_an_organisation_without_departments_has_no_such_page(client, hospital):
    w = hospital
    url = reverse("establishment", args=[w.organisation.pk, "cabinet-des-lilas"])
    assert client.get(url).status_code == 404


def test_another_establishments_department_is_not_found(client, hospital):
    w = hospital
    other = Organisation.objects.create(name="Clinique du Parc", kind="hospital")
    elsewhere = Department.objects.create(organisation=other, name="Radiologie")
    url = reverse("department", args=[w.hospital.pk, "hopital-saint-louis", elsewhere.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/etablissement/0-hopital/",
        "/etablissement/99999999999999999999-hopital/",
        "/etablissement/abc-hopital/",
        "/etablissement/1-h%C3%B4pital/",
        "/etablissement/1-hopital/99999999999999999999/",
        "/etablissement/1-hopital/0/",
    ],
)
def test_bad_ids_are_not_found_never_a_crash(client, hospital, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"agenda": "abc", "motive": "1"},
        {"agenda": "99999999999999999999", "motive": "-1"},
        {"agenda": "1\x00", "motive": "²"},
        {"week": "2026-02-31"},
        {"week": "99999-01-01"},
    ],
)
def test_bad_choices_on_a_department_page_show_the_page(client, hospital, params):
    response = client.get(hospital.cardio_url, params)
    assert response.status_code in (200, 400)


def test_a_bad_week_with_a_good_motive_still_shows_slots(client, hospital):
    w = hospital
    response = client.get(
        w.cardio_url, {"agenda": w.cardio_agenda.pk, "motive": w.ecg.pk, "week": "2020-01-01"}
    )
    assert response.status_code == 200 and response.context["week"] is not None


def test_the_pages_ask_a_fixed_number_of_queries(client, hospital, django_assert_max_num_queries):
    w = hospital
    for n in range(4):
        extra = Agenda.objects.create(
            organisation=w.hospital, site=w.hospital_site, department=w.cardio, name=f"Écho {n}"
        )
        Motive.objects.create(agenda=extra, label=f"Échographie {n}", duration_minutes=20)
    with django_assert_max_num_queries(12):
        assert client.get(w.url).status_code == 200


def test_a_practitioner_of_a_department_links_to_it(client, hospital):
    w = hospital
    page = client.get(reverse("practitioner", args=[w.cardiologist.pk])).content.decode()
    assert f'href="{w.cardio_url}"' in page
