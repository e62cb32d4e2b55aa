"""Build and locate the separate Python environment that runs Rasa Open Source.

Rasa 3.6 needs Python 3.8-3.10 and pins SQLAlchemy < 1.5, so it cannot share the hotline's own
environment. Two kinds of environment are supported, both described by :class:`RasaEnv`:

* ``chroot`` (default): a Debian 11 "bullseye" root made with ``debootstrap`` under
  ``<data_dir>/rasa-root`` whose Python 3.9 holds a venv at ``/opt/rasa``; commands run through
  ``chroot ROOT env -i ...`` with a clean environment (host ``SSL_*`` variables must not leak in).
* ``python``: a given host interpreter (3.9 or 3.10) with a venv under ``<data_dir>/rasa-venv``.

The chosen kind is recorded in ``<data_dir>/rasa-env.json`` so later commands find it again. Every step
is idempotent: an existing root, venv or Rasa install is kept.

A chroot needs ``/proc`` and a ``/dev/shm`` mounted inside it while Rasa runs. Every user of the root
holds a shared ``flock`` on ``<data_dir>/rasa-root.lock`` (a server daemon inherits it and holds it for
its whole life); the mounts are made under that claim and removed by :func:`release_runtime_fs` only
when nobody holds it, so two servers can share one root and none is left mounted when all stop.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

RASA_VERSION = "3.6.21"
BULLSEYE_MIRROR = "http://deb.debian.org/debian"
ROOT_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates"
CHROOT_VENV = "/opt/rasa"
CHROOT_WORKSPACE = "/srv/hotline-nlu"
CHROOT_CA = "/etc/ssl/certs/host-ca.crt"
HOST_CA_CANDIDATES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
ENV_FILE = "rasa-env.json"
LOCK_FILE = "rasa-root.lock"

Progress = Callable[[str], None]


class RasaEnvError(RuntimeError):
    """The Rasa environment is missing, broken or cannot be built here."""


def _noop(_: str) -> None:
    return None


@dataclass(frozen=True)
class RasaEnv:
    """Where Rasa lives and how to run a command in it."""

    kind: str  # "chroot" | "python"
    data_dir: Path
    python: str = ""  # host interpreter for kind == "python"
    workspace_name: str = ""  # "": the served workspace; a name: a workspace of its own (tests)

    @property
    def root(self) -> Path:
        return (self.data_dir / "rasa-root").resolve()

    @property
    def host_venv(self) -> Path:
        if self.kind == "chroot":
            return self.root / CHROOT_VENV.lstrip("/")
        return (self.data_dir / "rasa-venv").resolve()

    @property
    def workspace(self) -> Path:
        """The host path of the Rasa project copy (config, domain, data, models)."""
        if self.kind == "chroot":
            return self.root / self.inner_workspace.lstrip("/")
        return (self.data_dir / (self.workspace_name or "rasa-workspace")).resolve()

    @property
    def inner_workspace(self) -> str:
        """The same workspace as the Rasa process sees it."""
        if self.kind == "chroot":
            return f"/srv/{self.workspace_name}" if self.workspace_name else CHROOT_WORKSPACE
        return str(self.workspace)

    @property
    def scratch(self) -> Path:
        """Where a gated training run makes its own workspace (a temporary folder each), apart from
        the served one: inside the root for the chroot kind, since Rasa sees only the root."""
        if self.kind == "chroot":
            return self.root / "srv" / "hotline-nlu-candidates"
        return (self.data_dir / "rasa-candidates").resolve()

    @property
    def installed(self) -> bool:
        return (self.host_venv / "bin" / "rasa").exists()

    def command(self, args: Sequence[str]) -> list[str]:
        """The argv that runs ``rasa <args>`` in the environment, with a clean process environment."""
        env = ["HOME=/root" if self.kind == "chroot" else f"HOME={self.data_dir.resolve()}"]
        env += ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "RASA_TELEMETRY_ENABLED=false"]
        env += ["TF_CPP_MIN_LOG_LEVEL=2", "PYTHONUNBUFFERED=1"]
        if self.kind == "chroot":
            rasa = f"{CHROOT_VENV}/bin/rasa"
            return ["chroot", str(self.root), "env", "-i", *env, rasa, *args]
        return ["env", "-i", *env, str(self.host_venv / "bin" / "rasa"), *args]

    def python_command(self, code: str) -> list[str]:
        """The argv that runs ``python -c <code>`` in the environment's venv (clean environment)."""
        argv = self.command(["--version"])
        rasa = argv.index(next(a for a in argv if a.endswith("/bin/rasa")))
        return [*argv[:rasa], argv[rasa].removesuffix("/rasa") + "/python", "-c", code]

    def inner_path(self, host_path: Path) -> str:
        """``host_path`` (inside the root for the chroot kind) as the Rasa process sees it."""
        if self.kind != "chroot":
            return str(host_path)
        return "/" + str(host_path.resolve().relative_to(self.root))

    @property
    def lock_file(self) -> Path:
        return (self.data_dir / LOCK_FILE).resolve()

    @contextlib.contextmanager
    def claim(self) -> Iterator[int | None]:
        """Make the environment runnable (``/proc`` and ``/dev/shm`` inside the root) and hold a shared
        claim on it; yields the claim's file descriptor (``None`` for the host-Python kind). Pass it to
        a daemon (``pass_fds``) to keep the mounts for the daemon's life; on leaving, the mounts go
        unless someone else still holds a claim."""
        if not self.installed:
            raise RasaEnvError("Rasa environment not installed; run `hotline nlu setup` first")
        self.workspace.mkdir(parents=True, exist_ok=True)
        if self.kind != "chroot":
            yield None
            return
        _require_root()
        with root_claim(self.root, self.lock_file) as fd:
            yield fd

    def release(self) -> bool:
        """Unmount the root's runtime file systems if no claim is held; True if none is mounted now."""
        return self.kind != "chroot" or release_runtime_fs(self.root, self.lock_file)

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        record = {"kind": self.kind, "python": self.python}
        (self.data_dir / ENV_FILE).write_text(json.dumps(record) + "\n", encoding="utf-8")


