"""Who sees and who may book a slot, by the visibility of its opening: the full matrix.

Readers: the anonymous public, a patient new to the practice, a patient the practice knows, a
practitioner of another organisation, one of another organisation who shares a CPTS with the
agenda's practitioner, a regulator (SAMU). Openings: public, professionals, regulation only
(SNP), known patients only, CPTS. Each cell is asserted on three doors:

- the API: the slots list, and POST /appointments (201, or a 4xx JSON refusal);
- the patient pages: the week of slots (HTML), and holding then booking the slot;
- ``booking.book`` itself, as each door calls it.

The API and the scheduling core give professionals their own audience; the patient pages are a
patient's door for everyone (a regulator booking there books for themself, as a patient).
"""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils.html import escape

from consulto.api.models import ApiToken
from consulto.directory.models import Membership, Organisation, Practitioner, Specialty
from consulto.patients.services import KeptForKnownPatients
from consulto.scheduling import booking, visibility
from consulto.scheduling.models import Appointment, Opening, PatientProfile, Referral
from consulto.scheduling.rules import InvalidSlot
from tests.conftest import at, valid_rpps

pytestmark = pytest.mark.django_db

V = Opening.Visibility
# Each opening is one hour of the same Monday, with a 30-minute motive: the slot checked is its
# first one.
HOURS = {"public": 8, "pro": 9, "snp": 10, "known": 11, "cpts": 12}
READERS = (
    "anonymous",
    "new_patient",
    "known_patient",
    "other_practitioner",
    "cpts_member",
    "regulator",
)

# The matrix. What each reader sees, per door; "may book" equals "sees" except where noted.
API_SEES = {
    "anonymous": {"public"},
    "new_patient": {"public"},
    "known_patient": {"public", "known"},
    "other_practitioner": {"public", "pro"},
    "cpts_member": {"public", "pro", "cpts"},
    "regulator": {"public", "pro", "snp", "cpts"},
}
API_BOOKS = {**API_SEES, "anonymous": set()}  # booking on the API needs an account (401)
PAGES_SEES = {
    "anonymous": {"public"},
    "new_patient": {"public"},
    "known_patient": {"public", "known"},
    "other_practitioner": {"public"},  # the patient pages are a patient's door
    "cpts_member": {"public"},
    "regulator": {"public"},
}
PAGES_BOOKS = PAGES_SEES  # anonymous: the slot is held, then the visitor logs in
CORE_BOOKS = API_SEES


def cells(table):
    return [
        pytest.param(
            reader,
            vis,
            vis in table[reader],
            id=f"{reader}-{vis}-{'yes' if vis in table[reader] else 'no'}",
        )
        for reader in READERS
        for vis in HOURS
    ]


