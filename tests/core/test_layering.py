"""The layering of ARCHITECTURE.md, read from the code itself (every import statement, lazy ones
inside functions too): dependencies point one way, core <- directory <- scheduling <- the other
apps <- api; no two apps import each other, even through a third; a service never imports a
tasks module (it enqueues by name, ``core/queue.py``)."""

import ast
from functools import cache
from pathlib import Path

import pytest

import consulto
from consulto.core import queue

PACKAGE = Path(consulto.__file__).parent
APPS = sorted(
    p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists() or (p / "models.py").exists()
)
# Apps that still import each other, each way (see the report of issue 12): this list may only
# shrink, and the test below fails when an entry no longer holds, so that it is struck off.
KNOWN_CYCLES = {frozenset({"practice", "teleconsultation"})}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, tree: ast.AST):
    """(dotted name, line) of every module the file imports, relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from consulto.practice import files``: the module itself, or a name in it.
                yield f"{base}.{alias.name}", node.lineno


@cache
def app_imports() -> dict[tuple[str, str], list[str]]:
    """{(app, other app): ["patients/services.py:15 consulto.practice.files", ...]}"""
    found: dict[tuple[str, str], list[str]] = {}
    for app in APPS:
        for path in sorted((PACKAGE / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for name, line in _imported(path, tree):
                parts = name.split(".")
                if parts[0] != "consulto" or len(parts) < 2 or parts[1] not in APPS:
                    continue
                if parts[1] != app:
                    where = f"{path.relative_to(PACKAGE)}:{line} {name}"
                    found.setdefault((app, parts[1]), []).append(where)
    return found


def depends_on(app: str) -> set[str]:
    return {other for (a, other) in app_imports() if a == app}


def test_the_walk_sees_lazy_and_relative_imports():
    # A walk that saw nothing would pass every test below.
    assert {"core", "directory", "scheduling", "patients", "practice", "api"} <= set(APPS)
    lazy = app_imports()[("practice", "teleconsultation")]  # inside functions
    assert any(where.startswith("practice/permissions.py") for where in lazy)
    family = PACKAGE / "patients" / "views" / "family.py"
    names = {name for name, _line in _imported(family, ast.parse(family.read_text()))}
    assert "consulto.patients.selectors" in names  # from .. import selectors


@pytest.mark.parametrize(
    ("app", "allowed"),
    [("core", set()), ("directory", {"core"}), ("scheduling", {"core", "directory"})],
)
def test_the_lower_layers_import_only_what_is_below_them(app, allowed):
    wrong = {other: app_imports()[(app, other)] for other in depends_on(app) - allowed}
    assert wrong == {}


def test_no_app_imports_the_api():
    assert {app: app_imports()[(app, "api")] for app in APPS if "api" in depends_on(app)} == {}


def test_patients_and_practice_do_not_import_each_other():
    """The no-show rule lives in scheduling/rules.py, the waiting list hears of freed slots
    through scheduling/events.py: neither app needs the other."""
    assert app_imports().get(("patients", "practice"), []) == []
    assert app_imports().get(("practice", "patients"), []) == []


def _cycles() -> set[frozenset[str]]:
    """The sets of apps that import one another, directly or through others (Tarjan's strongly
    connected components of the app graph, those of more than one app)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(app: str) -> None:
        index[app] = low[app] = len(index)
        stack.append(app)
        for other in depends_on(app):
            if other not in index:
                visit(other)
                low[app] = min(low[app], low[other])
            elif other in stack:
                low[app] = min(low[app], index[other])
        if low[app] == index[app]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == app:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for app in APPS:
        if app not in index:
            visit(app)
    return found


def test_no_apps_import_one_another_even_through_a_third():
    cycles = _cycles()
    details = {
        " <-> ".join(sorted(cycle)): [
            where for (a, b), wheres in app_imports().items() if {a, b} <= cycle for where in wheres
        ]
        for cycle in cycles - KNOWN_CYCLES
    }
    assert details == {}
    assert cycles >= KNOWN_CYCLES, "a known cycle is gone: strike it off KNOWN_CYCLES"


def test_no_module_of_an_app_imports_a_tasks_module():
    """A tasks module calls services; services enqueue tasks by name (``core/queue.py``). Only
    the command line (outside the apps) may import a task."""
    wrong = []
    for app in APPS:
        for path in sorted((PACKAGE / app).rglob("*.py")):
            if path.name == "tasks.py" or "migrations" in path.parts:
                continue
            for name, line in _imported(path, ast.parse(path.read_text())):
                parts = name.split(".")
                if "tasks" in parts[2:4] and parts[:2] != ["consulto", "core"]:
                    wrong.append(f"{path.relative_to(PACKAGE)}:{line} {name}")
    assert wrong == []


def _task_names() -> dict[str, str]:
    """{name: where} of every task the code enqueues through ``queue.enqueue``/``on_commit``,
    the name written as a string or as a module-level constant."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "queue"
                and node.func.attr in ("enqueue", "on_commit")
            ):
                first = node.args[0]
                name = first.value if isinstance(first, ast.Constant) else constants[first.id]
                names[name] = f"{path.relative_to(PACKAGE)}:{node.lineno}"
    return names


def test_every_task_the_code_enqueues_by_name_exists():
    names = _task_names()
    assert len(names) >= 6, names  # deliveries, reminders, waiting list, holds, invitations
    for name in names:
        assert queue.task_named(name).module_path == name
