"""The alert rules of docs/prometheus: accepted by the real ``promtool`` (Debian's ``prometheus``
package), their unit tests pass, and every metric they name is one the hotline exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from config.settings import Settings
from ops import instruments  # noqa: F401 (registers the worker instruments)
from ops.metrics import registry_for
from ticketing.db import migrate
from ticketing.db.engine import make_engine

RULES = Path(__file__).resolve().parents[1] / "docs" / "prometheus" / "hotline-rules.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: install Debian's prometheus package (scripts/setup.sh --dev)"
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=RULES.parent, capture_output=True, text=True, timeout=60, check=False
    )


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    done = promtool("check", "rules", RULES.name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_the_rules_fire_as_documented() -> None:
    done = promtool("test", "rules", "hotline-rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("> 120", "> > 120", 1))
    done = subprocess.run(
        [PROMTOOL, "check", "rules", str(broken)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0


def test_every_metric_in_the_rules_is_exported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        text = generate_latest(registry_for(engine, Settings(data_dir=tmp_path))).decode()
    finally:
        engine.dispose()
    exported = set(re.findall(r"^# TYPE (\w+) (\w+)", text, re.M))
    names = {n for n, _ in exported} | {f"{n}_total" for n, kind in exported if kind == "counter"}
    # labelled gauges without a sample yet still have a TYPE line
    used = set(re.findall(r"\b(hotline_\w+)", RULES.read_text()))
    assert used and used <= names, used - names