@pytest.fixture
def matrix(world, django_user_model):
    w = world
    w.agenda.openings.all().delete()
    w.day = w.monday
    for vis, hour in HOURS.items():
        opening = Opening.objects.create(
            agenda=w.agenda,
            site=w.site,
            weekday=w.day.weekday(),
            start_time=f"{hour:02d}:00",
            end_time=f"{hour + 1:02d}:00",
            valid_from=date.today() - timedelta(days=60),
            visibility=vis,
        )
        opening.motives.set([w.first])
    make = django_user_model.objects.create_user
    w.users = {
        "new_patient": make(email="new@example.org", password="x" * 12),
        "known_patient": make(email="known@example.org", password="x" * 12),
        "other_practitioner": make(email="dr.parc@example.org", password="x" * 12),
        "cpts_member": make(email="dr.roy@example.org", password="x" * 12),
        "regulator": make(email="regulation@samu75.test", password="x" * 12),
    }
    w.profiles = {}
    for key, user in w.users.items():
        w.profiles[key] = PatientProfile.objects.create(
            owner=user,
            relationship=PatientProfile.Relationship.SELF,
            first_name=key.split("_")[0].capitalize(),
            last_name="Matrix",
            birth_date=date(1980, 1, 1),
        )
    # The practice knows this patient: a consultation seen three weeks ago.
    past = at(w.day - timedelta(days=21), 9)
    Appointment.objects.create(
        agenda=w.agenda,
        motive=w.first,
        patient=w.profiles["known_patient"],
        start=past,
        end=past + timedelta(minutes=30),
        status=Appointment.Status.SEEN,
    )
    elsewhere = Organisation.objects.create(name="Cabinet du Parc")
    Practitioner.objects.create(
        title="Dr",
        first_name="Anne",
        last_name="Parc",
        rpps=valid_rpps(40),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        user=w.users["other_practitioner"],
    )
    Membership.objects.create(
        user=w.users["other_practitioner"],
        organisation=elsewhere,
        role=Membership.Role.PRACTITIONER,
    )
    samu = Organisation.objects.create(
        name="SAMU 75", kind=Organisation.Kind.REGULATION_CENTRE, territory="75"
    )
    Membership.objects.create(
        user=w.users["regulator"], organisation=samu, role=Membership.Role.REGULATOR
    )
    # Dr Martin and Dr Roy (of a third practice) are members of the same CPTS; Dr Parc is not.
    cpts = Organisation.objects.create(name="CPTS du 19e", kind=Organisation.Kind.CPTS)
    roy = Organisation.objects.create(name="Cabinet Roy")
    w.gp.user = make(email="dr.martin@lilas.test", password="x" * 12)
    w.gp.save()
    for user, organisation in (
        (w.gp.user, w.organisation),
        (w.gp.user, cpts),
        (w.users["cpts_member"], roy),
        (w.users["cpts_member"], cpts),
    ):
        Membership.objects.create(
            user=user, organisation=organisation, role=Membership.Role.PRACTITIONER
        )
    w.tokens = {key: ApiToken.issue(user)[1] for key, user in w.users.items()}
    return w


def slot_of(w, vis):
    return at(w.day, HOURS[vis])


def api_headers(w, reader):
    return {} if reader == "anonymous" else {"Authorization": f"Bearer {w.tokens[reader]}"}


def test_the_readers_audiences_are_what_the_matrix_assumes(matrix):
    w = matrix
    now = at(w.day, 0)
    expected = {
        "new_patient": visibility.PUBLIC,
        "known_patient": visibility.KNOWN_PATIENT,
        "other_practitioner": visibility.PROFESSIONAL,
        "cpts_member": visibility.CPTS_MEMBER,
        "regulator": visibility.REGULATOR,
    }
    for reader, audience in expected.items():
        assert visibility.audience_for(w.users[reader], w.agenda, now=now) == audience, reader


def test_the_booking_door_names_the_professionals_as_audience_for_does(matrix, django_user_model):
    """``professional_audience`` (one query, on every booking) answers as ``audience_for``
    for whoever books: a professional's audience, None for any other (staff included)."""
    w = matrix
    now = at(w.day, 0)
    make = django_user_model.objects.create_user
    users = dict(w.users)
    users["staff"] = make(email="secretariat@lilas.test", password="x" * 12)
    Membership.objects.create(
        user=users["staff"], organisation=w.organisation, role=Membership.Role.SECRETARY
    )
    users["lone_practitioner"] = make(email="dr.seul@example.org", password="x" * 12)
    Practitioner.objects.create(
        title="Dr",
        first_name="Paul",
        last_name="Seul",
        rpps=valid_rpps(41),
        specialty=Specialty.objects.get(code="medecin-generaliste"),
        user=users["lone_practitioner"],
    )
    users["support"] = make(email="support@consulto.test", password="x" * 12)
    Membership.objects.create(
        user=users["support"], organisation=w.organisation, role=Membership.Role.SUPPORT_AGENT
    )
    professionals = (visibility.REGULATOR, visibility.CPTS_MEMBER, visibility.PROFESSIONAL)
    for name, user in users.items():
        audience = visibility.audience_for(user, w.agenda, now=now)
        expected = audience if audience in professionals else None
        assert visibility.professional_audience(user, w.agenda) == expected, name
    assert visibility.professional_audience(None, w.agenda) is None


