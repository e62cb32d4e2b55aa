"""Every command of the ``hotline`` click tree renders its --help (exit 0, "Usage:") and has help text;
leaf commands carry an example in their epilog."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main


def _walk(cmd: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            out += _walk(sub, (*path, name))
    return out


COMMANDS = _walk(main)


def test_tree_has_the_ticket_commands() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    for expected in (
        "db upgrade",
        "db current",
        "agencies import",
        "agencies set-focal",
        "routing test",
        "tickets create",
        "tickets complete",
        "tickets extend",
        "tickets duplicate",
        "calendar deadline",
    ):
        assert expected in paths


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) or "hotline" for p, _ in COMMANDS])
def test_help_renders(path: tuple[str, ...], cmd: click.Command) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert (cmd.help or cmd.short_help or "").strip(), f"{' '.join(path)} has no help text"


OWN_GROUPS = ("db", "agencies", "routing", "tickets")


@pytest.mark.parametrize(
    ("path", "cmd"),
    [(p, c) for p, c in COMMANDS if p and p[0] in OWN_GROUPS and not isinstance(c, click.Group)],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_leaf_commands_show_an_example(path: tuple[str, ...], cmd: click.Command) -> None:
    assert cmd.epilog and "hotline " in cmd.epilog


def test_bench_call_usage_names_only_real_options() -> None:
    """bench/call.py's usage line advertises only options its parser accepts (it offered a --quick)."""
    import re
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "bench" / "call.py"
    usage = [line for line in script.read_text(encoding="utf-8").splitlines() if "bench/call.py [" in line]
    advertised = {m for line in usage for m in re.findall(r"\[(--[a-z][a-z0-9-]*)", line)}
    assert advertised
    out = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr[-500:]
    options = set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", out.stdout, flags=re.M))
    assert advertised <= options, advertised - options
