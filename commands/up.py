"""``hotline up`` / ``hotline down``: start and stop everything the hotline needs.

Asterisk first (installed and given generated secrets if needed), then the Rasa NLU server (a daemon
of its own, when it is set up), then each managed service as a ``hotline ...`` subprocess
(:data:`SERVICES`: the call-control app and the scheduler). A service whose command is not part of
this installation is reported as missing and skipped. Pid files go to ``<data_dir>/run``, service
logs to ``<data_dir>/log``. In the foreground ``hotline up`` restarts a crashed service and stops
everything on Ctrl-C or SIGTERM; ``hotline down`` stops a foreground ``up`` (through its pid file)
or the detached processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import click

from commands.errors import UserError, load_settings
from commands.pbx import run_dir, start_pbx, stop_pbx, write_secrets
from config.private_files import open_private_binary, private_dir
from config.settings import Settings
from pbx.install import InstallError, install

STOP_TIMEOUT_S = 15.0
APP_READY_TIMEOUT_S = 60.0  # the app loads the speech model before it registers with ARI
RESTART_DELAY_S = 2.0
MAX_QUICK_CRASHES = 5  # a service dying this many times within QUICK_CRASH_S of its start is given up
QUICK_CRASH_S = 10.0
ROTATE_EVERY_S = 60.0  # the foreground `up` rotates the service logs it writes


@dataclass(frozen=True)
class Service:
    name: str  # pid file and log file name
    argv: tuple[str, ...]  # arguments of the `hotline` command


SERVICES: list[Service] = [
    Service("app", ("app", "run")),
    Service("scheduler", ("scheduler", "run")),
    Service("web", ("web", "run")),  # the portal on web.host:web.port (127.0.0.1:8080)
]
AGI_SERVICE = Service("agi", ("agi", "run"))  # the DTMF-only fallback menu, when pbx.fastagi_url is set


def services_for(settings: Settings) -> list[Service]:
    return [*SERVICES, AGI_SERVICE] if settings.pbx.fastagi_url else list(SERVICES)


def start_nlu(settings: Settings) -> str:
    """Start the Rasa NLU server when its environment and a model are there. A hotline without it
    still runs: the dialogue uses the rule-based interpreter (degraded, logged), so this never fails."""
    import wiring
    from nlu.rasa_env import RasaEnvError, load_env
    from nlu.rasa_server import RasaServerError, current_model, serve

    env = load_env(settings.data_dir)
    if not env.installed:
        return "not set up (`hotline nlu setup`); calls use the rule-based interpreter"
    if current_model(env) is None:
        return "no model (`hotline nlu train`); calls use the rule-based interpreter"
    token = wiring.build(settings).rasa_token  # the token every client of the server uses too
    try:
        pid = serve(env, settings.data_dir, settings.nlu.rasa_url, token, wait_s=settings.nlu.rasa_start_s)
    except (RasaEnvError, RasaServerError) as exc:
        return f"failed ({exc}); calls use the rule-based interpreter"
    return f"ready at {settings.nlu.rasa_url}, pid {pid}"


def stop_nlu(settings: Settings) -> bool:
    from nlu.rasa_server import stop

    return stop(settings.data_dir)


def hotline_executable() -> list[str]:
    """How to run this same ``hotline`` (the console script beside the interpreter, else ``-m``-style)."""
    script = Path(sys.executable).with_name("hotline")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import cli; cli.main()"]


def command_exists(ctx: click.Context, argv: tuple[str, ...]) -> bool:
    command: click.Command | None = ctx.find_root().command
    for part in argv:
        if not isinstance(command, click.Group):
            return False
        command = command.get_command(ctx, part)
        if command is None:
            return False
    return command is not None


def log_dir(settings: Settings) -> Path:
    return private_dir(settings.data_dir / "log")


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def process_alive(pid: int, marker: str) -> bool:
    """True if ``pid`` runs and its command line contains ``marker`` (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return marker.encode() in cmdline


def service_pid(settings: Settings, service: Service) -> int | None:
    pid = read_pid(run_dir(settings) / f"{service.name}.pid")
    if pid is not None and process_alive(pid, " ".join(service.argv)):
        return pid
    return None


def start_service(settings: Settings, service: Service) -> subprocess.Popen[bytes]:
    log_path = log_dir(settings) / f"{service.name}.log"
    with open_private_binary(log_path, "ab") as log:
        proc = subprocess.Popen(
            [*hotline_executable(), *service.argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches `up`, which stops services in order
        )
    (run_dir(settings) / f"{service.name}.pid").write_text(f"{proc.pid}\n", encoding="utf-8")
    return proc


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT_S) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def stop_services(settings: Settings) -> list[str]:
    stopped = []
    for service in reversed(services_for(settings)):
        pid = service_pid(settings, service)
        if pid is not None:
            stop_pid(pid)
            stopped.append(service.name)
        (run_dir(settings) / f"{service.name}.pid").unlink(missing_ok=True)
    return stopped


def prepare(settings: Settings) -> Settings:
    """Install Asterisk and generate secrets when missing; returns the (re-read) settings."""
    try:
        install(settings, click.echo)
    except InstallError as exc:
        raise UserError(str(exc)) from exc
    if write_secrets(settings) is not None:
        click.echo("generated ARI and AMI secrets")
        settings = load_settings()
    return settings


@click.command("up")
@click.option("--detach", is_flag=True, help="Start everything in the background and return.")
@click.pass_context
def up_cmd(ctx: click.Context, detach: bool) -> None:
    """Start Asterisk and the hotline services; in the foreground, Ctrl-C stops them all.

    \b
    Examples:
      hotline up
      hotline up --detach && hotline down
    """
    settings = prepare(load_settings())
    start_pbx(settings)
    click.echo(f"nlu: {start_nlu(settings)}")
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for service in services_for(settings):
        if not command_exists(ctx, service.argv):
            click.echo(f"{service.name}: missing (`hotline {' '.join(service.argv)}` is not installed)")
            continue
        running = service_pid(settings, service)
        if running is not None:
            click.echo(f"{service.name}: already running, pid {running}")
            continue
        procs[service.name] = start_service(settings, service)
        click.echo(f"{service.name}: started, pid {procs[service.name].pid}, log {log_dir(settings)}")
    if "app" in procs:
        click.echo(wait_app_registered(settings, procs["app"]))
    if detach:
        click.echo("hotline is up; stop it with: hotline down")
        return
    supervise(settings, procs)


def app_registered(settings: Settings) -> bool:
    """True when Asterisk knows the ARI application, i.e. calls reach the AI operator."""
    import httpx

    pbx = settings.pbx
    url = f"http://{pbx.local_host}:{pbx.http_port}/ari/applications/{pbx.app_name}"
    try:
        resp = httpx.get(url, auth=(pbx.ari_user, pbx.ari_password), timeout=2.0)
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def wait_app_registered(
    settings: Settings, proc: subprocess.Popen[bytes], timeout: float = APP_READY_TIMEOUT_S
) -> str:
    """Wait until the call-control app has registered with Asterisk, so that `up` returns only when
    a call is answered by the AI operator (until then calls go to the operator queue)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app_registered(settings):
            return "app: taking calls"
        if proc.poll() is not None:
            log = log_dir(settings) / "app.log"
            return f"app: exited with status {proc.returncode} (see {log}); calls go to the operator queue"
        time.sleep(0.3)
    return (
        f"app: not registered with Asterisk after {timeout:.0f} s; calls go to the operator queue meanwhile"
    )


def supervise(settings: Settings, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """Foreground loop: restart crashed services until SIGINT/SIGTERM, then stop everything."""
    up_pid = run_dir(settings) / "up.pid"
    up_pid.write_text(f"{os.getpid()}\n", encoding="utf-8")
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = {name: time.monotonic() for name in procs}
    quick_crashes = dict.fromkeys(procs, 0)
    by_name = {s.name: s for s in services_for(settings)}
    click.echo("hotline is up; Ctrl-C stops it")
    rotated_at = time.monotonic()
    try:
        while not stopping:
            time.sleep(0.5)
            if time.monotonic() - rotated_at > ROTATE_EVERY_S:
                rotated_at = time.monotonic()
                from commands.scheduler import rotate_files

                rotate_files(settings)
            for name, proc in list(procs.items()):
                if proc.poll() is None:
                    continue
                quick = time.monotonic() - started[name] < QUICK_CRASH_S
                quick_crashes[name] = quick_crashes[name] + 1 if quick else 0
                if quick_crashes[name] >= MAX_QUICK_CRASHES:
                    click.echo(
                        f"{name}: exited {proc.returncode} {MAX_QUICK_CRASHES} times at start; giving up"
                    )
                    del procs[name]
                    continue
                click.echo(f"{name}: exited with status {proc.returncode}; restarting")
                time.sleep(RESTART_DELAY_S)
                procs[name] = start_service(settings, by_name[name])
                started[name] = time.monotonic()
    finally:
        click.echo("stopping the hotline")
        for proc in procs.values():
            stop_pid(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        stop_services(settings)
        if stop_nlu(settings):  # as `hotline down` does: no Rasa server (nor its root mounts) left
            click.echo("nlu: stopped")
        stop_pbx(settings)
        up_pid.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("hotline stopped")


@click.command("down")
def down_cmd() -> None:
    """Stop the hotline: a foreground `hotline up`, detached services and Asterisk.

    \b
    Example:
      hotline down
    """
    settings = load_settings()
    up_pid_file = run_dir(settings) / "up.pid"
    up_pid = read_pid(up_pid_file)
    if up_pid is not None and process_alive(up_pid, "hotline"):
        click.echo(f"stopping `hotline up` (pid {up_pid})")
        stop_pid(up_pid, timeout=STOP_TIMEOUT_S * 4)
    up_pid_file.unlink(missing_ok=True)
    for name in stop_services(settings):
        click.echo(f"{name}: stopped")
    if stop_nlu(settings):
        click.echo("nlu: stopped")
    if stop_pbx(settings):
        click.echo("Asterisk: stopped")
    click.echo("hotline is down")