# The API ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("reader", "vis", "sees"), cells(API_SEES))
def test_api_slots_list(client, matrix, reader, vis, sees):
    w = matrix
    response = client.get(
        f"/api/v1/agendas/{w.agenda.pk}/slots",
        {"motive": w.first.pk, "start": w.day.isoformat(), "days": 1},
        headers=api_headers(w, reader),
    )
    assert response.status_code == 200
    starts = {s["start"] for s in response.json()["slots"]}
    assert (slot_of(w, vis).isoformat() in starts) is sees


@pytest.mark.parametrize(("reader", "vis", "books"), cells(API_BOOKS))
def test_api_booking(client, matrix, reader, vis, books):
    w = matrix
    profile = w.profiles.get(reader)
    person = {
        "first_name": profile.first_name if profile else "Anonyme",
        "last_name": "Matrix",
        "birth_date": "1980-01-01",
        "phone": "06 12 34 56 78",
    }
    response = client.post(
        "/api/v1/appointments",
        data={
            "agenda": w.agenda.pk,
            "motive": w.first.pk,
            "start": slot_of(w, vis).isoformat(),
            "patient": person,
        },
        content_type="application/json",
        headers=api_headers(w, reader),
    )
    booked = Appointment.objects.filter(
        agenda=w.agenda, start=slot_of(w, vis), status=Appointment.Status.BOOKED
    )
    if books:
        assert response.status_code == 201, response.json()
        assert booked.count() == 1
    else:
        assert 400 <= response.status_code < 500
        body = response.json()
        assert body["error"] in ("unauthorized", "invalid_slot")
        assert response.status_code == (401 if reader == "anonymous" else 422)
        assert not booked.exists()


def test_a_regulator_booking_on_the_api_reaches_the_practice_as_a_referral(client, matrix):
    w = matrix
    response = client.post(
        "/api/v1/appointments",
        data={
            "agenda": w.agenda.pk,
            "motive": w.first.pk,
            "start": slot_of(w, "snp").isoformat(),
            "patient": {"first_name": "Paul", "last_name": "Appel", "birth_date": "1961-06-01"},
        },
        content_type="application/json",
        headers=api_headers(w, "regulator"),
    )
    assert response.status_code == 201
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert appointment.channel == Appointment.Channel.REGULATOR
    assert appointment.patient.owner is None  # not the regulator's own profile
    referral = Referral.objects.get(appointment=appointment)
    assert referral.kind == Referral.Kind.REGULATION
    assert referral.referrer_label == "SAMU 75"


def test_a_cpts_members_booking_on_the_api_reaches_the_practice_as_a_referral(client, matrix):
    w = matrix
    response = client.post(
        "/api/v1/appointments",
        data={
            "agenda": w.agenda.pk,
            "motive": w.first.pk,
            "start": slot_of(w, "cpts").isoformat(),
            "patient": {"first_name": "Paul", "last_name": "Appel", "birth_date": "1961-06-01"},
        },
        content_type="application/json",
        headers=api_headers(w, "cpts_member"),
    )
    assert response.status_code == 201
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert appointment.channel == Appointment.Channel.API
    assert appointment.patient.owner is None
    referral = Referral.objects.get(appointment=appointment)
    assert referral.kind == Referral.Kind.PRACTITIONER
    assert referral.referrer_label.endswith("Cabinet Roy")


