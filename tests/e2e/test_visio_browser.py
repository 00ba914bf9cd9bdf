"""A video consultation between two Chromium contexts with fake cameras: the patient waits, the
practitioner lets them in, both connect and decode frames, chat goes across, a reload rejoins,
ending marks the appointment seen; a stranger and a dead link are refused. Before the call, the
device test reaches a real relay server (coturn), or says plainly what to do when it cannot.

The call needs WebSockets: these tests run against the ASGI application (uvicorn in a thread).
"""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation

from consulto.core.device_check import device_texts
from consulto.core.models import AuditEvent
from consulto.scheduling.models import Appointment
from consulto.teleconsultation import delegations, rooms
from tests.practice.conftest import practice  # noqa: F401 (fixture)
from tests.teleconsultation.conftest import call, substitute  # noqa: F401 (fixtures)

from .conftest import DESKTOP, PHONE, _open, assert_accessible, assert_fits_width, log_in, shoot
from .coturn import free_port, turn_server  # noqa: F401 (fixture)
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
    # Polled from here: wait_for_function takes an async predicate's promise for a truthy
    # value at once, so it cannot wait for getStats.
    deadline = time.monotonic() + timeout / 1000
    while page.evaluate(FRAMES) == 0:
        assert time.monotonic() < deadline, "no video frame decoded"
        page.wait_for_timeout(50)


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

        # Ending asks first (it marks the appointment seen); "continue" keeps the call on.
        doctor.get_by_role("button", name="Terminer la consultation").click()
        dialog = doctor.get_by_role("dialog", name="Terminer la consultation ?")
        dialog.get_by_text("le rendez-vous est marqué comme vu").wait_for()
        shoot(doctor, "visio-5-end-confirm")
        assert_accessible(doctor)
        doctor.keyboard.press("Escape")
        assert dialog.is_hidden()
        assert Appointment.objects.get(pk=call.appointment.pk).status != Appointment.Status.SEEN
        doctor.get_by_role("button", name="Terminer la consultation").click()
        dialog.get_by_role("button", name="Poursuivre l'appel").click()
        assert (
            dialog.is_hidden() and doctor.evaluate("window.visio.pc.connectionState") == "connected"
        )
        doctor.get_by_role("button", name="Terminer la consultation").click()
        dialog.get_by_role("button", name="Terminer et marquer vu").click()
        patient.get_by_text("La consultation est terminée").wait_for()

        # Reloaded after the call, the page says it is over and keeps the chat.
        patient.reload()
        patient.get_by_role("heading", name="La consultation est terminée").wait_for()
        patient.locator(".visio-transcript").get_by_text("Bonjour docteur").wait_for()
        assert patient.get_by_text("reconnexion").count() == 0
        shoot(patient, "visio-6-ended-phone")
        assert_accessible(patient)
        assert_fits_width(patient)
    finally:
        patient_context.close()
        doctor_context.close()
    assert Appointment.objects.get(pk=call.appointment.pk).status == Appointment.Status.SEEN


