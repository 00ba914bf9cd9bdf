"""The agenda full of appointments, as a busy practice sees it, checked by axe in a real browser:
every motive colour (the settings palette, the demo's and the onboarding presets'), every status,
long patient names, a blocked period, several agendas side by side, day and week, desktop and a
375 px phone. And the week view of several agendas still names the patients."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from consulto.demo.dataset.motives import COLOURS as DEMO_COLOURS
from consulto.onboarding.presets import MOTIVE_PRESETS
from consulto.practice.models import AgendaAssignment
from consulto.practice.settings_forms import MOTIVE_PALETTE
from consulto.scheduling.models import Absence, Agenda, Appointment, Motive, PatientProfile
from tests.practice.conftest import practice  # noqa: F401 (fixture)

from .conftest import DESKTOP, PHONE, _open, assert_accessible, assert_fits_width, log_in, shoot
from .test_practice import asgi_server  # noqa: F401 (fixture)

Status = Appointment.Status
LONG_NAMES = [
    ("Marie-Christine", "de La Rochefoucauld-Montmorency"),
    ("Jean-Baptiste", "Nguyễn Văn Thành-Lefèvre"),
    ("Anne", "Petit"),
    ("Maximilien-Alexandre", "Oudinot de la Faverie"),
]


def _colours() -> list[str]:
    presets = {p.colour for group in MOTIVE_PRESETS.values() for p in group}
    extremes = {"#ffeb3b", "#000000", "#ffffff", "#808080", "#ff0000", "#00ff00"}
    return sorted({c for c, _name in MOTIVE_PALETTE} | set(DEMO_COLOURS) | presets | extremes)


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _fill(w) -> date:
    """Three agendas of the centre, this week full of appointments of every colour and status."""
    w.agenda3 = Agenda.objects.create(organisation=w.organisation, site=w.site, name="Dr Lemoine")
    agendas = [w.agenda, w.agenda2, w.agenda3]
    for agenda in agendas:
        AgendaAssignment.objects.get_or_create(user=w.secretary, agenda=agenda)
    zone = w.site.zone
    monday = _monday_of(timezone.now().astimezone(zone).date())
    colours = _colours()
    motives = {
        agenda.pk: [
            Motive.objects.create(
                agenda=agenda, label=f"Motif {i + 1} ({colour})", duration_minutes=30,
                colour=colour,
            )
            for i, colour in enumerate(colours)
        ]
        for agenda in agendas
    }  # fmt: skip
    people = [
        PatientProfile.objects.create(first_name=first, last_name=last, birth_date=date(1970, 1, 1))
        for first, last in LONG_NAMES
    ]
    statuses = [Status.BOOKED, Status.ARRIVED, Status.IN_PROGRESS, Status.SEEN, Status.NO_SHOW]
    rows = []
    for a, agenda in enumerate(agendas):
        for day in range(6):
            for slot in range(0, 18):  # 08:00-17:00, every half hour
                start = datetime.combine(
                    monday + timedelta(days=day), time(8), tzinfo=zone
                ) + timedelta(minutes=30 * slot)
                n = a + day * 18 + slot
                rows.append(
                    Appointment(
                        agenda=agenda, motive=motives[agenda.pk][n % len(colours)],
                        patient=people[n % len(people)], start=start,
                        end=start + timedelta(minutes=30), status=statuses[n % len(statuses)],
                        channel=Appointment.Channel.SECRETARY, booked_by=w.secretary,
                    )
                )  # fmt: skip
    Appointment.objects.bulk_create(rows)
    Absence.objects.create(
        agenda=w.agenda2, reason="Formation continue",
        start=datetime.combine(monday + timedelta(days=2), time(18), tzinfo=zone),
        end=datetime.combine(monday + timedelta(days=2), time(20), tzinfo=zone),
    )  # fmt: skip
    w.agendas = agendas
    return monday


def _open_agenda(page, w, monday, view):
    ids = ",".join(str(a.pk) for a in w.agendas)
    page.goto(f"/pro/?agendas={ids}&view={view}&date={monday + timedelta(days=2)}")
    page.wait_for_selector("[data-calendars][data-live=on]")
    page.wait_for_selector("[data-calendars][aria-busy=false]", state="attached")
    page.wait_for_selector(".fc-event")


@pytest.mark.parametrize("view", ["day", "week"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_full_agenda_of_every_colour_and_status_passes_axe(
    practice, browser, asgi_server, view, size  # noqa: F811
):  # fmt: skip
    w = practice
    monday = _fill(w)
    options = {"viewport": DESKTOP} if size == "desktop" else {
        "viewport": PHONE, "is_mobile": True, "has_touch": True
    }  # fmt: skip
    context, page = _open(browser, asgi_server, **options)
    try:
        log_in(page, w.secretary, asgi_server)
        _open_agenda(page, w, monday, view)
        events = page.locator(".fc-event").count()
        assert events >= (3 * 18 if view == "day" else 3 * 6 * 18) * 0.9, events
        assert_accessible(page)
        if size == "phone":
            assert_fits_width(page)
        shoot(page, f"practice-agenda-colours-{view}-{size}")
    finally:
        context.close()
    assert not page.csp_violations, page.csp_violations


def test_the_week_of_several_agendas_names_the_patients(practice, browser, asgi_server):  # noqa: F811
    w = practice
    monday = _fill(w)
    context, page = _open(browser, asgi_server, viewport=DESKTOP)
    try:
        log_in(page, w.secretary, asgi_server)
        _open_agenda(page, w, monday, "week")
        # A half-hour appointment shows at least the start of its patient's name, readable.
        event = page.locator(".fc-timegrid-event:has-text('Petit')").first
        event.wait_for(state="visible")
        title = event.locator(".event-patient")
        assert title.is_visible()
        box = title.bounding_box()
        assert box["width"] >= 40 and box["height"] >= 10, box
        shoot(page, "practice-agenda-week-names")
    finally:
        context.close()


def test_an_appointment_booked_at_night_shows_in_the_calendar(practice, browser, asgi_server):  # noqa: F811
    w = practice
    from tests.conftest import at

    Appointment.objects.create(
        agenda=w.agenda, motive=w.first, patient=w.profile, start=at(w.monday, 3),
        end=at(w.monday, 3, 30), channel=Appointment.Channel.SECRETARY, booked_by=w.secretary,
    )  # fmt: skip
    context, page = _open(browser, asgi_server, viewport=DESKTOP)
    try:
        log_in(page, w.secretary, asgi_server)
        page.goto(f"/pro/?agendas={w.agenda.pk}&date={w.monday}")
        event = page.locator(".fc-timegrid-event:has-text('Jeanne Petit')")
        event.wait_for(state="visible")
        assert page.locator("td.fc-timegrid-slot-lane[data-time='03:00:00']").count() == 1
    finally:
        context.close()
