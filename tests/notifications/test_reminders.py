from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from consulto.notifications import services
from consulto.notifications.models import Message, ReminderSettings
from consulto.scheduling import booking
from tests.conftest import at

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def with_phone(patient):
    patient.phone = "+33 6 12 34 56 78"
    patient.save()
    return patient


def queued_reminders():
    rows = DBTaskResult.objects.filter(task_path__endswith="send_reminder")
    return sorted(
        (row.run_after, *row.args_kwargs["args"][1:3]) for row in rows
    )  # (run_after, purpose, channel)


def sent_reminders():
    return Message.objects.filter(purpose__startswith="reminder", status="sent")


def test_reminders_are_queued_7_days_and_1_day_before(world, with_phone, book):
    start = at(world.monday + timedelta(weeks=1), 9)
    appointment = book(start)
    assert queued_reminders() == [
        (start - timedelta(days=7), "reminder_7d", "email"),
        (start - timedelta(days=1), "reminder_1d", "email"),
        (start - timedelta(days=1), "reminder_1d", "sms"),
    ]
    rows = Message.objects.filter(appointment=appointment, purpose__startswith="reminder")
    assert {(m.purpose, m.channel, m.status) for m in rows} == {
        ("reminder_7d", "email", "pending"),
        ("reminder_1d", "email", "pending"),
        ("reminder_1d", "sms", "pending"),
    }


def test_reminders_already_in_the_past_are_not_scheduled(world, book):
    start = at(world.monday, 9)
    appointment = book(start, notify=False)
    services.schedule_reminders(appointment=appointment, now=start - timedelta(days=3))
    assert set(
        Message.objects.filter(appointment=appointment).values_list("purpose", flat=True)
    ) == {"reminder_1d"}


def test_each_reminder_goes_out_at_its_time(world, with_phone, book, run_tasks, sms_outbox):
    start = at(world.monday + timedelta(weeks=1), 9)
    book(start)
    run_tasks()  # the confirmations
    mail.outbox.clear()
    sms_outbox.clear()

    assert run_tasks(start - timedelta(days=7)) == [("send_reminder", "sent")]
    [week_before] = mail.outbox
    assert "dans une semaine" in week_before.body
    assert run_tasks(start - timedelta(days=1)) == [("send_reminder", "sent")] * 2
    assert "demain" in mail.outbox[1].body
    [sms] = sms_outbox
    assert sms["to"] == "+33612345678"
    assert "demain" in sms["text"] and "09:00" in sms["text"]


def test_a_cancelled_appointment_gets_no_reminder(
    world, user, with_phone, book, run_tasks, sms_outbox, django_capture_on_commit_callbacks
):
    start = at(world.monday + timedelta(weeks=1), 9)
    appointment = book(start)
    run_tasks()
    mail.outbox.clear()
    sms_outbox.clear()
    # Cancelled without telling notifications: the reminder checks the appointment itself.
    booking.cancel(appointment=appointment, by=user)

    run_tasks(start - timedelta(days=7))
    run_tasks(start - timedelta(days=1))
    assert mail.outbox == [] and sms_outbox == []
    assert set(
        Message.objects.filter(purpose__startswith="reminder").values_list("last_error", flat=True)
    ) == {"appointment cancelled"}


def test_a_moved_appointment_is_reminded_of_its_new_time_only(
    world, user, book, run_tasks, django_capture_on_commit_callbacks
):
    start = at(world.monday + timedelta(weeks=1), 9)
    appointment = book(start)
    new_start = at(world.monday + timedelta(weeks=1), 11)
    with django_capture_on_commit_callbacks(execute=True):
        moved = booking.reschedule(appointment=appointment, new_start=new_start, by=user)
        services.appointment_rescheduled(old=appointment, new=moved)
    run_tasks()
    mail.outbox.clear()

    run_tasks(start - timedelta(days=1))
    assert mail.outbox == []
    run_tasks(new_start - timedelta(days=1))
    [reminder] = mail.outbox
    assert "à 11:00" in reminder.subject
    old = Message.objects.filter(appointment=appointment, purpose__startswith="reminder")
    assert set(old.values_list("status", flat=True)) == {"skipped"}