def load_env(data_dir: Path) -> RasaEnv:
    """The environment recorded by ``hotline nlu setup`` (the chroot kind if none was recorded)."""
    path = data_dir / ENV_FILE
    if path.is_file():
        record = json.loads(path.read_text(encoding="utf-8"))
        return RasaEnv(kind=record.get("kind", "chroot"), data_dir=data_dir, python=record.get("python", ""))
    return RasaEnv(kind="chroot", data_dir=data_dir)


@contextlib.contextmanager
def root_claim(root: Path, lock_file: Path) -> Iterator[int]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a release is unmounting
        mount_runtime_fs(root)
        yield fd
    finally:
        os.close(fd)
        release_runtime_fs(root, lock_file)


def release_runtime_fs(root: Path, lock_file: Path) -> bool:
    """Unmount ``/dev/shm`` and ``/proc`` inside ``root`` unless a claim on ``lock_file`` is held
    (a running Rasa, a training run). True when nothing is left mounted there."""
    points = [root / "dev" / "shm", root / "proc"]
    if not any(os.path.ismount(p) for p in points):
        return True
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # in use
        for point in points:
            if os.path.ismount(point):
                subprocess.run(["umount", str(point)], capture_output=True, check=False)
        return not any(os.path.ismount(p) for p in points)
    finally:
        os.close(fd)


def mount_runtime_fs(root: Path) -> None:
    """``/proc`` (TensorFlow aborts without it) and ``/dev/shm`` (semaphores of the Rasa server)."""
    proc, shm = root / "proc", root / "dev" / "shm"
    if not os.path.ismount(proc):
        _run(["mount", "-t", "proc", "proc", str(proc)], "mounting /proc in the Rasa root")
    shm.mkdir(parents=True, exist_ok=True)
    if not os.path.ismount(shm):
        _run(["mount", "-t", "tmpfs", "-o", "mode=1777,size=256m", "tmpfs", str(shm)], "mounting /dev/shm")


