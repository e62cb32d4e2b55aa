"""Train and serve the Rasa NLU project as a separate loopback process with an auth token.

The project files in :data:`PROJECT_DIR` are copied into the environment's workspace; a model is
trained only when their fingerprint changed. ``serve`` starts ``rasa run --enable-api`` bound to the
loopback address of ``Settings.nlu.rasa_url``, writes a pid file under ``<data_dir>/run`` and logs
under ``<data_dir>/log``, and waits until ``POST /model/parse`` answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from config.private_files import open_private_text
from nlu.rasa_auth import JWT_METHOD, bearer_headers
from nlu.rasa_env import RasaEnv, RasaEnvError, release_runtime_fs

PROJECT_DIR = Path(__file__).resolve().parent / "rasa_project"
PROJECT_FILES = ("config.yml", "domain.yml", "data")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_FILE = "rasa-token"

Progress = Callable[[str], None]


class RasaServerError(RuntimeError):
    """Training or serving Rasa failed."""


def _noop(_: str) -> None:
    return None


@dataclass(frozen=True)
class ServerPaths:
    data_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "run" / "rasa.pid"

    @property
    def root_file(self) -> Path:
        """Where a running server's chroot and claim lock are noted, so ``stop`` can unmount after it."""
        return self.data_dir / "run" / "rasa-root.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "log" / "rasa.log"

    @property
    def train_log(self) -> Path:
        return self.data_dir / "log" / "rasa-train.log"


def ensure_token(configured: str, data_dir: Path) -> str:
    """The configured token, else one generated once into ``<data_dir>/rasa-token`` (mode 600)."""
    if configured.strip():
        return configured.strip()
    path = data_dir / TOKEN_FILE
    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def loopback_address(url: str) -> tuple[str, int]:
    """Host and port of the Rasa URL; refuses anything but a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise RasaServerError(f"Rasa must listen on loopback only, not {host!r} (nlu.rasa_url)")
    return ("127.0.0.1" if host == "localhost" else host), parts.port or 5005


def project_fingerprint(project: Path = PROJECT_DIR) -> str:
    digest = hashlib.sha256()
    for name in PROJECT_FILES:
        base = project / name
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            digest.update(str(path.relative_to(project)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def sync_project(env: RasaEnv, project: Path = PROJECT_DIR) -> Path:
    """Copy the project files into the workspace (replacing the previous copy); models are kept."""
    ws = env.workspace
    ws.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src, dst = project / name, ws / name
        if dst.is_dir():
            shutil.rmtree(dst)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)
    return ws


def model_path(env: RasaEnv, fingerprint: str) -> Path:
    return env.workspace / "models" / f"nlu-{fingerprint}.tar.gz"


def current_model(env: RasaEnv) -> Path | None:
    models = sorted((env.workspace / "models").glob("nlu-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def run_rasa(env: RasaEnv, args: list[str], log: Path, timeout: float) -> None:
    """Run one Rasa command in the workspace, its output to ``log``; raise with the log's tail on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = env.command(args)
    with env.claim(), open_private_text(log, "w") as out:
        try:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RasaServerError(f"rasa {args[0]} timed out after {timeout:.0f} s (log: {log})") from exc
    if proc.returncode != 0:
        tail = " | ".join(log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-4:])
        raise RasaServerError(f"rasa {' '.join(args[:2])} failed (exit {proc.returncode}): {tail}")


def train(env: RasaEnv, data_dir: Path, force: bool = False, progress: Progress = _noop) -> Path:
    """Train the served NLU model unless one for the current project files exists; returns its host
    path. (``hotline nlu train`` trains through the gate instead, in a workspace of its own:
    :mod:`nlu.gated_training`.)"""
    fingerprint = project_fingerprint()
    target = model_path(env, fingerprint)
    if target.is_file() and not force:
        progress(f"model up to date: {target.name}")
        return target
    ws = sync_project(env)
    return train_workspace(env, ws, ws / "models", fingerprint, ServerPaths(data_dir).train_log, progress)


