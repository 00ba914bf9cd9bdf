"""``manage.py directory_import FILE``: import the public health-professional directory extract."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from consulto.directory.annuaire import HeaderError
from consulto.directory.directory_import import ImportReport, import_directory


class Command(BaseCommand):
    help = (
        "Import the Annuaire Santé personne-activité extract (pipe-delimited UTF-8, "
        "header on the first line) into the directory table used by self-onboarding. "
        "Re-importing updates rows and never duplicates them; a complete run removes the "
        "activities the file no longer lists. Malformed lines are reported, not fatal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the extract, e.g. PS_LibreAcces_Personne_activite.txt")
        parser.add_argument("--report", help="write every malformed line to this file")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar on standard error"
        )
        parser.add_argument(
            "--batch-size", type=int, default=2000, help="rows per transaction (default 2000)"
        )

    def handle(
        self,
        *args,
        file: str,
        report: str | None,
        no_progress: bool,
        batch_size: int,
        **options,
    ) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        show_progress = not no_progress and options.get("verbosity", 1) > 0
        bar = tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc="directory",
            file=sys.stderr,
            disable=not show_progress,
            dynamic_ncols=True,
        )
        started = time.perf_counter()

        def progress(bytes_read: int, lines_read: int) -> None:
            bar.update(bytes_read - bar.n)
            rate = lines_read / max(time.perf_counter() - started, 1e-6)
            bar.set_postfix_str(f"{lines_read:,} lines, {rate:,.0f} lines/s", refresh=False)

        try:
            with bar:
                result = import_directory(
                    path,
                    progress=progress if show_progress else None,
                    batch_size=batch_size,
                    malformed_report=report,
                )
        except HeaderError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        self.stdout.write(summary(result, path, report))


def summary(result: ImportReport, path: Path, report: str | None) -> str:
    """The lines printed after an import: what was read, written, skipped and refused."""
    lines = [
        f"Directory import of {path.name}: {result.lines:,} lines in {result.seconds:.1f} s "
        f"({result.lines_per_second:,.0f} lines/s), run {result.run}.",
        f"  activities: {result.records:,} read, {result.created:,} created, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged, "
        f"{result.removed:,} removed (no longer in the file).",
        f"  skipped (not an RPPS number): {result.skipped:,}; malformed: {result.malformed:,}.",
    ]
    lines += [f"    {item}" for item in result.malformed_examples]
    if result.malformed > len(result.malformed_examples):
        more = result.malformed - len(result.malformed_examples)
        lines.append(
            f"    … and {more:,} more"
            + (f" (all of them in {report})." if report else " (use --report FILE to list all).")
        )
    elif result.malformed and report:
        lines.append(f"  Malformed lines listed in {report}.")
    return "\n".join(lines)