def test_a_practitioner_ready_first_lets_the_patient_in_on_arrival(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    """Ticked before the patient comes, "let the patient in as soon as they arrive" starts the
    call when they open the page, with no click; the choice is kept in the browser. The page
    leaves its offer with the server, which sends it with the admission: the practitioner's page
    neither admits nor offers itself."""
    doctor_context, doctor = _side(browser, asgi_server, call.gp)
    patient_context, patient = _side(browser, asgi_server, call.patient_user, phone=True)
    sent = []
    doctor.on(
        "websocket",
        lambda socket: socket.on("framesent", lambda frame: sent.append(json.loads(frame)["type"])),
    )
    try:
        doctor.goto(f"/pro/visio/{call.room.pk}/")
        doctor.get_by_text("Le patient n'est pas encore arrivé.").wait_for()
        box = doctor.get_by_label("Faire entrer le patient dès son arrivée")
        box.check()
        shoot(doctor, "visio-0-ready-on-arrival")
        assert_accessible(doctor)
        patient.goto(f"/visio/{call.room.pk}/")
        _connected(patient)
        _connected(doctor)
        assert not box.is_visible()  # admitted: the choice has done its work
        assert rooms.load_room(call.room.pk).admitted_at is not None
        assert "arm" in sent and "admit" not in sent and "offer" not in sent
        # Kept in this browser for the next call's page.
        assert doctor.evaluate("() => localStorage.getItem('consulto.visio.autoAdmit')") == "1"
    finally:
        patient_context.close()
        doctor_context.close()


# The patient's camera opens only when the test says so (a slow camera, or a permission the
# patient has not granted yet).
HELD_CAMERA = """(() => {
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.releaseCamera = () => {};
  navigator.mediaDevices.getUserMedia = (constraints) =>
    new Promise((resolve) => (window.releaseCamera = resolve)).then(() => ask(constraints));
})();"""


def _frames(page) -> int:
    return page.evaluate(FRAMES)


def test_the_patient_sees_the_practitioner_before_their_own_camera_opens(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    """A camera slow to open does not hold the call up: the patient's page answers at once and
    shows the practitioner; the patient's own picture joins the call when the camera opens,
    without a new negotiation. The device test's requests wait for the call's first frame."""
    doctor_context, doctor = _side(browser, asgi_server, call.gp)
    patient_context, patient = _side(browser, asgi_server, call.patient_user, phone=True)
    patient_context.add_init_script(HELD_CAMERA)
    try:
        doctor.goto(f"/pro/visio/{call.room.pk}/")
        doctor.get_by_label("Faire entrer le patient dès son arrivée").check()
        patient.goto(f"/visio/{call.room.pk}/")
        _connected(patient)  # the practitioner's frames, decoded
        assert "media" not in patient.evaluate("window.visio.marks")  # the camera is not open
        assert _frames(doctor) == 0  # nothing to show of the patient yet
        negotiated = doctor.evaluate("window.visio.pc.remoteDescription.sdp")
        patient.evaluate("window.releaseCamera()")
        deadline = time.monotonic() + 15
        while _frames(doctor) == 0:
            assert time.monotonic() < deadline, "the patient's camera never reached the call"
            doctor.wait_for_timeout(50)
        assert doctor.evaluate("window.visio.pc.remoteDescription.sdp") == negotiated
        # One transport for sound and picture, gathered once.
        assert patient.evaluate("window.visio.pc.getConfiguration().bundlePolicy") == "max-bundle"
        pings = patient.evaluate(
            """() => performance.getEntriesByType('resource')
                 .filter((r) => r.name.includes('/visio/ping/')).map((r) => r.startTime)"""
        )
        assert pings and min(pings) >= patient.evaluate("window.visio.marks.frame")
        assert not patient.csp_violations and not doctor.csp_violations
    finally:
        patient_context.close()
        doctor_context.close()


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


def test_too_early_the_page_says_when_then_opens_itself(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    """No "reconnecting" loop: the time it opens, a device test meanwhile, then the waiting
    room by itself when the room opens."""
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=15, seconds=4)
    Appointment.objects.filter(pk=call.appointment.pk).update(
        start=start, end=start + timedelta(minutes=15)
    )
    context, page = _side(browser, asgi_server, call.patient_user, phone=True)
    try:
        page.goto(f"/visio/{call.room.pk}/")
        page.get_by_role(
            "heading", name="La salle de consultation n'est pas encore ouverte"
        ).wait_for()
        opens = (start - timedelta(minutes=15)).astimezone(call.w.site.zone)
        page.get_by_text(f"Elle ouvre à {opens:%H:%M}").wait_for()
        shoot(page, "visio-0-too-early-phone")
        assert_accessible(page)
        assert_fits_width(page)
        page.get_by_text("Vous êtes en salle d'attente").wait_for(timeout=20_000)
        assert rooms.load_room(call.room.pk).waiting_since is not None
    finally:
        context.close()


def test_the_patient_file_is_beside_the_call(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    """Read (audited) and a note added without leaving the call; beside the video on a laptop,
    under it on a phone."""
    rooms.add_note(call.room, by=call.gp, text="Asthme connu, Ventoline si besoin")
    for name, phone in (("laptop", False), ("phone", True)):
        context, doctor = _open(
            browser, asgi_server, viewport=PHONE if phone else {"width": 1366, "height": 768},
            is_mobile=phone, has_touch=phone,
        )  # fmt: skip
        log_in(doctor, call.gp, asgi_server)
        try:
            doctor.goto(f"/pro/visio/{call.room.pk}/")
            doctor.get_by_text("Le patient n'est pas encore arrivé.").wait_for()
            panel = doctor.locator("#visio-file")
            stage = doctor.locator(".visio-stage").bounding_box()
            box = panel.bounding_box()
            if phone:
                assert box["y"] > stage["y"] + stage["height"]  # under the call
            else:
                assert box["x"] > stage["x"] + stage["width"]  # beside the call
            panel.locator("summary").focus()
            doctor.keyboard.press("Enter")  # by keyboard
            panel.get_by_text("Asthme connu, Ventoline si besoin").wait_for()
            note = f"Note pendant l'appel ({name})"
            panel.get_by_label("Nouvelle note").fill(note)
            panel.get_by_role("button", name="Enregistrer la note").click()
            panel.get_by_text("Note enregistrée.").wait_for()
            panel.get_by_text(note).wait_for()
            assert doctor.url.endswith(f"/pro/visio/{call.room.pk}/")  # still in the call
            shoot(doctor, f"visio-7-patient-file-{name}")
            assert_accessible(doctor)
            assert_fits_width(doctor)
        finally:
            context.close()
    reads = AuditEvent.objects.filter(actor=call.gp, action="read", target_type="patient_file")
    assert reads.count() >= 2
    assert (
        AuditEvent.objects.filter(actor=call.gp, action="create", target_type="note").count() == 3
    )


def test_the_signed_link_brings_a_patient_without_an_account_to_the_waiting_room(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    settings,
):
    settings.CONSULTO_TURN_URLS = []
    context, page = _open(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page.goto(f"/visio/lien/{rooms.join_link_token(call.room)}/")
        page.get_by_text("Vous êtes en salle d'attente").wait_for()
        # No relay server on this platform: said plainly, and not as a failure.
        relay = page.locator("#check-relay")
        relay.get_by_text(_french("relayNone")).wait_for()
        assert relay.get_attribute("class") != "ko"
        assert page.locator("#video-form [name=relay]").input_value() == "none"
        assert_accessible(page)
    finally:
        context.close()


def test_a_link_after_the_consultation_is_refused_plainly(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
):
    # The link of an appointment that ended three hours ago (it closes 30 minutes after).
    long_ago = call.appointment.start - timedelta(hours=3)
    Appointment.objects.filter(pk=call.appointment.pk).update(
        start=long_ago, end=long_ago + timedelta(minutes=15)
    )
    token = rooms.join_link_token(rooms.load_room(call.room.pk))
    context, page = _open(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        assert page.goto(f"/visio/lien/{token}/").status == 410
        page.get_by_text("La consultation est passée : le lien ne fonctionne plus.").wait_for()
        assert_accessible(page)
        assert_fits_width(page)
    finally:
        context.close()


def test_a_substitute_consults_sends_a_prescription_and_the_patient_downloads_it(
    call,  # noqa: F811
    substitute,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    tmp_path,
):
    delegations.grant(
        titular=call.w.gp, by=call.gp, substitute_query=substitute.rpps,
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=8),
        scope="video",
    )  # fmt: skip
    patient_context, patient = _side(browser, asgi_server, call.patient_user, phone=True)
    doctor_context, doctor = _side(browser, asgi_server, substitute.user)
    try:
        patient.goto(f"/visio/{call.room.pk}/")
        patient.get_by_text("Vous êtes en salle d'attente").wait_for()
        patient.get_by_text(
            f"{substitute.display_name} remplace {call.w.gp.display_name}"
        ).wait_for()
        assert_accessible(patient)

        doctor.goto("/pro/remplacements/")
        assert_accessible(doctor)
        shoot(doctor, "visio-3-replacements")
        doctor.get_by_role("link", name="Ouvrir la téléconsultation").first.click()
        doctor.get_by_role("button", name="Faire entrer le patient").click()
        _connected(doctor)
        _connected(patient)

        prescription = tmp_path / "ordonnance.pdf"
        prescription.write_bytes(b"%PDF-1.4\n% ordonnance\n" + b"0" * 500)
        doctor.set_input_files("#visio-document-file", str(prescription))
        doctor.get_by_role("button", name="Envoyer le document").click()
        doctor.locator("#visio-documents").get_by_text("ordonnance.pdf").wait_for()
        link = patient.locator("#visio-documents").get_by_role("link", name="ordonnance.pdf")
        link.wait_for()
        shoot(patient, "visio-4-document-phone")
        assert_accessible(patient)
        with patient.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "ordonnance.pdf"
        assert Path(download.value.path()).read_bytes() == prescription.read_bytes()

        # A bad file is refused with a plain message, and nothing is sent.
        doctor.locator("#visio-document-form button:enabled").wait_for()  # the first send is over
        bad = tmp_path / "notes.txt"
        bad.write_text("pas un document")
        doctor.set_input_files("#visio-document-file", str(bad))
        doctor.get_by_role("button", name="Envoyer le document").click()
        doctor.locator("#visio-document-error").get_by_text("PDF, JPEG").wait_for()
        assert patient.locator("#visio-documents li").count() == 1
    finally:
        patient_context.close()
        doctor_context.close()
    events = AuditEvent.objects.filter(actor=substitute.user)
    assert {e.on_behalf_of_id for e in events} == {call.gp.pk}
    assert {"create", "update"} <= set(events.values_list("action", flat=True))


# The relay check (TURN) --------------------------------------------------------------------------

RELAY_WAIT = 15_000  # the page gives up after 5 s; a busy CI machine gets some slack


def _french(key: str) -> str:
    """What the device test says in French (the default), as the page's catalogue has it."""
    with translation.override("fr"):
        return device_texts()[key]


def _patient_device_test(browser, server, call):  # noqa: F811
    context, page = _side(browser, server, call.patient_user, phone=True)
    page.goto(f"/visio/{call.room.pk}/")
    return context, page


# coturn checks the credentials' expiry against the machine's clock, not the suite's.
@pytest.mark.real_clock
def test_the_device_test_reaches_the_relay_server(
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    turn_server,  # noqa: F811
    settings,
):
    settings.CONSULTO_TURN_URLS = [turn_server.url]
    settings.CONSULTO_TURN_SECRET = turn_server.secret
    context, page = _patient_device_test(browser, asgi_server, call)
    try:
        relay = page.locator("#check-relay")
        reachable = _french("relayOk").split("%(ms)s")[0]
        relay.get_by_text(reachable).wait_for(timeout=RELAY_WAIT)
        assert relay.get_attribute("class") == "ok"
        assert page.locator("#video-form [name=relay]").input_value() == "reachable"
        assert 0 <= int(page.locator("#video-form [name=relay_ms]").input_value()) <= 5_000
        assert page.locator("#relay-help").is_hidden()
        shoot(page, "visio-0-device-test-relay-reachable")
        assert_accessible(page)
    finally:
        context.close()


@pytest.mark.real_clock
@pytest.mark.parametrize("fault", ["closed_port", "wrong_secret"])
def test_the_device_test_explains_an_unreachable_relay_server(
    fault,
    call,  # noqa: F811
    browser,
    asgi_server,  # noqa: F811
    request,
    settings,
):
    if fault == "closed_port":
        settings.CONSULTO_TURN_URLS = [f"turn:127.0.0.1:{free_port()}?transport=udp"]
        settings.CONSULTO_TURN_SECRET = "no-server-listens-there"
    else:  # coturn answers, but refuses credentials signed with another secret
        server = request.getfixturevalue("turn_server")
        settings.CONSULTO_TURN_URLS = [server.url]
        settings.CONSULTO_TURN_SECRET = server.secret + "-not"
    context, page = _patient_device_test(browser, asgi_server, call)
    try:
        relay = page.locator("#check-relay")
        relay.get_by_text(_french("relayKo")).wait_for(timeout=RELAY_WAIT)
        assert relay.get_attribute("class") == "ko"
        help_box = page.locator("#relay-help")
        assert help_box.inner_text() == _french("relayHelp")
        assert "3478" in help_box.inner_text() and "443" in help_box.inner_text()
        assert page.locator("#video-form [name=relay]").input_value() == "unreachable"
        assert page.locator("#video-form [name=relay_ms]").input_value() == ""
        shoot(page, f"visio-0-device-test-relay-{fault}")
        assert_accessible(page)
    finally:
        context.close()
