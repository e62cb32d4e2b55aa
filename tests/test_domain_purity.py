"""ticketing/domain stays pure: standard-library pure modules and small pure libraries only.

Every module of the package is parsed (imports anywhere in the file, including inside functions) and
checked against an allow-list; calls that do I/O by name (``open``, ``exec``, ``__import__``...) are
refused too. ``reference`` is the one project module outside the domain it may use: the
read-only reference data packaged with the code (units, categories, agencies), loaded once and cached.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[1] / "ticketing" / "domain"

ALLOWED_TOP_LEVEL = {
    "__future__",
    "abc",
    "bisect",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "itertools",
    "math",
    "numbers",
    "operator",
    "re",
    "statistics",
    "string",
    "types",
    "typing",
    "unicodedata",
    "zoneinfo",
    # small pure libraries
    "holidays",
    "rapidfuzz",
}
ALLOWED_PROJECT = ("ticketing.domain", "reference")
PROJECT_PACKAGES = {"ticketing", "reference", "config", "nlu", "pbx", "agi", "commands", "web", "wiring"}
FORBIDDEN_CALLS = {"open", "exec", "eval", "__import__", "input", "breakpoint", "compile"}


def _violations(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename)
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: stays inside ticketing.domain
                if node.level > 1:
                    found.append(f"{filename}:{node.lineno}: relative import leaving the package")
                continue
            module = node.module or ""
            # "from ticketing import db" imports ticketing.db: check the full names.
            names = [f"{module}.{alias.name}" for alias in node.names] if module == "ticketing" else [module]
        elif (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS
        ):
            found.append(f"{filename}:{node.lineno}: call to {node.func.id}()")
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT_PACKAGES:
                if not any(name == p or name.startswith(p + ".") for p in ALLOWED_PROJECT):
                    found.append(f"{filename}:{node.lineno}: imports {name}")
            elif top not in ALLOWED_TOP_LEVEL:
                found.append(f"{filename}:{node.lineno}: imports {name}")
    return found


def _domain_files() -> list[Path]:
    files = sorted(DOMAIN.glob("*.py"))
    assert files, f"no modules found in {DOMAIN}"
    return files


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: p.name)
def test_domain_module_is_pure(path: Path) -> None:
    assert _violations(path.read_text(encoding="utf-8"), path.name) == []


def test_domain_has_no_subpackages_escaping_the_check() -> None:
    assert [p.name for p in DOMAIN.iterdir() if p.is_dir() and p.name != "__pycache__"] == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy",
        "from sqlalchemy.orm import Session",
        "import os",
        "from pathlib import Path",
        "import socket",
        "import httpx",
        "import click",
        "from ticketing.db import models",
        "from ticketing import db",
        "import config.settings",
        "import subprocess",
        "def f():\n    import sqlite3",
        "def f():\n    return open('x').read()",
        "from .. import settings",
        "import importlib",
    ],
)
def test_checker_catches_impure_code(source: str) -> None:
    # The check itself must be able to fail.
    assert _violations(source, "probe.py")


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime",
        "import holidays",
        "from rapidfuzz import fuzz",
        "from zoneinfo import ZoneInfo",
        "from ticketing.domain.model import Ticket",
        "import reference",
        "from .model import Ticket",
    ],
)
def test_checker_allows_pure_code(source: str) -> None:
    assert _violations(source, "probe.py") == []
