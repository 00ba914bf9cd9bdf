"""A video consultation between two Chromium contexts with fake cameras: the patient waits, the
practitioner lets them in, both connect and decode frames, chat goes across, a reload rejoins,
ending marks the appointment seen; a stranger and a dead link are refused.

The call needs WebSockets: these tests run against the ASGI application (uvicorn in a thread).
"""

import pytest

from consulto.scheduling.models import Appointment
from consulto.teleconsultation import rooms
from tests.practice.conftest import practice  # noqa: F401 (fixture)
from tests.teleconsultation.conftest import call  # noqa: F401 (fixture)

from .conftest import DESKTOP, PHONE, _open, assert_accessible, assert_fits_width, log_in, shoot
from .test_practice import asgi_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = """async () => {
  const pc = window.visio && window.visio.pc;
  if (!pc) return 0;
  let frames = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0;
  });
  return frames;
}"""


def _side(browser, server, user, *, phone=False):
    context, page = _open(
        browser, server, viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone
    )
    log_in(page, user, server)
    return context, page


def _connected(page, timeout=15_000):
    page.wait_for_function(
        "() => window.visio && window.visio.pc && window.visio.pc.connectionState === 'connected'",
        timeout=timeout,
    )
    page.wait_for_function(f"async () => (await ({FRAMES})()) > 0", timeout=timeout)


def test_the_patient_waits_is_let_in_and_both_see_each_other(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    patient_context, patient = _side(browser, asgi_server, call.patient_user, phone=True)
    doctor_context, doctor = _side(browser, asgi_server, call.gp)
    try:
        patient.goto(f"/visio/{call.room.pk}/")
        patient.get_by_text("Vous êtes en salle d'attente").wait_for()
        shoot(patient, "visio-1-waiting-phone")
        assert_accessible(patient)
        assert_fits_width(patient)

        # The practitioner's agenda shows, live, who waits since when, with a way in.
        doctor.goto(f"/pro/?date={call.appointment.start.date().isoformat()}")
        doctor.get_by_text("En salle d'attente virtuelle depuis").wait_for()
        shoot(doctor, "visio-1-agenda-waiting")
        doctor.get_by_role("link", name="Faire entrer").click()
        doctor.wait_for_url(f"**/pro/visio/{call.room.pk}/")
        doctor.get_by_text("Le patient est en salle d'attente.").wait_for()
        doctor.get_by_role("button", name="Faire entrer le patient").click()
        _connected(doctor)
        _connected(patient)
        shoot(doctor, "visio-2-call-practitioner")
        shoot(patient, "visio-2-call-phone")
        assert_accessible(doctor)

        patient.get_by_label("Écrire un message").fill("Bonjour docteur")
        patient.get_by_role("button", name="Envoyer").click()
        doctor.locator("#visio-messages").get_by_text("Bonjour docteur").wait_for()

        patient.reload()  # a reload rejoins the call
        _connected(patient)
        _connected(doctor)
        patient.locator("#visio-messages").get_by_text("Bonjour docteur").wait_for()

        doctor.get_by_role("button", name="Terminer la consultation").click()
        patient.get_by_text("La consultation est terminée").wait_for()
    finally:
        patient_context.close()
        doctor_context.close()
    assert Appointment.objects.get(pk=call.appointment.pk).status == Appointment.Status.SEEN


def test_a_stranger_is_refused_and_a_dead_link_explains(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    context, page = _side(browser, asgi_server, call.w.outsider)
    try:
        assert page.goto(f"/visio/{call.room.pk}/").status == 404
        assert page.goto(f"/pro/visio/{call.room.pk}/").status in (403, 404)
        token = rooms.join_link_token(call.room)
        Appointment.objects.filter(pk=call.appointment.pk).update(
            status=Appointment.Status.CANCELLED
        )
        response = page.goto(f"/visio/lien/{token}/")
        assert response.status == 410
        page.get_by_text("Le rendez-vous a été annulé").wait_for()
        assert_accessible(page)
    finally:
        context.close()


def test_the_signed_link_brings_a_patient_without_an_account_to_the_waiting_room(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    context, page = _open(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page.goto(f"/visio/lien/{rooms.join_link_token(call.room)}/")
        page.get_by_text("Vous êtes en salle d'attente").wait_for()
        assert_accessible(page)
    finally:
        context.close()
