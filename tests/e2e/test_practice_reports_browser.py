"""The dashboard, the audit trail and calendar sync in a real browser, on a 375 px phone:
readable without sideways scrolling, no accessibility violation, no Content-Security-Policy
violation (the charts are inline SVG drawn with presentation attributes only)."""

from datetime import datetime, timedelta

from django.urls import reverse

from consulto.core.audit import record
from consulto.scheduling.models import Appointment
from tests.conftest import PARIS, at
from tests.practice.conftest import practice  # noqa: F401 (fixture)

from .conftest import assert_accessible, assert_fits_width, log_in, shoot

Status, Channel = Appointment.Status, Appointment.Channel


def test_the_dashboard_reads_well_on_a_phone(practice, phone, live_server):  # noqa: F811
    w = practice
    today = datetime.now(PARIS).date()
    monday = today - timedelta(days=today.weekday())
    for week in range(-11, 4):
        for n in range(week % 4 + 2):
            start = at(monday + timedelta(weeks=week, days=n % 5), 9 + n)
            Appointment.objects.create(
                agenda=w.agenda, motive=w.follow_up, start=start,
                end=start + timedelta(minutes=15),
                status=Status.BOOKED if week > 0 else (Status.NO_SHOW if n == 2 else Status.SEEN),
                channel=Channel.ONLINE if n % 2 else Channel.SECRETARY,
            )  # fmt: skip
    log_in(phone, w.admin, live_server)

    phone.goto(reverse("practice:dashboard"))

    # Weekly bookings, channels, no-shows, and consultations taken through regulation (SAS).
    assert phone.locator("svg[role=img]").count() == 4
    assert_fits_width(phone)
    assert_accessible(phone)
    shoot(phone, "practice-dashboard-phone")


def test_the_audit_trail_reads_well_on_a_phone(practice, phone, live_server):  # noqa: F811
    w = practice
    for n in range(3):
        record(
            actor=w.gp_user, action="read", target_type="note", target_id=n,
            organisation_id=w.organisation.pk, patient_file_id=w.file.pk, ip="192.0.2.1",
        )  # fmt: skip
    log_in(phone, w.admin, live_server)

    phone.goto(reverse("practice:audit"))
    phone.select_option("#audit-action", "read")
    phone.click("form.audit-filters button[type=submit]")
    phone.wait_for_url(lambda url: "action=read" in url)  # the filtered page, fully loaded

    assert phone.locator("tbody tr").count() == 3
    assert_fits_width(phone)
    assert_accessible(phone)
    shoot(phone, "practice-audit-phone")


def test_a_practitioner_makes_and_copies_a_calendar_address(practice, phone, live_server):  # noqa: F811
    w = practice
    log_in(phone, w.gp_user, live_server)
    phone.goto(reverse("practice:feed", args=[w.agenda.pk]))
    assert_accessible(phone)

    phone.click("form.panel button[type=submit]")

    address = phone.input_value("#feed-url")
    assert address.endswith(".ics")
    assert phone.locator("#feed-url").get_attribute("readonly") is not None
    assert_fits_width(phone)
    assert_accessible(phone)
    shoot(phone, "practice-feed-phone")
