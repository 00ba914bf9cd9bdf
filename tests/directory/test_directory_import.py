"""Importing the public directory extract: idempotent, tolerant of bad lines, bounded memory."""

import contextlib
import ctypes
import gc
import io
import threading
import time
from pathlib import Path

import psutil
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consulto.cli import main as cli_main
from consulto.directory.annuaire import HEADER, HEADER_NAMES, HeaderError, Record, parse
from consulto.directory.directory_import import (
    SAMPLE_FILE,
    import_directory,
    import_sample_if_empty,
)
from consulto.directory.models import DirectoryRecord
from consulto.directory.sample import (
    SAMPLE_ADELI,
    SAMPLE_CARDIOLOGIST_RPPS,
    SAMPLE_GP_RPPS,
    write_sample,
)
from consulto.directory.selectors import directory_activities

pytestmark = pytest.mark.django_db

MEMORY_TEST_LINES = 200_000


@pytest.fixture
def sample_lines() -> list[str]:
    """The bundled sample, header first, without line ends."""
    return SAMPLE_FILE.read_text(encoding="utf-8").splitlines()


def write(path: Path, lines: list[str | bytes]) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    return path


def test_the_bundled_sample_is_what_the_generator_writes():
    out = io.StringIO()
    write_sample(out)
    assert out.getvalue() == SAMPLE_FILE.read_text(encoding="utf-8")


def test_the_sample_imports_with_its_documented_first_entries(sample_lines):
    report = import_directory(SAMPLE_FILE)

    adeli = sum(1 for line in sample_lines[1:] if line.startswith("0|"))
    assert report.completed
    assert report.lines == len(sample_lines) - 1 == 300
    assert report.skipped == adeli > 0
    assert report.malformed == 0
    assert report.records == report.lines - adeli
    assert report.created == DirectoryRecord.objects.count() > 250
    (gp,) = directory_activities(SAMPLE_GP_RPPS)
    assert (gp.last_name, gp.specialty_code, gp.mode) == (
        "BERNARDIN",
        "medecin-generaliste",
        "Libéral",
    )
    assert (gp.address, gp.postcode, gp.city) == ("14 Rue de la Roquette", "75011", "Paris")
    assert gp.import_run == report.run
    practice, clinic = directory_activities(SAMPLE_CARDIOLOGIST_RPPS)
    assert (practice.mode, clinic.mode) == ("Libéral", "Salarié")
    assert practice.city == "Lyon"  # from "Bureau cedex": the commune label is empty
    assert sample_lines[4].startswith(f"0|{SAMPLE_ADELI}|")


def test_directory_activities_normalises_the_number_and_refuses_a_wrong_one():
    import_directory(SAMPLE_FILE)
    spaced = " ".join([SAMPLE_GP_RPPS[:3], SAMPLE_GP_RPPS[3:7], SAMPLE_GP_RPPS[7:]])
    assert [r.rpps for r in directory_activities(spaced)] == [SAMPLE_GP_RPPS]
    assert directory_activities("1234") == []
    assert directory_activities("10000000000") == []


def test_a_reimport_updates_changed_rows_and_never_duplicates(tmp_path, sample_lines):
    first = import_directory(SAMPLE_FILE)
    count = DirectoryRecord.objects.count()
    renamed = [line.replace("|BERNARDIN|", "|BERNARDIN-LAMY|") for line in sample_lines]

    again = import_directory(write(tmp_path / "renamed.txt", renamed))

    assert again.run == first.run + 1
    assert (again.created, again.updated, again.removed) == (0, 1, 0)
    assert again.unchanged == first.created - 1
    assert DirectoryRecord.objects.count() == count
    (gp,) = directory_activities(SAMPLE_GP_RPPS)
    assert gp.last_name == "BERNARDIN-LAMY"
    assert not DirectoryRecord.objects.exclude(import_run=again.run).exists()


def test_a_complete_run_removes_the_activities_the_file_no_longer_lists(tmp_path, sample_lines):
    import_directory(SAMPLE_FILE)
    clinic_line = next(line for line in sample_lines if "CENTRE CARDIOLOGIQUE" in line)
    without = [line for line in sample_lines if line != clinic_line]

    report = import_directory(write(tmp_path / "without.txt", without))

    assert report.removed == 1
    assert [r.mode for r in directory_activities(SAMPLE_CARDIOLOGIST_RPPS)] == ["Libéral"]