def test_a_reminder_is_sent_once_even_if_its_task_runs_twice(
    world, with_phone, book, run_tasks, sms_outbox
):
    start = at(world.monday + timedelta(weeks=1), 9)
    book(start)
    run_tasks()
    sms_outbox.clear()
    due = start - timedelta(days=1)
    run_tasks(due)
    # The worker runs the same tasks again (e.g. after a crash before recording success).
    day_before = [
        row.pk
        for row in DBTaskResult.objects.filter(task_path__endswith="send_reminder")
        if "reminder_1d" in row.args_kwargs["args"]
    ]
    DBTaskResult.objects.filter(pk__in=day_before).update(status="READY")
    assert run_tasks(due + timedelta(minutes=1)) == [("send_reminder", "sent")] * 2
    assert len(sms_outbox) == 1
    assert sent_reminders().filter(purpose="reminder_1d").count() == 2  # e-mail and SMS


def test_reminder_settings_turning_sms_off_are_honoured(
    world, with_phone, book, run_tasks, sms_outbox
):
    ReminderSettings.objects.create(practitioner=world.gp, sms_1d=False)
    start = at(world.monday + timedelta(weeks=1), 9)
    book(start)
    assert [purpose_channel[1:] for purpose_channel in queued_reminders()] == [
        ("reminder_7d", "email"),
        ("reminder_1d", "email"),
    ]
    run_tasks()
    sms_outbox.clear()
    run_tasks(start - timedelta(days=1))
    assert sms_outbox == []


def test_reminders_turned_off_after_booking_are_skipped(world, book, run_tasks):
    start = at(world.monday + timedelta(weeks=1), 9)
    book(start)
    run_tasks()
    mail.outbox.clear()
    ReminderSettings.objects.create(practitioner=world.gp, email_7d=False)
    run_tasks(start - timedelta(days=7))
    assert mail.outbox == []
    assert Message.objects.get(purpose="reminder_7d").last_error == "reminder turned off"


def test_a_resource_agenda_without_practitioner_gets_every_reminder(
    world, patient, user, django_capture_on_commit_callbacks
):
    start = at(world.monday + timedelta(weeks=1), 10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = booking.book(
            agenda=world.line, motive=world.flu, start=start, patient=patient, booked_by=user
        )
        services.appointment_booked(appointment=appointment)
    assert [row[1:] for row in queued_reminders()] == [
        ("reminder_7d", "email"),
        ("reminder_1d", "email"),
    ]


def test_a_reminder_not_sent_in_time_is_dropped(world, book, run_tasks):
    start = at(world.monday + timedelta(weeks=1), 9)
    book(start)
    run_tasks()
    mail.outbox.clear()
    run_tasks(start - timedelta(days=1))  # the worker was down when the 7-day one was due
    assert [m.subject.startswith("Rappel") for m in mail.outbox] == [True]
    assert Message.objects.get(purpose="reminder_7d").last_error == "too late"


def next_spring_dst_change(after: date) -> date:
    """The last Sunday of March (Europe's switch to summer time) after ``after``."""
    year = after.year
    while True:
        day = date(year, 3, 31)
        day -= timedelta(days=(day.weekday() + 1) % 7)
        if day > after:
            return day
        year += 1


def test_a_reminder_across_a_dst_change_keeps_the_wall_clock_time(
    world, with_phone, book, run_tasks, sms_outbox
):
    change = next_spring_dst_change(world.monday + timedelta(days=8))
    monday = change + timedelta(days=1)
    start = datetime.combine(monday, time(9), tzinfo=PARIS)
    # Beyond the online booking window: booked as the practice would.
    book(start, as_staff=True, channel="secretary")
    run_tasks()
    mail.outbox.clear()
    sms_outbox.clear()

    week_before = datetime.combine(monday - timedelta(days=7), time(9), tzinfo=PARIS)
    assert week_before.utcoffset() != start.utcoffset()  # winter time then, summer time after
    assert queued_reminders()[0][:2] == (week_before, "reminder_7d")
    run_tasks(week_before)
    [reminder] = mail.outbox
    assert f"lundi {monday.day} mars {monday.year} à 09:00" in reminder.body
    run_tasks(start - timedelta(days=1))
    [sms] = sms_outbox
    assert "09:00" in sms["text"]
