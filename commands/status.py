"""``hotline status``: liveness and readiness of every part of the running hotline (:mod:`ops.health`)."""

from __future__ import annotations

import json

import click

from commands.errors import load_settings
from commands.pbx import run_dir
from config.settings import Settings
from ops import health
from ops.health import Part


def asterisk_part(s: Settings) -> Part:
    pid = health.pid_running(run_dir(s) / "asterisk.pid", "asterisk")
    if pid is None:
        return Part("asterisk", "down", True, "not running (hotline up)")
    pbx = s.pbx
    code = health.http_status(
        f"http://127.0.0.1:{pbx.http_port}/ari/asterisk/info", auth=(pbx.ari_user, pbx.ari_password)
    )
    if code != 200:
        return Part("asterisk", "down", True, f"running, but ARI does not answer (HTTP {code})", pid)
    return Part("asterisk", "up", True, f"ARI on 127.0.0.1:{pbx.http_port}", pid, {"ari": True})


def app_part(s: Settings) -> Part:
    pid = health.pid_running(run_dir(s) / "app.pid", "app run")
    if pid is None:
        return Part("app", "down", True, "not running: calls go straight to the operator queue")
    pbx = s.pbx
    registered = (
        health.http_status(
            f"http://127.0.0.1:{pbx.http_port}/ari/applications/{pbx.app_name}",
            auth=(pbx.ari_user, pbx.ari_password),
        )
        == 200
    )
    checks = health.worker_checks(s.ops.app_metrics_port, pid) or {}
    checks["ari"] = registered
    if not registered:
        return Part("app", "down", True, "running, not connected to ARI: calls go to the queue", pid, checks)
    if checks.get("database") is False:
        return Part("app", "down", True, "its database is unreachable (tickets are journaled)", pid, checks)
    if checks.get("speech_model") is False:
        return Part("app", "degraded", True, "no speech model: keypad menu and operators only", pid, checks)
    return Part("app", "up", True, "taking calls", pid, checks)


def nlu_part(s: Settings) -> Part:
    from nlu.rasa_env import load_env
    from nlu.rasa_server import TOKEN_FILE, current_model, is_ready, read_pid

    env = load_env(s.data_dir)
    if not env.installed or current_model(env) is None:
        return Part("nlu", "disabled", False, "not set up: calls use the rule-based interpreter")
    pid = read_pid(s.data_dir)
    if pid is None:
        return Part("nlu", "down", False, "not running: calls use the rule-based interpreter")
    token = s.nlu.rasa_token.strip()
    if not token:
        try:
            token = (s.data_dir / TOKEN_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
    if not is_ready(s.nlu.rasa_url, token):
        return Part("nlu", "down", False, "running, model not loaded yet", pid, {"model": False})
    return Part("nlu", "up", False, f"model loaded at {s.nlu.rasa_url}", pid, {"model": True})


def scheduler_part(s: Settings, database_up: bool) -> Part:
    pid = health.pid_running(run_dir(s) / "scheduler.pid", "scheduler run")
    holder = None
    if database_up:
        try:
            holder = health.lease_holder(s.database_url)
        except Exception:
            holder = None
    lease = f"sweep lease held by {holder}" if holder else "no runner holds the sweep lease"
    if pid is None:
        # another node's runner may hold the lease: deadlines are still swept
        state: health.State = "degraded" if holder else "down"
        return Part(
            "scheduler", state, False, f"not running on this node; {lease}", checks={"lease": bool(holder)}
        )
    checks = health.worker_checks(s.ops.scheduler_metrics_port, pid) or {}
    checks["lease"] = bool(holder)
    if checks.get("database") is False:
        return Part("scheduler", "down", False, f"its database is unreachable; {lease}", pid, checks)
    return Part("scheduler", "up" if holder else "degraded", False, lease, pid, checks)


def web_url(s: Settings) -> str:
    """The web app's address as seen from this machine: ops.web_url when set, else the web app's
    own port setting (web.port) on loopback, else the default."""
    port = getattr(getattr(s, "web", None), "port", None)
    if "web_url" not in s.ops.model_fields_set and isinstance(port, int):
        return f"http://127.0.0.1:{port}"
    return s.ops.web_url.rstrip("/")


def web_part(s: Settings) -> Part:
    url = web_url(s)
    code = health.http_status(f"{url}/")
    if code is None:
        return Part("web", "down", False, f"nothing answers at {url}")
    if code >= 500:
        return Part("web", "down", False, f"{url} answers HTTP {code}")
    return Part("web", "up", False, f"answering at {url}")


def collect(s: Settings) -> list[Part]:
    database = health.database_part(s.database_url)
    return [
        asterisk_part(s),
        app_part(s),
        nlu_part(s),
        scheduler_part(s, database.alive),
        web_part(s),
        database,
    ]


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for monitoring scripts).")
def status_cmd(as_json: bool) -> None:
    """Show whether each part of the hotline is alive and ready: Asterisk, the call app, the NLU
    server, the scheduler, the web app and the database. Exit 0 when everything callers need is up
    (Asterisk, the call app, the database), 1 otherwise.

    \b
    Examples:
      hotline status
      hotline status --json | jq .ok
    """
    s = load_settings()
    parts = collect(s)
    data = health.summary(parts)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for part in parts:
            need = "" if part.needed else " (optional)"
            pid = f" pid {part.pid}" if part.pid else ""
            click.echo(f"{part.name:<10} {part.state:<9}{pid}  {part.detail}{need}")
        click.echo("OK: callers are served" if data["ok"] else "NOT OK: a part callers need is down")
    if not data["ok"]:
        raise SystemExit(1)
