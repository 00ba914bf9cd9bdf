"""Work to run after a commit (``transaction.on_commit``), with a name for the logs."""

from collections.abc import Callable


def deferred(func: Callable, *args) -> Callable[[], None]:
    """``func(*args)`` as a named function: Django logs a failing robust on-commit callback by
    its ``__qualname__``, which ``functools.partial`` lacks."""

    def call() -> None:
        func(*args)

    call.__qualname__ = getattr(func, "__qualname__", repr(func))
    return call
