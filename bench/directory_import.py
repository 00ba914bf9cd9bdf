"""Directory import: lines per second and peak memory of importing a generated extract.

A fictitious Annuaire Santé personne-activité extract of N lines (``consulto.directory.sample``,
default 200,000 lines, about 65 MB; the real file is ~760 MB) is written to a temporary file,
then imported with ``directory_import.import_directory`` in this process, as
``consulto directory import`` does. Figures:

* ``directory_import.first``: into an empty table (every activity created).
  - ``lines_per_s``; ``peak_rss_growth`` (MB): the highest resident memory during the import
    minus the memory before it (psutil, sampled every 5 ms), the database driver included.
    Goal: bounded, far below the file size, and not growing with ``--lines``.
* ``directory_import.again``: the same file a second time (every activity unchanged: one read
  per batch and a run-number update).
  - ``lines_per_s``.
* with ``--tracemalloc``: ``directory_import.traced``: a third import under tracemalloc,
  ``python_peak`` (MB), the peak of Python allocations (about 4 times slower, so not timed).

Everything runs in one transaction rolled back at the end, so the directory table is left as
it was (each batch's transaction becomes a savepoint). No demo dataset is needed.

Usage: python bench/directory_import.py [--lines 200000] [--batch-size 2000] [--tracemalloc]
"""

import contextlib
import ctypes
import gc
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import psutil

from _common import base_parser, database_label, django_setup, emit, log

MB = 2**20


class PeakRss:
    """The highest resident memory of this process while it runs, sampled every 5 ms."""

    def __init__(self) -> None:
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed memory back: measure new only
        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


class _Rollback(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)
    parser.add_argument("--lines", type=int, default=200_000, help="lines of the file (200000)")
    parser.add_argument("--batch-size", type=int, default=2000, help="rows per batch (2000)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python memory")
    options = parser.parse_args(argv)

    django_setup()
    from django.core.management import call_command
    from django.db import transaction

    from consulto.directory.directory_import import import_directory
    from consulto.directory.sample import write_sample

    call_command("migrate", "--no-input", "-v", "0")
    log(f"Database: {database_label()}")
    size = f"{options.lines} lines"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "annuaire.txt"
        t0 = time.perf_counter()
        write_sample(path, lines=options.lines, seed=options.seed)
        file_mb = path.stat().st_size / MB
        log(f"Wrote {options.lines} lines ({file_mb:.1f} MB) in {time.perf_counter() - t0:.1f} s")
        emit("directory_import.file", "size", file_mb, "MB", size)

        with contextlib.suppress(_Rollback), transaction.atomic():
            with PeakRss() as memory:
                t0 = time.perf_counter()
                first = import_directory(path, batch_size=options.batch_size)
                seconds = time.perf_counter() - t0
            growth = (memory.peak - memory.baseline) / MB
            log(
                f"  first import: {first.created} created in {seconds:.1f} s, "
                f"peak RSS growth {growth:.1f} MB"
            )
            emit("directory_import.first", "lines_per_s", first.lines / seconds, "lines/s", size)
            emit("directory_import.first", "peak_rss_growth", growth, "MB", size)

            t0 = time.perf_counter()
            again = import_directory(path, batch_size=options.batch_size)
            seconds = time.perf_counter() - t0
            log(f"  again: {again.unchanged} unchanged in {seconds:.1f} s")
            emit("directory_import.again", "lines_per_s", again.lines / seconds, "lines/s", size)

            if options.tracemalloc:
                tracemalloc.start()
                import_directory(path, batch_size=options.batch_size)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                log(f"  traced: Python peak {peak / MB:.1f} MB")
                emit("directory_import.traced", "python_peak", peak / MB, "MB", size)
            raise _Rollback  # leave the directory table as it was
    return 0


if __name__ == "__main__":
    sys.exit(main())
