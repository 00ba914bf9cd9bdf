"""A hospital's departments in the practice space: a department's agendas side by side, and
department admins (an admin membership limited to one department) as a role matrix."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from consulto.directory.models import (
    Department,
    Membership,
    Organisation,
    Practitioner,
    Site,
    Specialty,
)
from consulto.practice import permissions
from consulto.practice.permissions import Perm
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive
from tests.conftest import at, valid_rpps

from .conftest import with_totp

Role = Membership.Role


@pytest.fixture
def hospital(practice, django_user_model):
    """``practice`` + a hospital with a cardiology department (three agendas, two without a
    practitioner), a paediatrics one (one agenda) and an agenda of no department; its staff:
    ``hospital_admin`` (the whole hospital), ``cardio_admin`` and ``paedi_admin`` (one department
    each), ``cardio_gp`` (practitioner owning one cardiology agenda)."""
    w = practice
    w.hospital = Organisation.objects.create(name="Hôpital Saint-Louis", kind="hospital")
    w.hospital_site = Site.objects.create(
        organisation=w.hospital,
        name="Hôpital Saint-Louis",
        address="1 avenue Claude Vellefaux",
        postcode="75010",
        city="Paris",
        latitude=48.873,
        longitude=2.369,
    )
    cardiology = Specialty.objects.get(code="medecin-generaliste")
    w.cardio = Department.objects.create(
        organisation=w.hospital, name="Cardiologie", specialty=cardiology
    )
    w.paedi = Department.objects.create(organisation=w.hospital, name="Pédiatrie", position=1)
    make = django_user_model.objects.create_user
    w.cardio_gp = make(email="coeur@hopital.test", password="x" * 12)
    doctor = Practitioner.objects.create(
        title="Dr",
        first_name="Louis",
        last_name="Cœur",
        rpps=valid_rpps(7),
        specialty=cardiology,
        user=w.cardio_gp,
    )

    def agenda(name, department, practitioner=None):
        created = Agenda.objects.create(
            organisation=w.hospital,
            site=w.hospital_site,
            department=department,
            practitioner=practitioner,
            name=name,
        )
        created.motive = Motive.objects.create(
            agenda=created, label="Consultation", duration_minutes=20
        )
        return created

    w.cardio1 = agenda("Dr Cœur", w.cardio, doctor)
    w.cardio2 = agenda("Consultation cardiologie", w.cardio)
    w.cardio3 = agenda("Échographie cardiaque", w.cardio)
    w.paedi1 = agenda("Consultation pédiatrie", w.paedi)
    w.emergency = agenda("Urgences", None)
    w.hospital_admin = make(email="direction@hopital.test", password="x" * 12)
    w.cardio_admin = make(email="cadre.cardio@hopital.test", password="x" * 12)
    w.paedi_admin = make(email="cadre.pedia@hopital.test", password="x" * 12)
    for user, role, department in (
        (w.hospital_admin, Role.ADMIN, None),
        (w.cardio_admin, Role.ADMIN, w.cardio),
        (w.paedi_admin, Role.ADMIN, w.paedi),
        (w.cardio_gp, Role.PRACTITIONER, None),
    ):
        Membership.objects.create(
            user=user, organisation=w.hospital, role=role, department=department
        )
        with_totp(user)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    w.cardio_appointment = booking.book(
        agenda=w.cardio2,
        motive=w.cardio2.motive,
        start=at(w.monday, 10),
        patient=w.profile,
        booked_by=w.hospital_admin,
        as_staff=True,
        channel=Appointment.Channel.SECRETARY,
    )
    return w


ROLES = ["hospital_admin", "cardio_admin", "paedi_admin", "cardio_gp", "outsider"]

# (name, method, url, data, expected for: hospital admin, cardiology admin, paediatrics admin,
# the cardiologist (owns cardio1), an admin of another organisation)
CASES = [
    ("agenda of the department", "get",
     lambda w: reverse("practice:agenda") + f"?agendas={w.cardio2.pk}", None,
     (200, 200, 403, 403, 404)),
    ("own agenda of a practitioner", "get",
     lambda w: reverse("practice:agenda") + f"?agendas={w.cardio1.pk}", None,
     (200, 200, 403, 200, 404)),
    ("another department's agenda", "get",
     lambda w: reverse("practice:agenda") + f"?agendas={w.paedi1.pk}", None,
     (200, 403, 200, 403, 404)),
    ("agenda of no department", "get",
     lambda w: reverse("practice:agenda") + f"?agendas={w.emergency.pk}", None,
     (200, 403, 403, 403, 404)),
    ("department picked", "get",
     lambda w: reverse("practice:agenda") + f"?department={w.cardio.pk}", None,
     (200, 200, 403, 200, 404)),
    ("events", "get", lambda w: reverse("practice:events")
     + f"?agendas={w.cardio3.pk}&start={w.monday}&end={w.monday + timedelta(days=7)}", None,
     (200, 200, 403, 403, 404)),
    ("appointment", "get",
     lambda w: reverse("practice:appointment", args=[w.cardio_appointment.pk]), None,
     (200, 200, 403, 403, 404)),
    ("cancel", "post",
     lambda w: reverse("practice:appointment_cancel", args=[w.cardio_appointment.pk]),
     lambda w: {"reason": "Service fermé", "confirmed": "1"}, (302, 302, 403, 403, 404)),
    ("settings", "get", lambda w: reverse("practice:settings_agenda", args=[w.cardio2.pk]),
     None, (200, 200, 403, 403, 404)),
    ("block", "get", lambda w: reverse("practice:block", args=[w.cardio3.pk]), None,
     (200, 200, 403, 403, 404)),
    ("block another department", "get",
     lambda w: reverse("practice:block", args=[w.paedi1.pk]), None, (200, 403, 200, 403, 404)),
    ("dashboard of the agenda", "get",
     lambda w: reverse("practice:dashboard") + f"?agenda={w.cardio2.pk}", None,
     (200, 200, 403, 403, 404)),
    ("audit trail", "get", lambda w: reverse("practice:audit") + f"?org={w.hospital.pk}", None,
     (200, 403, 403, 403, 404)),
    ("team", "get", lambda w: reverse("practice:team") + f"?org={w.hospital.pk}", None,
     (200, 403, 403, 403, "other")),
    ("file of the hospital", "get", lambda w: reverse("practice:files") + f"?org={w.hospital.pk}",
     None, (200, 200, 200, 200, "other")),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_department_admins_get_what_the_matrix_says(hospital, as_user, role, case):
    w = hospital
    name, method, url, data, expected = case
    want = expected[ROLES.index(role)]
    response = getattr(as_user(getattr(w, role)), method)(url(w), data(w) if data else {})
    if want == "other":
        assert response.status_code == 200
        assert "Saint-Louis" not in response.content.decode()
    else:
        assert response.status_code == want, (name, role, response.status_code)
    if name == "cancel":
        w.cardio_appointment.refresh_from_db()
        cancelled = w.cardio_appointment.status == Appointment.Status.CANCELLED
        assert cancelled == (want == 302)


def test_a_department_admin_runs_every_agenda_of_the_department_and_no_other(hospital):
    w = hospital
    cardio = {w.cardio1.pk, w.cardio2.pk, w.cardio3.pk}
    for perm in (Perm.AGENDA, Perm.SETTINGS, Perm.ABSENCES, Perm.DASHBOARD):
        assert permissions.agenda_ids(w.cardio_admin, perm) == cardio
    assert permissions.agenda_ids(w.cardio_admin, Perm.FEED) == set()
    assert not permissions.allows(w.cardio_admin, w.hospital.pk, Perm.POLICY)
    assert not permissions.allows(w.cardio_admin, w.hospital.pk, Perm.AUDIT)
    assert not permissions.allows(w.cardio_admin, w.hospital.pk, Perm.NOTES)
    assert permissions.administered_departments(w.cardio_admin) == {w.hospital.pk: {w.cardio.pk}}


def test_a_new_agenda_of_the_department_is_the_department_admins_at_once(hospital):
    w = hospital
    added = Agenda.objects.create(
        organisation=w.hospital, site=w.hospital_site, department=w.cardio, name="Holter"
    )
    assert added.pk in permissions.agenda_ids(w.cardio_admin)
    assert added.pk not in permissions.agenda_ids(w.paedi_admin)


def test_picking_a_department_shows_its_agendas_side_by_side(hospital, as_user):
    w = hospital
    client = as_user(w.cardio_admin)
    for view in ("day", "week"):
        response = client.get(reverse("practice:agenda") + f"?department={w.cardio.pk}&view={view}")
        assert response.status_code == 200
        shown = [a["id"] for a in response.context["config"]["agendas"]]
        assert shown == [w.cardio2.pk, w.cardio1.pk, w.cardio3.pk]  # by name
        page = response.content.decode()
        assert page.count('class="calendar-column"') == 3
        assert f"?department={w.cardio.pk}&amp;view={view}" in page  # previous / next keep it
    events = client.get(
        reverse("practice:events")
        + f"?agendas={','.join(str(i) for i in shown)}&start={w.monday}"
        + f"&end={w.monday + timedelta(days=1)}"
    ).json()["agendas"]
    cardio2 = events[str(w.cardio2.pk)]["events"]
    assert [e["id"] for e in cardio2 if e.get("id")] == [str(w.cardio_appointment.pk)]


def test_the_picker_lists_only_the_departments_the_user_sees(hospital, as_user):
    w = hospital
    response = as_user(w.hospital_admin).get(reverse("practice:agenda"))
    assert [d.name for d in response.context["departments"]] == ["Cardiologie", "Pédiatrie"]
    response = as_user(w.cardio_admin).get(reverse("practice:agenda"))
    assert [d.name for d in response.context["departments"]] == ["Cardiologie"]
    assert 'name="department"' in response.content.decode()
    # A practice without departments shows no picker.
    response = as_user(w.gp_user).get(reverse("practice:agenda"))
    assert 'name="department"' not in response.content.decode()


def test_a_practitioner_of_the_department_sees_only_their_own_agenda_of_it(hospital, as_user):
    w = hospital
    response = as_user(w.cardio_gp).get(reverse("practice:agenda") + f"?department={w.cardio.pk}")
    assert [a["id"] for a in response.context["config"]["agendas"]] == [w.cardio1.pk]


@pytest.mark.parametrize("value", ["abc", "0", "-1", "99999999999999999999", "1\x00", "²"])
def test_a_bad_department_is_not_found_never_a_crash(hospital, as_user, value):
    response = as_user(hospital.hospital_admin).get(
        reverse("practice:agenda"), {"department": value}
    )
    assert response.status_code in (400, 404)  # a NUL byte is refused before the view


def test_an_unknown_department_is_not_found(hospital, as_user):
    response = as_user(hospital.hospital_admin).get(
        reverse("practice:agenda"), {"department": hospital.paedi.pk + 1000}
    )
    assert response.status_code == 404
