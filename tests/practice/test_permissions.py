"""The role matrix: every back-office page and action, for every role, on the centre's objects.

Another organisation's staff get 404 (nothing leaks, not even existence); a role of the same
organisation that may not gets 403; a patient account gets 403; nobody logged in goes to login.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from consulto.practice import files
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from tests.conftest import at

ROLES = ["admin", "gp_user", "gp2_user", "secretary", "outsider", "patient_user"]
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def _objects(w):
    start = at(w.monday, 10)
    w.appointment = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=start,
        patient=w.profile,
        booked_by=w.secretary,
        channel=Appointment.Channel.SECRETARY,
    )
    w.past = booking.book(
        agenda=w.agenda,
        motive=w.first,
        start=at(w.monday - timedelta(days=14), 10),
        patient=w.profile,
        booked_by=w.secretary,
        as_staff=True,
        now=at(w.monday - timedelta(days=21), 10),
    )
    w.document = files.add_document(user=w.gp_user, file_id=w.file.pk, name="x.png", content=PNG)


# (name, method, url, data, expected for: admin, gp (owns the agenda), gp2 (another agenda of the
# centre), secretary (assigned to the agenda), outsider (another organisation), patient)
CASES = [
    ("agenda page", "get", lambda w: reverse("practice:agenda") + f"?agendas={w.agenda.pk}", None,
     (200, 200, 403, 200, 404, 403)),
    ("events", "get", lambda w: reverse("practice:events")
     + f"?agendas={w.agenda.pk}&start={w.monday}&end={w.monday + timedelta(days=7)}", None,
     (200, 200, 403, 200, 404, 403)),
    ("day list", "get", lambda w: reverse("practice:day_list") + f"?agendas={w.agenda.pk}", None,
     (200, 200, 403, 200, 404, 403)),
    ("appointment", "get", lambda w: reverse("practice:appointment", args=[w.appointment.pk]),
     None, (200, 200, 403, 200, 404, 403)),
    ("move", "post", lambda w: reverse("practice:appointment_move", args=[w.appointment.pk]),
     lambda w: {"date": w.monday.isoformat(), "time": "11:00"}, (302, 302, 403, 302, 404, 403)),
    ("cancel asked", "post",
     lambda w: reverse("practice:appointment_cancel", args=[w.appointment.pk]),
     lambda w: {"reason": "Médecin absent"}, (200, 200, 403, 200, 404, 403)),
    ("cancel", "post", lambda w: reverse("practice:appointment_cancel", args=[w.appointment.pk]),
     lambda w: {"reason": "Médecin absent", "confirmed": "1"}, (302, 302, 403, 302, 404, 403)),
    ("undo move", "post",
     lambda w: reverse("practice:appointment_undo_move", args=[w.appointment.pk]), None,
     (302, 302, 403, 302, 404, 403)),
    ("new appointment", "get", lambda w: reverse("practice:appointment_new")
     + f"?agenda={w.agenda.pk}&file={w.file.pk}", None, (200, 200, 200, 200, 404, 403)),
    ("free slots", "get", lambda w: reverse("practice:appointment_slots")
     + f"?agenda={w.agenda.pk}&motive={w.first.pk}&date={w.monday}", None,
     (200, 200, 403, 200, 404, 403)),
    ("status", "post", lambda w: reverse("practice:appointment_status", args=[w.past.pk]),
     lambda w: {"status": "seen"}, (302, 302, 403, 302, 404, 403)),
    ("block", "get", lambda w: reverse("practice:block", args=[w.agenda.pk]), None,
     (200, 200, 403, 200, 404, 403)),
    ("block post", "post", lambda w: reverse("practice:block", args=[w.agenda.pk]),
     lambda w: {"start_date": w.monday.isoformat(), "start_time": "12:00",
                "end_date": w.monday.isoformat(), "end_time": "13:00", "reason": "Réunion"},
     (302, 302, 403, 302, 404, 403)),
    ("absences", "get", lambda w: reverse("practice:settings_absences", args=[w.agenda.pk]),
     None, (302, 302, 403, 200, 404, 403)),
    ("absence new", "post",
     lambda w: reverse("practice:settings_absence_new", args=[w.agenda.pk]),
     lambda w: {"start_date": w.monday.isoformat(), "end_date": w.monday.isoformat()},
     (302, 302, 403, 302, 404, 403)),
    ("files", "get", lambda w: reverse("practice:files") + f"?org={w.organisation.pk}", None,
     (200, 200, 200, 200, "other", 403)),
    ("file", "get", lambda w: reverse("practice:file", args=[w.file.pk]), None,
     (200, 200, 200, 200, 404, 403)),
    ("file edit", "get", lambda w: reverse("practice:file_edit", args=[w.file.pk]), None,
     (200, 200, 200, 200, 404, 403)),
    ("note", "post", lambda w: reverse("practice:note_add", args=[w.file.pk]),
     lambda w: {"text": "Allergie à la pénicilline"}, (403, 302, 302, 403, 404, 403)),
    ("document upload", "post", lambda w: reverse("practice:document_add", args=[w.file.pk]),
     None, (403, 302, 302, 302, 404, 403)),
    ("document", "get", lambda w: reverse("practice:document", args=[w.document.pk]), None,
     (403, 200, 200, 200, 404, 403)),
    ("online booking", "post", lambda w: reverse("practice:file_online_booking", args=[w.file.pk]),
     lambda w: {"allowed": "0"}, (302, 302, 302, 302, 404, 403)),
    ("team", "get", lambda w: reverse("practice:team"), None, (200, 403, 403, 403, "other", 403)),
    ("assign", "post", lambda w: reverse("practice:team"),
     lambda w: {"secretary": w.secretary.pk, "agendas": [w.agenda.pk, w.agenda2.pk]},
     (302, 403, 403, 403, 404, 403)),
]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_role_gets_what_the_matrix_says(practice, as_user, role, case):
    w = practice
    _objects(w)
    name, method, url, data, expected = case
    want = expected[ROLES.index(role)]
    client = as_user(getattr(w, role))
    payload = data(w) if data else {}
    if name == "document upload":
        from django.core.files.uploadedfile import SimpleUploadedFile

        payload = {"document": SimpleUploadedFile("scan.png", PNG, content_type="image/png")}
    response = getattr(client, method)(url(w), payload)
    if want == "other":
        # The outsider sees their own organisation's page, never the centre's people.
        assert response.status_code == 200
        page = response.content.decode()
        assert "Petit" not in page and "secretariat@centre.test" not in page
    else:
        assert response.status_code == want, (name, role, response.status_code)
    if want in (403, 404) and name == "note":
        assert not w.file.notes.exists()
    if want in (403, 404) and name == "cancel":
        w.appointment.refresh_from_db()
        assert w.appointment.status == Appointment.Status.BOOKED


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("practice:agenda"),
        lambda w: reverse("practice:files"),
        lambda w: reverse("practice:appointment_new"),
    ],
)
def test_nobody_logged_in_goes_to_the_login_page(practice, client, url):
    response = client.get(url(practice))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_staff_without_a_second_factor_are_sent_to_set_one_up(practice, client, django_user_model):
    from consulto.directory.models import Membership

    newcomer = django_user_model.objects.create_user(email="new@centre.test", password="x" * 12)
    Membership.objects.create(user=newcomer, organisation=practice.organisation, role="secretary")
    client.force_login(newcomer)
    response = client.get(reverse("practice:agenda"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_the_centre_staff_cannot_open_another_organisation_file(practice, as_user):
    w = practice
    for role in ("admin", "gp_user", "secretary"):
        client = as_user(getattr(w, role))
        assert client.get(reverse("practice:file", args=[w.other_file.pk])).status_code == 404


def test_a_secretary_never_sees_an_agenda_she_is_not_assigned_to_in_the_events(practice, as_user):
    w = practice
    client = as_user(w.secretary)
    url = reverse("practice:events") + (
        f"?agendas={w.agenda.pk},{w.agenda2.pk}&start={w.monday}&end={w.monday}"
    )
    assert client.get(url).status_code == 403


def test_staff_sessions_lapse_after_a_quiet_spell(practice, as_user, settings):
    client = as_user(practice.secretary)
    client.get(reverse("practice:agenda"))
    assert client.session.get_expiry_age() == settings.CONSULTO_STAFF_SESSION_MINUTES * 60


def test_an_admin_assigns_a_secretary_to_another_agenda_and_she_sees_it(practice, as_user):
    w = practice
    events = reverse("practice:events") + (
        f"?agendas={w.agenda2.pk}&start={w.monday}&end={w.monday + timedelta(days=1)}"
    )
    assert as_user(w.secretary).get(events).status_code == 403
    as_user(w.admin).post(
        reverse("practice:team"), {"secretary": w.secretary.pk, "agendas": [w.agenda2.pk]}
    )
    w.secretary.refresh_from_db()
    client = as_user(w.secretary)
    assert client.get(events).status_code == 200
    # Unticked, the first agenda is no longer hers.
    first = reverse("practice:agenda") + f"?agendas={w.agenda.pk}"
    assert client.get(first).status_code == 403
