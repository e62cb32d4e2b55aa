"""``hotline service install``: systemd units for every part of the hotline (:mod:`ops.systemd`)."""

from __future__ import annotations

import getpass
import os
import pwd
from pathlib import Path

import click

from commands.errors import UserError, load_settings
from commands.up import hotline_executable
from ops import systemd

REPO_DOCS = Path(__file__).resolve().parents[1] / "docs"


def _owner(path: Path) -> str:
    try:
        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (OSError, KeyError):
        return getpass.getuser()


@click.group("service")
def service_group() -> None:
    """Run the hotline as systemd services."""


@service_group.command("install")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("/etc/systemd/system"),
    show_default=True,
    help="Where to write the units (another folder to review them first).",
)
@click.option(
    "--user", default=None, help="Who runs the app, scheduler and web app (default: the data dir's owner)."
)
def install_cmd(directory: Path, user: str | None) -> None:
    """Write systemd units for Asterisk, the call app, the NLU server, the scheduler and the web app,
    plus hotline.target over them: restart on failure, the app after Asterisk and the NLU server,
    everything using the database after a local PostgreSQL. Asterisk is the distribution's package
    when there is one, the private root under the data directory otherwise.

    \b
    Examples:
      sudo hotline service install
      sudo systemctl daemon-reload && sudo systemctl enable --now hotline.target
      hotline service install --dir /tmp/units   # review before installing
    """
    from pbx.install import InstallError, layout

    s = load_settings()
    try:
        lay = layout(s)
    except InstallError as exc:
        raise UserError(str(exc)) from exc
    data_dir = s.data_dir.resolve()
    config = Path(os.environ.get("HOTLINE_CONFIG", "hotline.toml"))
    exe = hotline_executable()
    values = systemd.UnitValues(
        hotline=" ".join(exe) if len(exe) == 1 else exe[0],
        user=user or _owner(data_dir if data_dir.exists() else Path.cwd()),
        data_dir=str(data_dir),
        workdir=str(Path.cwd().resolve()),
        config_file=str(config.resolve()) if config.is_file() else "",
        docs=str(REPO_DOCS),
        rasa_url=s.nlu.rasa_url,
        database_unit=systemd.database_unit(s.database_url),
        asterisk=systemd.AsteriskUnit(lay.kind, lay.instance, lay.binary, str(lay.root)),
    )
    if len(exe) != 1:
        raise UserError(
            "the `hotline` console script was not found beside the interpreter; install the package"
        )
    try:
        units = systemd.render(values)
        written = systemd.write(units, directory)
    except systemd.UnitError as exc:
        raise UserError(f"cannot write the units: {exc}") from exc
    except OSError as exc:
        raise UserError(f"cannot write the units into {directory}: {exc.strerror} (run with sudo?)") from exc
    for path in written:
        click.echo(f"wrote {path}")
    kind = "the distribution's Asterisk" if lay.kind == "system" else f"Asterisk from {lay.root}"
    click.echo(f"Asterisk: {kind}; services run as {values.user} (Asterisk and Rasa as root)")
    click.echo("next: systemctl daemon-reload && systemctl enable --now hotline.target")