def _require_root() -> None:
    if os.geteuid() != 0:
        raise RasaEnvError("the bullseye root needs root (chroot, mount); run as root or use --python")


def _run(argv: Sequence[str], what: str, timeout: float = 3600) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise RasaEnvError(f"{what}: {argv[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise RasaEnvError(f"{what}: timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RasaEnvError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}")


def _python_version(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RasaEnvError(f"cannot run {python}")
    major, minor = out.stdout.split()
    return int(major), int(minor)


def build_chroot(env: RasaEnv, progress: Progress = _noop, mirror: str = BULLSEYE_MIRROR) -> None:
    """Create the bullseye root, then a venv with Rasa inside it."""
    _require_root()
    root = env.root
    if not (root / "usr" / "bin" / "python3").exists():
        if shutil.which("debootstrap") is None:
            raise RasaEnvError("debootstrap is not installed (apt-get install debootstrap)")
        tmp = root.with_name(root.name + ".tmp")
        if tmp.exists():
            proc_dir = tmp / "proc"
            if os.path.ismount(proc_dir):
                _run(["umount", str(proc_dir)], "unmounting a stale /proc")
            shutil.rmtree(tmp)
        progress(f"debootstrap bullseye into {root} (about 1 minute)")
        argv = [
            "debootstrap",
            "--variant=minbase",
            f"--include={ROOT_PACKAGES}",
            "bullseye",
            str(tmp),
            mirror,
        ]
        _run(argv, "debootstrap")
        tmp.rename(root)
    else:
        progress(f"bullseye root present at {root}")
    ca = next((Path(p) for p in HOST_CA_CANDIDATES if Path(p).is_file()), None)
    if ca is None:
        raise RasaEnvError("no CA bundle on the host (install ca-certificates)")
    shutil.copyfile(ca, root / CHROOT_CA.lstrip("/"))
    base = ["chroot", str(root), "env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", f"PIP_CERT={CHROOT_CA}"]
    with root_claim(root, env.lock_file):
        if not (root / CHROOT_VENV.lstrip("/") / "bin" / "python").exists():
            progress("creating the venv /opt/rasa inside the root")
            _run([*base, "python3", "-m", "venv", CHROOT_VENV], "creating the Rasa venv")
        _install_rasa(env, [*base, f"{CHROOT_VENV}/bin/python"], progress)


def build_python(env: RasaEnv, progress: Progress = _noop) -> None:
    """Create a venv with Rasa from a host Python 3.9/3.10."""
    version = _python_version(env.python)
    if not ((3, 8) <= version <= (3, 10)):
        raise RasaEnvError(
            f"Rasa {RASA_VERSION} needs Python 3.8-3.10, {env.python} is {version[0]}.{version[1]}"
        )
    if not (env.host_venv / "bin" / "python").exists():
        progress(f"creating the venv {env.host_venv}")
        _run([env.python, "-m", "venv", str(env.host_venv)], "creating the Rasa venv")
    _install_rasa(env, [str(env.host_venv / "bin" / "python")], progress)


def _install_rasa(env: RasaEnv, python: list[str], progress: Progress) -> None:
    if env.installed:
        progress(f"rasa present in {env.host_venv}")
        return
    progress(f"pip install rasa=={RASA_VERSION} (about 1 minute, 2.7 GB)")
    _run([*python, "-m", "pip", "install", "-q", "--upgrade", "pip"], "upgrading pip")
    _run([*python, "-m", "pip", "install", "-q", f"rasa=={RASA_VERSION}"], "pip install rasa")
    if not env.installed:
        raise RasaEnvError("pip finished but the rasa command is missing")


def setup(data_dir: Path, python: str = "", progress: Progress = _noop) -> RasaEnv:
    """Build (or re-use) the Rasa environment and record it; ``python`` selects the host-Python kind."""
    env = RasaEnv(kind="python", data_dir=data_dir, python=python) if python else RasaEnv("chroot", data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if env.kind == "python":
        build_python(env, progress)
    else:
        build_chroot(env, progress)
    env.save()
    if not env.installed:
        raise RasaEnvError("Rasa environment not installed; run `hotline nlu setup` first")
    return env
