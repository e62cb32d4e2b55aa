"""``hotline pbx``: install, configure, start, stop, reload and inspect Asterisk.

The functions below the commands (:func:`render_current`, :func:`start_pbx`, :func:`stop_pbx`) are the
ones ``hotline up``/``down`` and ``hotline operators`` reuse.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from commands.errors import UserError, load_settings
from config.settings import Settings, SettingsError, get_settings, require_secret, secrets_file_path
from pbx.install import AsteriskLayout, InstallError, install, is_installed, layout
from pbx.process import AsteriskProcess, PbxError
from pbx.render import (
    DEV_TRUNK_WARNING,
    RenderError,
    dev_trunk_enabled,
    render_to_disk,
    rendered_dir,
)
from ticketing.db.engine import sqlite_path
from ticketing.db.operators import OperatorRepository
from ticketing.errors import StorageError
from ticketing.operators import OperatorEndpoint

SECRET_BYTES = 24


@contextlib.contextmanager
def db_session(settings: Settings, write: bool = False) -> Iterator[Any]:
    """A session on the configured database; storage errors become one-line user errors."""
    import wiring
    from ticketing.db.errors import storage_errors

    root = wiring.build(settings)
    factory = root.session_factory
    try:
        with storage_errors(), factory.begin() if write else factory() as session:
            yield session
    except StorageError as exc:
        raise UserError(
            "cannot use the database; run: hotline db upgrade (lỗi cơ sở dữ liệu) "
            f"[{type(exc.__cause__).__name__}]"
        ) from exc
    finally:
        root.close()


def load_operators(settings: Settings) -> list[OperatorEndpoint]:
    """Operator endpoints from the database (``hotline db upgrade`` must have run); none while the
    SQLite database does not exist yet (rendering must not create an empty one)."""
    path = sqlite_path(settings.database_url)
    if path is not None and not path.is_file():
        return []
    with db_session(settings) as session:
        return OperatorRepository(session).endpoints()


def current_layout(settings: Settings) -> AsteriskLayout:
    try:
        return layout(settings)
    except InstallError as exc:
        raise UserError(str(exc)) from exc


def render_current(settings: Settings, operators: list[OperatorEndpoint] | None = None) -> AsteriskLayout:
    """Render the config of the configured instance from settings and the database."""
    lay = current_layout(settings)
    ops = load_operators(settings) if operators is None else operators
    try:
        render_to_disk(settings, lay, ops)
    except RenderError as exc:
        raise UserError(f"cannot render the Asterisk config: {exc}") from exc
    return lay


def ports_of(settings: Settings) -> dict[str, tuple[str, int, str]]:
    pbx = settings.pbx
    return {
        "pbx.sip_port": (pbx.bind_host, pbx.sip_port, "udp"),
        "pbx.http_port": (pbx.local_host, pbx.http_port, "tcp"),
        "pbx.ami_port": (pbx.local_host, pbx.ami_port, "tcp"),
    }


def start_pbx(settings: Settings, echo: bool = True) -> AsteriskProcess:
    """Render and start Asterisk (no-op if it already runs); returns the process handle."""
    lay = render_current(settings)  # refuses the development trunk in production
    if dev_trunk_enabled(settings):
        click.secho(DEV_TRUNK_WARNING, err=True, fg="red", bold=True)
    if lay.kind == "chroot" and not is_installed(lay.root):
        raise UserError("Asterisk is not installed; run: hotline pbx install (chưa cài Asterisk)")
    proc = AsteriskProcess(lay, click.echo if echo else None)
    try:
        pid = proc.start(rendered_dir(lay), ports_of(settings))
    except PbxError as exc:
        raise UserError(str(exc)) from exc
    write_pid(settings, "asterisk", pid)
    return proc


def stop_pbx(settings: Settings, echo: bool = True) -> bool:
    proc = AsteriskProcess(current_layout(settings), click.echo if echo else None)
    try:
        stopped = proc.stop()
    except PbxError as exc:
        raise UserError(str(exc)) from exc
    (run_dir(settings) / "asterisk.pid").unlink(missing_ok=True)
    return stopped


def run_dir(settings: Settings) -> Path:
    path = settings.data_dir / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_pid(settings: Settings, name: str, pid: int) -> None:
    (run_dir(settings) / f"{name}.pid").write_text(f"{pid}\n", encoding="utf-8")


@click.group("pbx")
def pbx_group() -> None:
    """Install and run Asterisk, and render its configuration.

    \b
    Examples:
      hotline pbx install
      hotline pbx secrets
      hotline pbx start
      hotline pbx status
    """


@pbx_group.command("install")
@click.option("--no-system", is_flag=True, help="Build the Debian sid root even if a system Asterisk exists.")
def install_cmd(no_system: bool) -> None:
    """Use a system Asterisk >= 20, or build a Debian sid root with Asterisk (idempotent).

    \b
    Example:
      hotline pbx install
    """
    settings = load_settings()
    try:
        lay = install(settings, click.echo, prefer_system=not no_system)
    except InstallError as exc:
        raise UserError(str(exc)) from exc
    where = lay.root if lay.kind == "chroot" else lay.binary
    click.echo(f"Asterisk ready ({lay.kind}: {where})")


@pbx_group.command("secrets")
@click.option("--force", is_flag=True, help="Replace secrets that are already set (rotates them).")
def secrets_cmd(force: bool) -> None:
    """Generate strong ARI and AMI passwords into the secrets file (mode 0600) if none are set.

    \b
    Example:
      hotline pbx secrets && hotline pbx reload
    """
    settings = load_settings()
    path = write_secrets(settings, force=force)
    if path is None:
        click.echo("ARI and AMI secrets are already set; nothing to do (use --force to rotate)")
    else:
        click.echo(f"wrote new ARI and AMI secrets to {path}")


def write_secrets(settings: Settings, force: bool = False) -> Path | None:
    """Generate missing secrets; returns the file written, or None if all were set."""

    def usable(value: str) -> bool:
        try:
            require_secret(value, "secret")
        except SettingsError:
            return False
        return True

    if not force and usable(settings.pbx.ari_password) and usable(settings.pbx.ami_password):
        return None
    path = secrets_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    ari = settings.pbx.ari_password if usable(settings.pbx.ari_password) and not force else None
    ami = settings.pbx.ami_password if usable(settings.pbx.ami_password) and not force else None
    values = {
        "ari_password": ari or secrets.token_urlsafe(SECRET_BYTES),
        "ami_password": ami or secrets.token_urlsafe(SECRET_BYTES),
    }
    text = "# Generated by `hotline pbx secrets`. Keep private.\n[pbx]\n" + "".join(
        f'{key} = "{value}"\n' for key, value in values.items()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    get_settings.cache_clear()
    return path


@pbx_group.command("render")
def render_cmd() -> None:
    """Render asterisk-conf/*.j2 from settings and the operator list into the instance's config dir.

    \b
    Example:
      hotline pbx render
    """
    settings = load_settings()
    lay = render_current(settings)
    click.echo(f"rendered the Asterisk configuration into {rendered_dir(lay)}")


@pbx_group.command("start")
def start_cmd() -> None:
    """Render the configuration and start Asterisk; waits until it is fully booted.

    \b
    Example:
      hotline pbx start
    """
    start_pbx(load_settings())


@pbx_group.command("stop")
def stop_cmd() -> None:
    """Stop Asterisk (core stop now) and unmount the root's proc and dev.

    \b
    Example:
      hotline pbx stop
    """
    if not stop_pbx(load_settings()):
        click.echo("Asterisk was not running")


@pbx_group.command("reload")
def reload_cmd() -> None:
    """Re-render the configuration and reload it into the running Asterisk.

    \b
    Example:
      hotline operators add op1001 && hotline pbx reload
    """
    settings = load_settings()
    lay = render_current(settings)
    try:
        AsteriskProcess(lay).reload(rendered_dir(lay))
    except PbxError as exc:
        raise UserError(str(exc)) from exc
    click.echo("Asterisk configuration reloaded")


@pbx_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_cmd(as_json: bool) -> None:
    """Show whether Asterisk runs, its uptime, endpoints and queues.

    \b
    Example:
      hotline pbx status --json
    """
    settings = load_settings()
    lay = current_layout(settings)
    try:
        status = AsteriskProcess(lay).status()
    except PbxError as exc:
        raise UserError(str(exc)) from exc
    if as_json:
        data = {
            "running": status.running,
            "pid": status.pid,
            "kind": lay.kind,
            "instance": lay.instance,
            "uptime": status.uptime,
            "endpoints": [{"name": e.name, "state": e.state} for e in status.endpoints],
        }
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if not status.running:
        click.echo("Asterisk: stopped")
        return
    click.echo(f"Asterisk: running (pid {status.pid}, {lay.kind}, instance {lay.instance})")
    click.echo(status.uptime)
    for endpoint in status.endpoints:
        click.echo(f"  endpoint {endpoint.name}: {endpoint.state}")
    click.echo(status.queues)


@pbx_group.command("cli")
@click.argument("command")
def cli_cmd(command: str) -> None:
    """Run one Asterisk CLI command on the running instance.

    \b
    Example:
      hotline pbx cli "pjsip show endpoints"
    """
    lay = current_layout(load_settings())
    try:
        click.echo(AsteriskProcess(lay).cli(command), nl=False)
    except PbxError as exc:
        raise UserError(str(exc)) from exc
