"""systemd units of the hotline, rendered from the Jinja2 templates in ``ops/units/``.

One unit per part (Asterisk, NLU server, call app, scheduler, web app) and ``hotline.target`` over
them, with restart policies and ordering: the call app requires Asterisk and comes after it and the
NLU server; everything that uses the database comes after PostgreSQL when it is local. Asterisk is
the distribution's package when there is one (``kind == "system"``), the private root otherwise.
Templates use ``StrictUndefined``: a missing value is an error, never an empty line. Values are
checked for what systemd would misread (newlines; ``%`` is escaped; spaces are quoted).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent / "units"
SERVICES = ("hotline-asterisk", "hotline-nlu", "hotline-app", "hotline-scheduler", "hotline-web")
TARGET = "hotline.target"


class UnitError(ValueError):
    """A value cannot be written into a unit file safely."""


@dataclass(frozen=True)
class AsteriskUnit:
    kind: str  # "system" (the distribution's package) | "chroot" (the private root)
    instance: str
    binary: str  # the package's binary (system)
    root: str  # the private root (chroot)


@dataclass(frozen=True)
class UnitValues:
    hotline: str  # the `hotline` executable
    user: str  # who runs the app, scheduler and web app
    data_dir: str
    workdir: str
    config_file: str  # "" when there is none
    docs: str
    rasa_url: str
    database_unit: str  # e.g. "postgresql.service" when the database is local; "" otherwise
    asterisk: AsteriskUnit


def systemd_value(value: object) -> str:
    """A path or word for a unit file: no control characters, ``%`` escaped, quoted if it has spaces."""
    text = str(value)
    if any(ord(ch) < 32 for ch in text):
        raise UnitError(f"{text!r} contains a control character")
    text = text.replace("%", "%%")
    if any(ch in text for ch in " \t\"'\\"):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # unit files, not HTML
    )
    env.filters["sd"] = systemd_value
    return env


def render(values: UnitValues) -> dict[str, str]:
    """File name -> content of every unit."""
    env = environment()
    context = {
        "hotline": values.hotline,
        "user": systemd_value(values.user),
        "data_dir": values.data_dir,
        "workdir": values.workdir,
        "config_file": values.config_file,
        "docs": values.docs,
        "rasa_url": values.rasa_url,
        "database_unit": values.database_unit,
        "asterisk": values.asterisk,
        "units": [f"{name}.service" for name in SERVICES],
    }
    out = {f"{name}.service": env.get_template(f"{name}.service.j2").render(context) for name in SERVICES}
    out[TARGET] = env.get_template(f"{TARGET}.j2").render(context)
    return out


def database_unit(url: str) -> str:
    """``postgresql.service`` when the database is a PostgreSQL server on this machine."""
    from ticketing.db.ops import backend_name, url_host

    if backend_name(url) != "postgresql":
        return ""
    return "postgresql.service" if (url_host(url) or "localhost") in ("localhost", "127.0.0.1", "::1") else ""


def write(units: dict[str, str], directory: Path) -> list[Path]:
    """Write the units (mode 0644: systemd reads them; they hold no secret)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in units.items():
        path = directory / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o644)
        tmp.replace(path)
        written.append(path)
    return written
