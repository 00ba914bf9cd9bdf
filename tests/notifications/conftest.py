"""A real SMTP server, the locmem SMS outbox, and a task runner that works like db_worker."""

import email
import socket
from contextlib import contextmanager, nullcontext
from email import policy
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from consulto.notifications import sms
from consulto.scheduling import booking


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server received, as parsed e-mail messages."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=policy.default)
        )
        return "250 Message accepted"


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free local port, and the e-mail settings that point at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    use_smtp(settings, controller.port)
    yield inbox
    controller.stop()


@pytest.fixture
def smtp_down(settings):
    """E-mail settings pointing at a port where nothing listens."""
    use_smtp(settings, free_port())


@pytest.fixture(autouse=True)
def sms_outbox():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@contextmanager
def clock(now):
    """Make ``timezone.now()`` answer ``now`` (services, the task queue and the models)."""
    with mock.patch("django.utils.timezone.now", return_value=now) if now else nullcontext():
        yield


# Every write to an agenda queues the refresh of its next availability (scheduling/index.py):
# these tests are about messages.
AVAILABILITY_TASKS = {"refresh_availability", "sweep_availability_index"}


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run the queued tasks that are due at ``now`` the way ``manage.py db_worker`` does,
    until none is left; return (task name, return value) of each but the availability ones."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )

    def run(now=None):
        done = []
        with clock(now):
            for _ in range(100):
                row = DBTaskResult.objects.ready().order_by("enqueued_at").first()
                if row is None:
                    break
                with django_capture_on_commit_callbacks(execute=True):
                    row.claim(worker.worker_id)
                    worker.run_task(row)
                row.refresh_from_db()
                assert row.status == "SUCCESSFUL", row.traceback
                if row.task_name not in AVAILABILITY_TASKS:  # run, not reported
                    done.append((row.task_name, row.return_value))
        return done

    return run


@pytest.fixture
def book(world, patient, user, django_capture_on_commit_callbacks):
    """Book a follow-up at ``start`` and tell notifications, as the patient pages do."""
    from consulto.notifications import services

    def book_(start, *, motive=None, notify=True, **kwargs):
        kwargs.setdefault("patient", patient)
        kwargs.setdefault("booked_by", user)
        with django_capture_on_commit_callbacks(execute=True):
            appointment = booking.book(
                agenda=world.agenda, motive=motive or world.follow_up, start=start, **kwargs
            )
            if notify:
                services.appointment_booked(appointment=appointment)
        return appointment

    return book_
