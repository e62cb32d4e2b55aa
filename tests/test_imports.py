"""Every module of the project imports cleanly (no connections or credential reads at import time),
and the ticket service depends on ports, not on the database (domain purity: test_domain_purity.py)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "reference", "ticketing", "commands", "nlu", "pbx", "agi", "wiring", "web", "ops")


def _modules() -> list[str]:
    names = ["cli"]
    for pkg in PACKAGES:
        if not (ROOT / pkg / "__init__.py").is_file():
            continue
        module = importlib.import_module(pkg)
        names.append(pkg)
        names += [m.name for m in pkgutil.walk_packages(module.__path__, prefix=f"{pkg}.")]
    return sorted(names)


MODULES = _modules()


def test_the_module_list_is_not_empty() -> None:
    assert {"cli", "ticketing.service", "ticketing.db.repositories", "commands.tickets"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name: str) -> None:
    importlib.import_module(name)


def test_service_does_not_import_the_database() -> None:
    tree = ast.parse((ROOT / "ticketing" / "service.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not {m for m in imported if m.startswith(("sqlalchemy", "ticketing.db", "psycopg"))}
