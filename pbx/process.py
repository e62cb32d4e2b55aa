"""Starting, stopping, reloading and querying one Asterisk instance (chroot root or system binary).

For the chroot, ``proc`` is mounted on ROOT/proc and the host's /dev bound on ROOT/dev before start,
and unmounted after the last instance using the root stops. Asterisk runs as root without ``-U/-G``
(with a run-user it keeps only CAP_NET_ADMIN and cannot read its own config). The rendered config is
copied into the instance's etc dir inside the root; every CLI command goes through
``asterisk -C <instance asterisk.conf> -rx`` so that it reaches the right control socket.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from config.private_files import open_private_binary
from pbx.fallback_calls import JOURNAL_NAME as FALLBACK_JOURNAL
from pbx.install import AsteriskLayout, mounts_under

Progress = Callable[[str], None]
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class PbxError(RuntimeError):
    """Asterisk could not be started, stopped or reached; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    state: str
    channels: str


@dataclass
class PbxStatus:
    running: bool
    pid: int | None = None
    uptime: str = ""
    version: str = ""
    endpoints: list[Endpoint] = field(default_factory=list)
    queues: str = ""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"asterisk" in cmdline


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def port_in_use(host: str, port: int, kind: int) -> bool:
    """Whether ``host:port`` is taken, probed the way Asterisk binds its listeners.

    Asterisk's TCP listeners (HTTP/ARI, AMI, SIP over TCP) bind with ``SO_REUSEADDR``, so the TIME_WAIT
    sockets a stopped Asterisk leaves behind do not keep it from starting again; the probe must set it
    too, or a restart right after a stop is refused for a minute. A live listener still refuses the bind.
    UDP is probed without it (there ``SO_REUSEADDR`` could share a port another socket also opted into).
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class AsteriskProcess:
    """One Asterisk instance described by an :class:`AsteriskLayout`."""

    def __init__(self, layout: AsteriskLayout, progress: Progress | None = None) -> None:
        self.layout = layout
        self.progress = progress or (lambda _msg: None)
        self._log_offsets: dict[Path, int] = {}

    # Paths on the host.
    def host(self, asterisk_path: str) -> Path:
        return self.layout.to_host(asterisk_path)

    @property
    def pid_file(self) -> Path:
        return self.host(f"{self.layout.run_dir}/asterisk.pid")

    @property
    def etc_dir(self) -> Path:
        return self.host(self.layout.etc_dir)

    @property
    def messages_log(self) -> Path:
        return self.host(f"{self.layout.log_dir}/messages.log")

    @property
    def startup_log(self) -> Path:
        return self.host(f"{self.layout.log_dir}/startup.log")

    def pid(self) -> int | None:
        pid = read_pid(self.pid_file)
        return pid if pid is not None and pid_alive(pid) else None

    def cli(self, command: str, timeout: float = 30) -> str:
        """Run one CLI command on the running instance and return its output."""
        try:
            result = subprocess.run(
                self.layout.command("-rx", command),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PbxError(f"asterisk -rx {command!r} timed out after {timeout:.0f} s") from exc
        if result.returncode != 0 or "Unable to connect to remote asterisk" in result.stdout:
            raise PbxError(f"Asterisk is not reachable ({(result.stderr or result.stdout).strip()[:200]})")
        return ANSI_ESCAPE.sub("", result.stdout)

    def is_running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            self.cli("core show version", timeout=10)
        except PbxError:
            return False
        return True

    # Mounts (chroot only).
    def _mount_root(self) -> None:
        if self.layout.kind != "chroot":
            return
        root = self.layout.root
        for target, argv in (
            (root / "proc", ["mount", "-t", "proc", "proc", str(root / "proc")]),
            (root / "dev", ["mount", "--bind", "/dev", str(root / "dev")]),
        ):
            if os.path.ismount(target):
                continue
            target.mkdir(exist_ok=True)
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise PbxError(f"cannot mount {target}: {result.stderr.strip()}")

    def _other_instances_alive(self) -> bool:
        root = self.layout.root
        mine = self.pid_file.resolve()
        for pid_file in [*root.glob("run/asterisk-*/asterisk.pid"), root / "run/asterisk/asterisk.pid"]:
            if pid_file.resolve() == mine:
                continue
            pid = read_pid(pid_file)
            if pid is not None and pid_alive(pid):
                return True
        return False

    def _unmount_root(self) -> None:
        if self.layout.kind != "chroot" or self._other_instances_alive():
            return
        for point in mounts_under(self.layout.root):
            if point in (self.layout.root / "proc", self.layout.root / "dev"):
                subprocess.run(["umount", str(point)], capture_output=True, check=False)

    # Config.
    def install_config(self, rendered: Path) -> None:
        """Copy rendered ``*.conf`` files into the instance's etc dir (a no-op when they are the same)."""
        target = self.etc_dir
        if rendered.resolve() == target.resolve():
            return
        files = sorted(rendered.glob("*.conf"))
        if not files:
            raise PbxError(f"no rendered configuration in {rendered}; run: hotline pbx render")
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, 0o700)
        names = set()
        for src in files:
            names.add(src.name)
            dst = target / src.name
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
        for stale in target.iterdir():
            if stale.is_file() and stale.name not in names:
                stale.unlink()

    def _make_state_dirs(self) -> None:
        for directory in self.layout.state_dirs():
            path = self.host(directory)
            path.mkdir(parents=True, exist_ok=True)
            # An absolute symlink inside the root (e.g. /var/run -> /run) would lead out of it.
            if self.layout.kind == "chroot" and not path.resolve().is_relative_to(self.layout.root.resolve()):
                raise PbxError(f"{directory} leads out of the Asterisk root through a symlink")

    # Lifecycle.
    def start(self, rendered: Path, ports: dict[str, tuple[str, int, str]], timeout: float = 90) -> int:
        """Start the instance and wait until it is fully booted; return its pid.

        ``ports`` maps a setting name to ``(host, port, "udp"|"tcp")``; a port already taken is refused
        up front rather than leaving a half-working Asterisk.
        """
        running = self.pid()
        if running is not None and self.is_running():
            self.progress(f"Asterisk ({self.layout.instance}) is already running, pid {running}")
            return running
        for name, (host, port, proto) in ports.items():
            kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
            if port_in_use(host, port, kind):
                raise PbxError(f"{name}: {proto.upper()} port {host}:{port} is already in use")
        self._mount_root()
        self._make_state_dirs()
        self.install_config(rendered)
        self.pid_file.unlink(missing_ok=True)
        self._log_offsets = {log: log.stat().st_size if log.exists() else 0 for log in self._logs()}
        self.progress(f"starting Asterisk ({self.layout.kind}, instance {self.layout.instance})")
        # Asterisk appends to this journal with the umask it has; create it owner-only first.
        open_private_binary(self.host(f"{self.layout.log_dir}/{FALLBACK_JOURNAL}"), "ab").close()
        with open_private_binary(self.startup_log, "ab") as log:
            argv = self.layout.command()
            # Asterisk forks into the background; the foreground process returns at once.
            result = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=60, check=False
            )
        if result.returncode != 0:
            raise PbxError(f"asterisk exited with status {result.returncode}; see {self.startup_log}")
        return self._wait_booted(timeout)

    def _wait_booted(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        seen_pid = False
        while time.monotonic() < deadline:
            pid = self.pid()
            if pid is not None:
                seen_pid = True
                with contextlib.suppress(PbxError):
                    out = self.cli("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                    if "fully booted" in out.lower():
                        self.progress(f"Asterisk is up, pid {pid}")
                        return pid
            elif seen_pid or time.monotonic() > deadline - timeout + 10:
                break  # it started and died, or never wrote its pid file
            time.sleep(0.2)
        raise PbxError(f"Asterisk did not boot: {self.failure_reason()}")

    def _logs(self) -> tuple[Path, Path]:
        return (self.messages_log, self.startup_log)

    def failure_reason(self) -> str:
        """The most telling error line Asterisk logged since the last start."""
        for log in self._logs():
            try:
                with open(log, "rb") as handle:
                    handle.seek(self._log_offsets.get(log, 0))
                    lines = handle.read().decode("utf-8", errors="replace").splitlines()
            except OSError:
                continue
            recent = lines[-300:]
            module_errors = [ln for ln in recent if "Error loading module" in ln]
            if module_errors:
                return module_errors[0].strip()[:300]
            errors = [ln for ln in recent if re.search(r"ERROR|Unable|failed|Cannot", ln)]
            if errors:
                return errors[-1].strip()[:300]
        return f"no pid or control socket (see {self.messages_log})"

    def stop(self, timeout: float = 30) -> bool:
        """Stop the instance; True if it was running."""
        pid = self.pid()
        if pid is None:
            self._unmount_root()
            return False
        self.progress(f"stopping Asterisk ({self.layout.instance}), pid {pid}")
        with contextlib.suppress(PbxError):
            self.cli("core stop now", timeout=timeout)
        if not self._wait_exit(pid, timeout):
            os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, 10):
                os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 5)
        self.pid_file.unlink(missing_ok=True)
        self._unmount_root()
        return True

    @staticmethod
    def _wait_exit(pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return True
            time.sleep(0.1)
        return not pid_alive(pid)

    def reload(self, rendered: Path) -> str:
        """Install freshly rendered config and reload every module (endpoints, queues, dialplan)."""
        if not self.is_running():
            raise PbxError("Asterisk is not running; start it with: hotline pbx start")
        self.install_config(rendered)
        return self.cli("core reload")

    def status(self) -> PbxStatus:
        pid = self.pid()
        if pid is None or not self.is_running():
            return PbxStatus(running=False)
        return PbxStatus(
            running=True,
            pid=pid,
            uptime=self.cli("core show uptime").strip(),
            version=self.cli("core show version").strip(),
            endpoints=parse_endpoints(self.cli("pjsip show endpoints")),
            queues=self.cli("queue show").strip(),
        )


ENDPOINT_LINE = re.compile(r"^\s*Endpoint:\s+(\S+?)(?:/\S*)?\s+(\S.*?)\s+(\d+ of \S+)\s*$")


def parse_endpoints(text: str) -> list[Endpoint]:
    """Endpoints from ``pjsip show endpoints`` (the header line is skipped)."""
    out: list[Endpoint] = []
    for line in text.splitlines():
        match = ENDPOINT_LINE.match(line)
        if match and not match.group(1).startswith("<"):
            out.append(Endpoint(match.group(1), match.group(2).strip(), match.group(3)))
    return out