def test_an_interrupted_run_removes_nothing(tmp_path, sample_lines):
    import_directory(SAMPLE_FILE)
    count = DirectoryRecord.objects.count()
    half = sample_lines[: len(sample_lines) // 2]

    def stop(bytes_read: int, lines_read: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_directory(write(tmp_path / "half.txt", half), progress=stop, batch_size=20)
    assert DirectoryRecord.objects.count() == count
    # The next complete run still sees the whole file and cleans up as usual.
    assert import_directory(write(tmp_path / "half.txt", half)).removed > 0


def test_a_file_without_a_single_record_empties_nothing(tmp_path, sample_lines):
    import_directory(SAMPLE_FILE)
    count = DirectoryRecord.objects.count()
    report = import_directory(write(tmp_path / "broken.txt", [HEADER, "8|123|broken"]))
    assert (report.records, report.malformed, report.removed) == (0, 1, 0)
    assert DirectoryRecord.objects.count() == count


def test_malformed_lines_are_reported_with_line_numbers_and_the_import_goes_on(
    tmp_path, sample_lines
):
    lines: list[str | bytes] = [*sample_lines[:10]]
    lines.insert(3, "8|19900000019|only three")
    lines.insert(5, sample_lines[1].replace("|19900000019|", "|1990000001|"))
    lines.insert(7, sample_lines[1].encode().replace(b"BERNARDIN", b"BERN\xc3RDIN"))
    report_file = tmp_path / "malformed.txt"

    report = import_directory(write(tmp_path / "bad.txt", lines), malformed_report=report_file)

    assert report.malformed == 3
    assert [(m.line, m.reason.split(" (")[0]) for m in report.malformed_examples] == [
        (4, "3 columns, expected 53"),
        (6, "RPPS number '1990000001' is not 11 digits"),
        (8, "not valid UTF-8"),
    ]
    good = [item for item in parse(sample_lines[:10]) if isinstance(item, Record)]
    assert report.records == len(good)
    assert DirectoryRecord.objects.count() == len({record.key for record in good})
    assert report_file.read_text().splitlines()[0].startswith("line 4: 3 columns, expected 53")


def test_the_report_keeps_the_first_malformed_lines_and_the_file_all_of_them(tmp_path):
    lines = [HEADER, *(f"8|{n}|short" for n in range(30))]
    report_file = io.StringIO()
    report = import_directory(write(tmp_path / "bad.txt", lines), malformed_report=report_file)
    assert report.malformed == 30
    assert len(report.malformed_examples) == 20
    assert len(report_file.getvalue().splitlines()) == 30


def test_a_duplicated_activity_is_written_once_last_line_winning(tmp_path, sample_lines):
    gp = sample_lines[1]
    lines = [HEADER, gp, gp.replace("|JULIE|", "|JULIETTE|"), gp.replace("|JULIE|", "|JULIA|")]

    report = import_directory(write(tmp_path / "twice.txt", lines), batch_size=1)

    assert (report.records, report.created) == (3, 1)
    (record,) = directory_activities(SAMPLE_GP_RPPS)
    assert record.first_name == "JULIA"


def test_a_line_naming_a_specialty_wins_over_a_duplicate_without(tmp_path, sample_lines):
    gp = sample_lines[1]
    capacity = gp.replace("|SM54|Médecine générale|", "|CAPA05|Capacité de médecine d'urgence|")
    import_directory(write(tmp_path / "twice.txt", [HEADER, gp, capacity]))
    (record,) = directory_activities(SAMPLE_GP_RPPS)
    assert record.specialty_code == "medecin-generaliste"


def test_reordered_and_extra_columns_import_the_same_rows(tmp_path, sample_lines):
    import_directory(SAMPLE_FILE)
    names = [*HEADER_NAMES[:-1], "Code rôle", "Libellé rôle"]
    order = list(reversed(range(len(names))))
    lines = ["|".join(names[i] for i in order) + "|"]
    for line in sample_lines[1:]:
        fields = [*line.split("|")[:-1], "FON-AU", "Autre"]
        lines.append("|".join(fields[i] for i in order) + "|")

    report = import_directory(write(tmp_path / "newer.txt", lines))

    assert (report.created, report.updated, report.removed, report.malformed) == (0, 0, 0, 0)
    assert report.unchanged == DirectoryRecord.objects.count()


def test_long_values_are_cut_to_their_column_and_stay_unchanged_on_reimport(tmp_path, sample_lines):
    long_name = "CABINET " + "TRES " * 80
    lines = [HEADER, sample_lines[1].replace("|CABINET MEDICAL|", f"|{long_name}|", 1)]
    path = write(tmp_path / "long.txt", lines)
    import_directory(path)
    (record,) = directory_activities(SAMPLE_GP_RPPS)
    assert len(record.site_name) == DirectoryRecord._meta.get_field("site_name").max_length
    assert import_directory(path).unchanged == 1


def test_a_file_that_is_not_an_extract_fails_clearly_and_imports_nothing(tmp_path):
    path = write(tmp_path / "other.csv", ["nom;prenom;rpps", "Martin;Claire;10000000012"])
    with pytest.raises(HeaderError, match="missing columns"):
        import_directory(path)
    with pytest.raises(CommandError, match="not the header"):
        call_command("directory_import", str(path), "--no-progress")
    assert not DirectoryRecord.objects.exists()


def test_the_command_imports_and_prints_a_summary(tmp_path, sample_lines):
    lines = [*sample_lines, "8|19900000019|broken"]
    report_file = tmp_path / "report.txt"
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "directory_import",
        str(write(tmp_path / "extract.txt", lines)),
        "--report",
        str(report_file),
        "--no-progress",
        stdout=out,
        stderr=err,
    )

    text = out.getvalue()
    assert "Directory import of extract.txt: 301 lines" in text
    assert f"{DirectoryRecord.objects.count()} created" in text
    assert "malformed: 1." in text
    assert "line 302: 3 columns, expected 53" in text
    assert f"listed in {report_file}" in text
    assert report_file.read_text().startswith("line 302:")
    assert err.getvalue() == ""


def test_the_command_refuses_a_missing_file():
    with pytest.raises(CommandError, match="No such file"):
        call_command("directory_import", "/nonexistent/annuaire.txt")


def test_the_consulto_cli_exits_non_zero_only_for_fatal_errors(tmp_path, capsys, sample_lines):
    assert cli_main(["directory", "import", str(tmp_path / "missing.txt")]) == 1
    assert "No such file" in capsys.readouterr().err
    path = write(tmp_path / "extract.txt", [*sample_lines, "broken"])
    assert cli_main(["directory", "import", str(path), "--no-progress"]) == 0
    assert "malformed: 1." in capsys.readouterr().out


def test_the_demo_loads_the_sample_once_into_an_empty_directory():
    assert import_sample_if_empty() is not None
    assert directory_activities(SAMPLE_GP_RPPS)
    assert import_sample_if_empty() is None


def give_back_free_memory() -> None:
    """Return freed memory to the system, so that growth from here is new memory only."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc keeps freed blocks otherwise


class PeakRss:
    """The highest resident memory of this process while it runs, sampled every 5 ms."""

    def __init__(self) -> None:
        give_back_free_memory()
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

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


def test_memory_stays_bounded_on_a_200000_line_file(tmp_path, capsys, record_property):
    """The real extract is ~760 MB: the import must not grow with the file. Measured as the
    peak growth of resident memory (psutil), which also counts the database driver's memory;
    tracemalloc would slow the import four times."""
    path = tmp_path / "annuaire-200k.txt"
    write_sample(path, lines=MEMORY_TEST_LINES, seed=7)
    file_mb = path.stat().st_size / 2**20

    started = time.perf_counter()
    with PeakRss() as memory:
        report = import_directory(path)
    seconds = time.perf_counter() - started

    assert report.lines == MEMORY_TEST_LINES and report.malformed == 0
    assert report.created == DirectoryRecord.objects.count() > 180_000
    figures = {
        "lines": report.lines,
        "file_mb": round(file_mb, 1),
        "peak_rss_growth_mb": round(memory.growth_mb, 1),
        "lines_per_second": round(report.lines / seconds),
    }
    for name, value in figures.items():
        record_property(name, value)
    with capsys.disabled():
        print(f"\ndirectory import memory: {figures}")
    assert memory.growth_mb < 60
    assert memory.growth_mb < file_mb / 2
