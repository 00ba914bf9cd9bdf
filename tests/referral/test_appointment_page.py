"""The signed page a patient without an account receives by SMS and e-mail."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from consulto.notifications import services as notifications
from consulto.referral import patient_links, services
from consulto.scheduling.models import Appointment
from tests.conftest import at


def _booked(case, w, start=None):
    return services.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=start or at(w.monday, 9),
        by=w.regulator,
    )  # fmt: skip


def _path(appointment):
    link = patient_links.page_link(appointment)
    return link[link.index("/rdv/") :]


def test_the_link_in_the_sms_opens_the_appointment_page(case, regulation, client, sms_outbox):
    appointment = _booked(case, regulation)
    notifications.deliver_due()
    [sent] = sms_outbox
    link = sent["text"].split("Détails : ")[-1].split()[0]
    response = client.get(link[link.index("/rdv/") :])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dr Claire Martin" in html and "12 rue des Lilas" in html
    assert "Apportez votre carte Vitale." in html
    assert "Annuler le rendez-vous" in html
    del appointment


def test_a_tampered_link_opens_nothing(case, regulation, client):
    path = _path(_booked(case, regulation))
    assert client.get(path[:-3] + "abc/").status_code == 404
    assert client.get("/rdv/%00/").status_code in (400, 404)


def test_a_link_expires_when_the_appointment_ends(case, regulation, client):
    appointment = _booked(case, regulation)
    path = _path(appointment)
    with time_machine.travel(appointment.end + timedelta(minutes=1)):
        response = client.get(path)
    assert response.status_code == 404
    assert "terminé" in response.content.decode()


def test_the_patient_cancels_from_the_page_and_the_case_reopens(case, regulation, client):
    appointment = _booked(case, regulation)
    response = client.post(_path(appointment), {"action": "cancel"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    case.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert not appointment.cancelled_by_practice
    assert case.outcome == "open"


def test_too_late_to_cancel_online(case, regulation, client):
    w = regulation
    w.first.cancellation_deadline_hours = 24
    w.first.save()
    start = at(timezone.localdate() + timedelta(days=1), 9)
    if start.weekday() >= 5:
        start = at(w.monday, 9)
    appointment = _booked(case, w, start)
    with time_machine.travel(start - timedelta(hours=2)):
        html = client.get(_path(appointment)).content.decode()
        assert "trop tard" in html
        client.post(_path(appointment), {"action": "cancel"})
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
