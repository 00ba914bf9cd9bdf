"""The practice space in a real browser: a secretary logs in with her authenticator code, books a
patient by phone, moves and cancels; a practitioner marks arrived and seen on a phone; an online
booking appears in the open agenda without a reload; drag and drop moves an appointment.

The agenda's live updates need WebSockets, so these tests run against the ASGI application
(uvicorn in a thread, the same database and channel layer as the test).
"""

import base64
import hashlib
import hmac
import socket
import struct
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from django.urls import reverse

from consulto.api.models import ApiToken
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment
from tests.conftest import at
from tests.practice.conftest import practice, with_totp  # noqa: F401 (fixtures)

from .conftest import DESKTOP, PHONE, _open, assert_accessible, assert_fits_width, shoot

Status = Appointment.Status


def totp_code(secret: str, at_time: float | None = None) -> str:
    """RFC 6238, as an authenticator app computes it."""
    counter = int(at_time or time.time()) // 30
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 15
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


class AsgiServer:
    def __init__(self, url: str):
        self.url = url


@pytest.fixture
def asgi_server(transactional_db):
    """The whole ASGI application (HTTP, static files, WebSockets) on a free local port."""
    import uvicorn
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from consulto.asgi import application

    app = ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(application.application_mapping["http"]),
            "websocket": application.application_mapping["websocket"],
        }
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the ASGI test server did not start"
    yield AsgiServer(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def desk(browser, asgi_server):
    context, page = _open(browser, asgi_server, viewport=DESKTOP)
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


@pytest.fixture
def pocket(browser, asgi_server):
    context, page = _open(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    context.close()
    assert not page.csp_violations, page.csp_violations


def staff_log_in(page, user, password: str, secret: str, next_url: str = "/pro/") -> None:
    """The real way in: e-mail and password, then the authenticator's code."""
    page.goto(f"/accounts/login/?next={quote(next_url)}")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/2fa/authenticate/**")
    assert_accessible(page)
    if time.time() % 30 > 27:  # a code about to change: wait for the next one
        time.sleep(30 - time.time() % 30 + 0.2)
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(next_url))


def wait_live(page) -> None:
    page.wait_for_selector("[data-calendars][data-live=on]")


def test_a_secretary_logs_in_with_totp_books_by_phone_moves_and_cancels(practice, desk):  # noqa: F811
    w = practice
    page = desk
    staff_log_in(page, w.secretary, "x" * 12, w.totp[w.secretary.pk])
    wait_live(page)
    assert_accessible(page)

    page.click("text=Nouveau rendez-vous")
    # The patient fields of the other kind are hidden, whatever their layout says.
    assert not page.locator("input[name=last_name]").is_visible()
    page.select_option("select[name=motive]", str(w.first.pk))
    page.fill("input[name=date]", w.monday.isoformat())
    page.locator(f"#slots[data-day='{w.monday}'] input[name=time][value='09:00']").check()
    page.check("input[name=patient_kind][value=new]")
    assert not page.locator("input[name=query]").is_visible()
    page.fill("input[name=last_name]", "Nouveau")
    page.fill("input[name=first_name]", "Nina")
    page.fill("input[name=birth_date]", "1990-04-02")
    page.fill("input[name=phone]", "06 11 22 33 44")
    assert_accessible(page)
    shoot(page, "practice-new-appointment")
    page.click("main form button:text('Réserver')")
    page.wait_for_selector(".fc-event:has-text('Nina Nouveau')")
    assert page.locator("[data-day-list]").get_by_text("Nina Nouveau").is_visible()
    assert_accessible(page)
    shoot(page, "practice-agenda-day")

    page.locator("[data-day-list]").get_by_role("link", name="Nina Nouveau").click()
    page.fill("input[name=time]", "10:30")
    page.click("text=Déplacer le rendez-vous")
    page.wait_for_selector("text=le patient est prévenu")
    assert "10:30" in page.inner_text("main")
    assert_accessible(page)
    shoot(page, "practice-appointment")
    moved = Appointment.objects.get(patient__last_name="Nouveau", status=Status.BOOKED)
    assert moved.start == at(w.monday, 10, 30)

    page.fill("input[name=reason]", "Médecin en formation")
    page.click("text=Annuler le rendez-vous…")
    page.wait_for_selector("h1:text('Annuler le rendez-vous ?')")
    assert "Médecin en formation" in page.inner_text("main")
    assert_accessible(page)
    shoot(page, "practice-cancel-confirm")
    moved.refresh_from_db()
    assert moved.status == Status.BOOKED  # nothing happens before the confirmation
    page.click("text=Oui, annuler le rendez-vous")
    page.wait_for_selector("text=Rendez-vous annulé")
    moved.refresh_from_db()
    assert moved.status == Status.CANCELLED
    assert moved.cancel_reason == "Médecin en formation"
    assert page.locator(".fc-event:has-text('Nina Nouveau')").count() == 0


def test_a_practitioner_marks_arrived_then_seen_on_a_phone(practice, pocket):  # noqa: F811
    w = practice
    appointment = booking.book(
        agenda=w.agenda, motive=w.follow_up, start=at(w.monday, 9), patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY,
    )  # fmt: skip
    page = pocket
    staff_log_in(
        page, w.gp_user, "x" * 12, w.totp[w.gp_user.pk],
        next_url=reverse("practice:appointment", args=[appointment.pk]),
    )  # fmt: skip
    assert_fits_width(page)
    assert_accessible(page)
    try:
        page.click("text=Marquer arrivé")
    except Exception:
        shoot(page, "debug-phone")
        print("DEBUG URL", page.url)
        raise
    page.wait_for_selector("text=Statut : En salle d'attente")
    page.click("text=Marquer vu")
    page.wait_for_selector("text=Statut : Vu")
    appointment.refresh_from_db()
    assert appointment.status == Status.SEEN
    assert_fits_width(page)
    shoot(page, "practice-appointment-phone")
    page.goto(f"/pro/?agendas={w.agenda.pk}&date={w.monday}")
    wait_live(page)
    assert_fits_width(page)
    assert_accessible(page)
    shoot(page, "practice-agenda-phone")


def test_an_online_booking_appears_live_in_the_open_agenda(practice, patient, desk, asgi_server):  # noqa: F811
    w = practice
    page = desk
    staff_log_in(
        page, w.secretary, "x" * 12, w.totp[w.secretary.pk],
        next_url=f"/pro/?agendas={w.agenda.pk}&date={w.monday}",
    )  # fmt: skip
    wait_live(page)
    assert page.locator(".fc-event").count() == 0
    _token, secret = ApiToken.issue(patient.owner, name="e2e")
    started = time.monotonic()
    response = httpx.post(
        f"{asgi_server.url}/api/v1/appointments",
        headers={"Authorization": f"Bearer {secret}"},
        json={
            "agenda": w.agenda.pk, "motive": w.follow_up.pk,
            "start": at(w.monday, 11).isoformat(),
            "patient": {"first_name": "Alice", "last_name": "Durand", "birth_date": "1980-05-17"},
        },
    )  # fmt: skip
    assert response.status_code == 201, response.text
    page.wait_for_selector(".fc-event:has-text('Alice Durand')", timeout=5000)
    print(f"online booking visible in the agenda after {time.monotonic() - started:.2f} s")
    assert page.locator("[data-day-list]").get_by_text("Alice Durand").is_visible()
    assert "mis à jour" in page.inner_text("[data-live-status]")


def test_drag_and_drop_moves_and_a_refused_drop_goes_back(practice, desk):  # noqa: F811
    w = practice
    first = booking.book(
        agenda=w.agenda, motive=w.follow_up, start=at(w.monday, 9), patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY,
    )  # fmt: skip
    booking.book(
        agenda=w.agenda, motive=w.first, start=at(w.monday, 11), patient=w.profile,
        booked_by=w.secretary, channel=Appointment.Channel.SECRETARY,
    )  # fmt: skip
    page = desk
    page.set_viewport_size({"width": 1280, "height": 2400})  # the whole day without scrolling
    staff_log_in(
        page, w.secretary, "x" * 12, w.totp[w.secretary.pk],
        next_url=f"/pro/?agendas={w.agenda.pk}&date={w.monday}",
    )  # fmt: skip
    wait_live(page)

    def settled() -> None:
        # A move is followed by a refresh and a live update, each re-rendering the events: wait
        # until no refresh is pending or loading, and still none a moment later.
        for _ in range(3):
            page.wait_for_selector("[data-calendars][aria-busy=false]", state="attached")
            page.wait_for_timeout(250)
        page.wait_for_selector("[data-calendars][aria-busy=false]", state="attached")

    def drag(event_text: str, to_time: str) -> None:
        settled()
        event = page.locator(f".fc-timegrid-event:has-text('{event_text}')").first
        event.wait_for(state="visible")
        box = event.bounding_box()
        slot = page.locator(f"td.fc-timegrid-slot-lane[data-time='{to_time}']").first.bounding_box()
        assert box is not None and slot is not None, "the event or the slot is not on screen"
        x, y = box["x"] + box["width"] / 2, box["y"] + 4
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 11):  # in small steps, as a hand would
            page.mouse.move(x, y + (slot["y"] + 2 - y) * step / 10)
        page.mouse.up()

    drag("Consultation de suivi", "14:00:00")
    page.wait_for_selector("[data-toast]:not([hidden])")
    assert "Rendez-vous déplacé au lundi" in page.inner_text("[data-toast]")
    moved = Appointment.objects.get(rescheduled_from=first)
    assert moved.start == at(w.monday, 14)
    assert_accessible(page)
    shoot(page, "practice-agenda-undo-toast")
    # "Annuler" puts it back where it was.
    page.locator("[data-toast]").get_by_role("button", name="Annuler").click()
    page.wait_for_selector("[data-toast]:has-text('de retour le lundi')")
    back = Appointment.objects.get(rescheduled_from=moved)
    assert back.start == at(w.monday, 9) and back.status == Status.BOOKED

    drag("Consultation de suivi", "14:00:00")
    page.wait_for_selector("[data-toast]:has-text('déplacé au lundi')")
    moved = Appointment.objects.get(rescheduled_from=back)
    assert moved.start == at(w.monday, 14)

    # A drop at lunch time, outside the openings, asks first; "leave it" puts it back.
    drag("Consultation de suivi", "12:30:00")
    page.wait_for_selector("dialog[open]")
    assert "En dehors des plages d'ouverture" in page.inner_text("dialog")
    assert_accessible(page)
    shoot(page, "practice-agenda-confirm-move")
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog[open]", state="detached")
    moved.refresh_from_db()
    assert moved.status == Status.BOOKED and moved.start == at(w.monday, 14)

    drag("Consultation de suivi", "11:00:00")  # onto the 11:00 first consultation
    page.wait_for_selector("[data-alert]:not([hidden])")
    assert "n'a pas pu être déplacé" in page.inner_text("[data-alert]")
    moved.refresh_from_db()
    assert moved.status == Status.BOOKED and moved.start == at(w.monday, 14)
    shoot(page, "practice-agenda-refused-drop")


def test_a_practitioner_keeps_a_note_and_a_document_in_the_patient_file(practice, desk, tmp_path):  # noqa: F811
    w = practice
    page = desk
    staff_log_in(page, w.gp_user, "x" * 12, w.totp[w.gp_user.pk], next_url="/pro/patients/")
    page.fill("input[name=q]", "petit")
    page.click("main form button[type=submit]")
    page.click("text=PETIT Jeanne")
    assert_accessible(page)
    page.fill("textarea[name=text]", "Allergie à la pénicilline.")
    page.click("text=Enregistrer la note")
    page.wait_for_selector("text=Allergie à la pénicilline.")
    scan = tmp_path / "ordonnance.pdf"
    scan.write_bytes(b"%PDF-1.4\n% ordonnance\n" + b"0" * 100)
    page.set_input_files("input[name=document]", str(scan))
    page.click("text=Ajouter le document")
    page.wait_for_selector("a:has-text('ordonnance.pdf')")
    with page.expect_download() as download:
        page.click("a:has-text('ordonnance.pdf')")
    assert download.value.suggested_filename == "ordonnance.pdf"
    assert_accessible(page)
    shoot(page, "practice-patient-file")
    from consulto.core.models import AuditEvent

    assert set(
        AuditEvent.objects.filter(patient_file_id=w.file.pk).values_list("action", flat=True)
    ) == {"read", "create", "download"}


def test_a_practitioner_changes_a_motive_and_sees_what_patients_are_offered(practice, pocket):  # noqa: F811
    w = practice
    page = pocket
    staff_log_in(page, w.gp_user, "x" * 12, w.totp[w.gp_user.pk], next_url="/pro/reglages/")
    assert_fits_width(page)
    assert_accessible(page)
    page.get_by_role("link", name="Dr Martin").first.click()
    page.wait_for_selector("#preview")
    assert_fits_width(page)
    assert_accessible(page)
    page.get_by_role("link", name="Consultation de suivi").first.click()
    page.fill("input[name=duration_minutes]", "20")
    assert_accessible(page)
    page.click("text=Enregistrer le motif")
    page.wait_for_url("**#preview")
    w.follow_up.refresh_from_db()
    assert w.follow_up.duration_minutes == 20
    assert_fits_width(page)
    shoot(page, "practice-settings-phone")
