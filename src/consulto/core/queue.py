"""Enqueue a background task by its name, so that a service never imports a tasks module.

A task module (``notifications/tasks.py``...) only calls services; a service that wants work
done later names the task instead of importing it, which would make the two modules import each
other. The name is the task's dotted path: the one the task backend stores with each queued
task (``DBTaskResult.task_path``) and the worker imports to run it, so there is no second
registry to keep in step. ``tests/core/test_layering.py`` resolves every name the code uses.
"""

from datetime import datetime
from functools import cache

from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import TaskResult
from django_tasks.base import Task


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
