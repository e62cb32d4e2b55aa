"""Package boundaries, checked over the import graph of the whole tree (AST, lazy imports included).

* ``ticketing`` (the ticket core) never imports ``pbx``, ``nlu``, ``agi``, ``commands``, ``web`` or
  ``wiring``;
* ``nlu`` never imports ``pbx``, ``commands``, ``web`` or ``wiring``;
* ``pbx`` and ``agi`` never import ``commands`` or ``web``;
* ``config`` and ``reference`` import no other package of the project;
* only ``ticketing/db`` and ``alembic`` import SQLAlchemy (``bench`` and ``tests`` may too).

The checker is shown to fail on planted violations of each rule.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", "var", ".git", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}

FORBIDDEN: dict[str, set[str]] = {
    "ticketing": {"pbx", "nlu", "agi", "commands", "web", "wiring"},
    "nlu": {"pbx", "commands", "web", "wiring"},
    "pbx": {"commands", "web"},
    "agi": {"commands", "web"},
}
LEAVES = ("config", "reference")  # import no other project package
SQLALCHEMY_ALLOWED = ("ticketing/db/", "alembic/", "bench/", "tests/")


def project_packages(root: Path) -> set[str]:
    names = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    return names | {p.stem for p in root.glob("*.py")}


def python_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):  # never into the data directory or the venv
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        yield from (Path(folder) / name for name in files if name.endswith(".py"))


def imported_modules(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # "from ticketing import db" imports ticketing.db
                yield node.lineno, f"{module}.{alias.name}" if module else alias.name


def violations(root: Path) -> list[str]:
    """Every import that crosses a boundary, as ``path:line: package imports target``."""
    ours = project_packages(root)
    found: list[str] = []
    for path in sorted(python_files(root)):
        rel = path.relative_to(root).as_posix()
        top = rel.split("/", 1)[0].removesuffix(".py")
        for line, module in imported_modules(path, root):
            target = module.split(".", 1)[0]
            where = f"{rel}:{line}"
            if target in FORBIDDEN.get(top, set()) or (top in LEAVES and target in ours and target != top):
                found.append(f"{where}: {top} imports {module}")
            elif target == "sqlalchemy" and not rel.startswith(SQLALCHEMY_ALLOWED):
                found.append(f"{where}: {top} imports {module} (SQLAlchemy only in ticketing/db, alembic)")
    return sorted(set(found))


def test_the_tree_keeps_its_package_boundaries() -> None:
    assert violations(ROOT) == []


def _plant(root: Path, files: dict[str, str]) -> None:
    for name in ("ticketing", "ticketing/db", "nlu", "pbx", "agi", "commands", "config", "reference", "web"):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "__init__.py").write_text("")
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("rel", "source", "expected"),
    [
        ("ticketing/calls.py", "from pbx.app import HotlineApp\n", "ticketing imports pbx.app"),
        ("ticketing/x.py", "def f():\n    import nlu.interpreter\n", "ticketing imports nlu.interpreter"),
        (
            "ticketing/y.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import web\n",
            "ticketing imports web",
        ),
        ("ticketing/z.py", "import wiring\n", "ticketing imports wiring"),
        ("ticketing/db/q.py", "import agi.server\n", "ticketing imports agi.server"),
        ("nlu/x.py", "from pbx.ari import client\n", "nlu imports pbx.ari"),
        ("nlu/y.py", "import commands.chat\n", "nlu imports commands.chat"),
        ("pbx/x.py", "from commands.db import services\n", "pbx imports commands.db"),
        ("agi/x.py", "from web import app\n", "agi imports web"),
        ("config/x.py", "from ticketing.domain import model\n", "config imports ticketing.domain"),
        ("reference/x.py", "import nlu\n", "reference imports nlu"),
        ("commands/x.py", "from sqlalchemy.orm import Session\n", "commands imports sqlalchemy.orm"),
        ("ticketing/reports.py", "import sqlalchemy\n", "ticketing imports sqlalchemy"),
        ("pbx/y.py", "from sqlalchemy.exc import OperationalError\n", "pbx imports sqlalchemy.exc"),
    ],
)
def test_the_checker_fails_on_a_planted_violation(
    tmp_path: Path, rel: str, source: str, expected: str
) -> None:
    _plant(tmp_path, {rel: source})
    found = violations(tmp_path)
    assert len(found) >= 1 and any(expected in v for v in found), found


def test_the_checker_allows_what_the_layout_allows(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "ticketing/db/repo.py": "from sqlalchemy import select\nimport reference\nimport config\n",
            "nlu/x.py": "import ticketing.domain\nimport reference\n",
            "pbx/x.py": "import wiring\nfrom ticketing.errors import StorageError\n",
            "commands/x.py": "import wiring\nfrom pbx import app\nfrom ticketing.db import errors\n",
            "config/x.py": "from config import private_files\nimport pydantic\n",
        },
    )
    assert violations(tmp_path) == []


def test_the_settings_know_the_cities_of_the_reference_data() -> None:
    """config may not import reference, so its list of cities is checked against it here."""
    import typing

    import reference
    from config.settings import Settings

    assert typing.get_args(Settings.model_fields["city"].annotation) == reference.CITIES


def import_cycles(root: Path, package: str) -> list[list[str]]:
    """Cycles among the modules of ``package`` (lazy imports included)."""
    graph: dict[str, set[str]] = {}
    members = {f"{package}.{p.stem}" for p in (root / package).glob("*.py")}
    for path in sorted((root / package).glob("*.py")):
        graph[f"{package}.{path.stem}"] = {m for _, m in imported_modules(path, root) if m in members}
    cycles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif len(trail) < len(graph):
                walk(nxt, [*trail, nxt])

    for start in graph:
        walk(start, [start])
    return cycles


def test_the_commands_import_no_cycle(tmp_path: Path) -> None:
    assert import_cycles(ROOT, "commands") == []
    (tmp_path / "commands").mkdir()  # the check finds a planted loop: db -> scheduler -> db
    (tmp_path / "commands" / "db.py").write_text("def f():\n    from commands.scheduler import g\n")
    (tmp_path / "commands" / "scheduler.py").write_text("from commands.db import f\n")
    assert ["commands.db", "commands.scheduler", "commands.db"] in import_cycles(tmp_path, "commands")