def test_an_invalid_bearer_token_is_not_the_public(client, matrix):
    response = client.get(
        f"/api/v1/agendas/{matrix.agenda.pk}/slots",
        {"motive": matrix.first.pk},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


# The patient pages --------------------------------------------------------------------------------


def pages_client(w, reader) -> Client:
    client = Client()
    if reader != "anonymous":
        client.force_login(w.users[reader])
    return client


@pytest.mark.parametrize(("reader", "vis", "sees"), cells(PAGES_SEES))
def test_pages_week_of_slots(matrix, reader, vis, sees):
    w = matrix
    client = pages_client(w, reader)
    page = client.get(
        f"/praticien/{w.gp.pk}/",
        {"agenda": w.agenda.pk, "motive": w.first.pk, "week": w.day.isoformat()},
    ).content.decode()
    assert 'name="start"' in page  # the week of slots is there
    assert (f'value="{slot_of(w, vis).isoformat()}"' in page) is sees


@pytest.mark.parametrize(("reader", "vis", "books"), cells(PAGES_BOOKS))
def test_pages_hold_and_booking(matrix, reader, vis, books):
    w = matrix
    client = pages_client(w, reader)
    start = slot_of(w, vis)
    response = client.post(
        "/reserver/", {"agenda": w.agenda.pk, "motive": w.first.pk, "start": start.isoformat()}
    )
    assert response.status_code == 302
    held = Appointment.objects.filter(agenda=w.agenda, start=start, status="held")
    if not books:
        assert response.url.startswith(f"/praticien/{w.gp.pk}/")
        assert not held.exists()
        return
    assert response.url.startswith("/reserver/")
    assert held.count() == 1
    if reader == "anonymous":
        return  # the visitor logs in or signs up next (tests/patients/test_booking_flow.py)
    done = client.post(
        response.url, {"patient": str(w.profiles[reader].pk), "idempotency_key": "matrix"}
    )
    booked = Appointment.objects.get(agenda=w.agenda, start=start, status="booked")
    assert done.url == f"/rendez-vous/{booked.pk}/"
    assert booked.patient == w.profiles[reader]


def test_a_known_patients_slot_is_not_booked_for_a_relative_the_practice_never_saw(matrix):
    w = matrix
    client = pages_client(w, "known_patient")
    relative = PatientProfile.objects.create(
        owner=w.users["known_patient"],
        relationship=PatientProfile.Relationship.CHILD,
        first_name="Petit",
        last_name="Matrix",
        birth_date=date(2015, 1, 1),
    )
    start = slot_of(w, "known")
    response = client.post(
        "/reserver/", {"agenda": w.agenda.pk, "motive": w.first.pk, "start": start.isoformat()}
    )
    page = client.post(response.url, {"patient": str(relative.pk), "idempotency_key": "r"})
    assert page.status_code == 200
    assert escape(str(KeptForKnownPatients.default_message)) in page.content.decode()
    assert not Appointment.objects.filter(start=start, status="booked").exists()
    # The known patient herself may still take it.
    client.post(response.url, {"patient": str(w.profiles["known_patient"].pk)})
    assert (
        Appointment.objects.get(start=start, status="booked").patient == w.profiles["known_patient"]
    )


# The scheduling core ------------------------------------------------------------------------------


def core_book(w, reader, start):
    """``booking.book`` as each reader's door calls it."""
    if reader == "anonymous":
        patient, by, extra = (
            booking.PatientIdentity("Anonyme", "Matrix", date(1980, 1, 1)),
            None,
            {},
        )
    elif reader in ("new_patient", "known_patient"):
        patient, by, extra = w.profiles[reader], w.users[reader], {}
    else:
        audience = {
            "regulator": visibility.REGULATOR,
            "cpts_member": visibility.CPTS_MEMBER,
        }.get(reader, visibility.PROFESSIONAL)
        patient = booking.PatientIdentity("Paul", "Appel", date(1961, 6, 1))
        by, extra = w.users[reader], {"audience": audience, "as_staff": False}
    return booking.book(
        agenda=w.agenda, motive=w.first, start=start, patient=patient, booked_by=by, **extra
    )


@pytest.mark.parametrize(("reader", "vis", "books"), cells(CORE_BOOKS))
def test_core_booking(matrix, reader, vis, books):
    w = matrix
    start = slot_of(w, vis)
    if books:
        assert core_book(w, reader, start).status == Appointment.Status.BOOKED
    else:
        with pytest.raises(InvalidSlot):
            core_book(w, reader, start)
        assert not Appointment.objects.filter(start=start, status="booked").exists()
