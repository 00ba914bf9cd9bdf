"""Enqueue a background task by its name, so that a service never imports a tasks module.

A task module (``notifications/tasks.py``...) only calls services; a service that wants work
done later names the task instead of importing it, which would make the two modules import each
other. The name is the task's dotted path: the one the task backend stores with each queued
task (``DBTaskResult.task_path``) and the worker imports to run it, so there is no second
registry to keep in step. ``tests/core/test_layering.py`` resolves every name the code uses.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import TaskResult
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.compat import normalize_json, task_enqueued

from . import rows


@cache
def task_named(name: str) -> Task:
    """The task whose dotted path is ``name`` (``consulto.notifications.tasks.deliver``)."""
    found = import_string(name)
    if not isinstance(found, Task):
        raise TypeError(f"{name} is not a task")
    return found


def enqueue(name: str, *args, run_after: datetime | None = None) -> TaskResult:
    """Enqueue the task ``name`` now, to run at once or not before ``run_after``."""
    return task_named(name).using(run_after=run_after).enqueue(*args)


def on_commit(name: str, *args, run_after: datetime | None = None) -> None:
    """Enqueue the task ``name`` once the current transaction commits; a failure to enqueue is
    logged (by its task's name) and leaves the committed work as it is."""

    def call() -> None:
        enqueue(name, *args, run_after=run_after)

    call.__qualname__ = f"enqueue {name}"
    transaction.on_commit(call, robust=True)


# (task name, its arguments, run_after)
Call = tuple[str, Sequence, datetime | None]


def _in_database(calls: Sequence[Call]) -> bool:
    """Whether every task of ``calls`` goes to the database backend (rows of this database)."""
    return all(
        isinstance(task_named(name).get_backend(), DatabaseBackend)
        for name in {c[0] for c in calls}
    )


def enqueue_many(calls: Sequence[Call]) -> None:
    """Enqueue several tasks at once: in one INSERT on the database backend (a booking's
    confirmations and reminders), one by one on any other."""
    if not _in_database(calls):
        for name, args, run_after in calls:
            enqueue(name, *args, run_after=run_after)
        return
    from django_tasks_db.models import DBTaskResult, get_date_max

    backends = {}
    for name in {c[0] for c in calls}:
        task = task_named(name)
        backends[name] = backend = task.get_backend()
        # The database backend takes a deferred task: what validates the task validates it.
        backend.validate_task(task)
    written = []
    for name, args, run_after in calls:
        task, backend = task_named(name), backends[name]
        written.append(
            DBTaskResult(
                id=backend._get_id(),
                args_kwargs=normalize_json({"args": list(args), "kwargs": {}}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                # What the backend's pre_save handler does, which a plain INSERT does not call.
                run_after=run_after or get_date_max(),
                backend_name=backend.alias,
            )
        )
    rows.insert(written)
    for row in written:
        task_enqueued.send(DatabaseBackend, task_result=row.task_result)


def enqueue_with_commit(calls: Sequence[Call]) -> None:
    """Enqueue tasks that must exist if and only if the current transaction commits (a
    booking's messages): on the database backend, their rows are written in the transaction
    itself, in one INSERT (a transactional outbox: nothing more to write once it commits, and
    a worker sees them when it does); on any other backend, once it commits (``on_commit``).
    """
    if calls and _in_database(calls):
        enqueue_many(calls)
    else:
        on_commit_many(calls)


def on_commit_many(calls: Sequence[Call]) -> None:
    """``on_commit`` for several tasks, enqueued together (``enqueue_many``) once the current
    transaction commits; a failure is logged and leaves the committed work as it is."""
    if not calls:
        return
    calls = list(calls)

    def call() -> None:
        enqueue_many(calls)

    call.__qualname__ = "enqueue " + ", ".join(sorted({name for name, _args, _at in calls}))
    transaction.on_commit(call, robust=True)