def train_workspace(
    env: RasaEnv, ws: Path, out: Path, fingerprint: str, log: Path, progress: Progress = _noop
) -> Path:
    """``rasa train nlu`` on the project files in ``ws`` (a folder Rasa can see: inside the root for
    the chroot kind) into ``out/nlu-<fingerprint>.tar.gz``."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"nlu-{fingerprint}.tar.gz"
    progress("rasa train nlu (a few minutes on 2 cores)")
    inner = env.inner_path(ws)
    args = ["train", "nlu", "--config", f"{inner}/config.yml", "--nlu", f"{inner}/data"]
    args += ["--domain", f"{inner}/domain.yml", "--out", env.inner_path(out), "--fixed-model-name"]
    args += [f"nlu-{fingerprint}"]
    started = time.monotonic()
    run_rasa(env, args, log, timeout=3600)
    if not target.is_file():
        raise RasaServerError(f"training finished but {target} is missing")
    progress(f"trained {target.name} in {time.monotonic() - started:.0f} s")
    return target


def validate(env: RasaEnv, data_dir: Path) -> None:
    """``rasa data validate`` on the project (domain, intents, examples)."""
    sync_project(env)
    inner = env.inner_workspace
    args = ["data", "validate", "--domain", f"{inner}/domain.yml", "--data", f"{inner}/data"]
    args += ["--config", f"{inner}/config.yml", "--fail-on-warnings"]
    run_rasa(env, args, data_dir / "log" / "rasa-validate.log", timeout=600)


def read_pid(data_dir: Path) -> int | None:
    path = ServerPaths(data_dir).pid_file
    try:
        pid = int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def is_ready(url: str, token: str, timeout: float = 2.0) -> bool:
    """True when the server parses text (the model is loaded and the token is accepted)."""
    try:
        resp = httpx.post(
            f"{url.rstrip('/')}/model/parse",
            headers=bearer_headers(token),
            json={"text": "xin chào"},
            timeout=timeout,
        )
        body = resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(body, dict) and "intent" in body


def serve(
    env: RasaEnv,
    data_dir: Path,
    url: str,
    token: str,
    model: Path | None = None,
    wait_s: float = 180.0,
    progress: Progress = _noop,
    token_dir: Path | None = None,
) -> int:
    """Start ``rasa run`` in the background (unless already running) and wait until it is ready.
    ``token_dir``: where the server's token file goes (default: the workspace); a folder Rasa sees."""
    host, port = loopback_address(url)
    running = read_pid(data_dir)
    if running is not None:
        if is_ready(url, token):
            progress(f"Rasa already running (pid {running})")
            return running
        stop(data_dir)
    model = model or current_model(env)
    if model is None:
        raise RasaServerError("no trained model; run `hotline nlu train` first")
    paths = ServerPaths(data_dir)
    paths.pid_file.parent.mkdir(parents=True, exist_ok=True)
    paths.log_file.parent.mkdir(parents=True, exist_ok=True)
    args = ["run", "--enable-api", "-i", host, "-p", str(port), "-m", env.inner_path(model)]
    with env.claim() as claim_fd:
        if env.kind == "chroot":
            record = {"root": str(env.root), "lock": str(env.lock_file)}
            paths.root_file.write_text(json.dumps(record) + "\n", encoding="utf-8")
        log = open_private_text(paths.log_file, "a")  # parsed caller turns may appear in it
        proc = subprocess.Popen(
            token_launcher(env, args, token, token_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            pass_fds=() if claim_fd is None else (claim_fd,),  # the server holds the mounts while it runs
        )
        log.close()
    paths.pid_file.write_text(f"{proc.pid}\n", encoding="utf-8")
    progress(f"started Rasa (pid {proc.pid}) on {host}:{port}, log {paths.log_file}")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise RasaServerError(f"Rasa exited with status {proc.returncode}; see {paths.log_file}")
        if is_ready(url, token):
            return proc.pid
        time.sleep(0.5)
    stop(data_dir)
    raise RasaServerError(f"Rasa not ready after {wait_s:.0f} s; see {paths.log_file}")


def token_launcher(env: RasaEnv, args: list[str], token: str, token_dir: Path | None = None) -> list[str]:
    """The argv running ``rasa <args> --jwt-secret <token>`` without the token on the command line
    (which every local user can read in /proc): a 0600 file holds it and a tiny launcher reads it.
    Requests then carry a bearer token signed with it (:mod:`nlu.rasa_auth`), never ``?token=``."""
    folder = token_dir or env.workspace
    folder.mkdir(parents=True, exist_ok=True)
    port = args[args.index("-p") + 1] if "-p" in args else "default"
    token_file = folder / f"auth-token-{port}"  # one per server: tests run their own beside dev
    with open_private_text(token_file, "w") as f:
        f.write(token)
    code = (
        "import sys\n"
        "from rasa.__main__ import main\n"
        f"with open({env.inner_path(token_file)!r}) as f: token = f.read().strip()\n"
        f"sys.argv = ['rasa', *{args!r}, '--jwt-secret=' + token, '--jwt-method={JWT_METHOD}']\n"
        "main()\n"
    )
    return env.python_command(code)


def stop(data_dir: Path, wait_s: float = 15.0) -> bool:
    """Stop the server recorded in the pid file (its process group); False if none was running."""
    paths = ServerPaths(data_dir)
    pid = read_pid(data_dir)
    if pid is None:
        paths.pid_file.unlink(missing_ok=True)
        _release_root(paths, None)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    paths.pid_file.unlink(missing_ok=True)
    _release_root(paths, pid)
    return True


def _release_root(paths: ServerPaths, pgid: int | None) -> None:
    """Unmount the server's chroot runtime file systems unless another user still holds them (another
    server, a training run: their own end releases them then)."""
    try:
        record = json.loads(paths.root_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + 5.0
    while pgid is not None and _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)  # the server's own children hold its claim until they exit
    release_runtime_fs(Path(record["root"]), Path(record["lock"]))
    paths.root_file.unlink(missing_ok=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


__all__ = [
    "RasaEnvError",
    "RasaServerError",
    "ServerPaths",
    "current_model",
    "ensure_token",
    "is_ready",
    "loopback_address",
    "project_fingerprint",
    "read_pid",
    "serve",
    "stop",
    "train",
    "train_workspace",
    "validate",
]
