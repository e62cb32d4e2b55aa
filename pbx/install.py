"""Installing Asterisk: a system Asterisk >= 20 on PATH, else a Debian sid root built by debootstrap.

Debian 12 ships no Asterisk; Debian unstable does, with every module the hotline needs. Installing it
with apt on the host would upgrade libc, so the fallback is a separate root (``debootstrap --variant=minbase
--include=asterisk,asterisk-modules sid``) in which Asterisk runs via ``chroot``. A marker file written
after a successful build makes :func:`install` idempotent; a root without the marker is a partial build
and is removed (after unmounting anything left mounted inside it) and built again.

:class:`AsteriskLayout` describes where one Asterisk instance keeps its files, both as Asterisk sees
them and as the host sees them (recordings are host files for the rest of the product).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from config.settings import Settings

MIN_VERSION = 20
MARKER = ".hotline-installed"
SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-modules")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
MODULE_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
INSTANCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

Progress = Callable[[str], None]


class InstallError(RuntimeError):
    """Asterisk could not be found or installed; the message says what to do."""


@dataclass(frozen=True)
class AsteriskLayout:
    """Where one Asterisk instance lives.

    ``kind`` is ``"chroot"`` (the sid root; Asterisk paths are inside ``root``) or ``"system"``
    (a host Asterisk run with ``-C``; its writable dirs are under the data directory).
    """

    kind: Literal["chroot", "system"]
    root: Path  # the chroot, or "/" for a system Asterisk
    instance: str
    host_state_dir: Path  # system only: where etc/run/spool/log/db live on the host
    binary: str = "asterisk"

    # Paths as Asterisk sees them.
    @property
    def etc_dir(self) -> str:
        if self.kind == "system":
            return str(self.host_state_dir / "etc")
        return f"/etc/asterisk-{self.instance}"

    def _state(self, name: str, chroot_path: str) -> str:
        return str(self.host_state_dir / name) if self.kind == "system" else chroot_path

    @property
    def run_dir(self) -> str:
        return self._state("run", f"/run/asterisk-{self.instance}")

    @property
    def spool_dir(self) -> str:
        return self._state("spool", f"/var/spool/asterisk-{self.instance}")

    @property
    def log_dir(self) -> str:
        return self._state("log", f"/var/log/asterisk-{self.instance}")

    @property
    def db_dir(self) -> str:
        return self._state("db", f"/var/lib/asterisk-{self.instance}")

    @property
    def cache_dir(self) -> str:
        return self._state("cache", f"/var/cache/asterisk-{self.instance}")

    @property
    def recordings_dir(self) -> str:
        """Where MixMonitor writes whole-call recordings (Asterisk's view)."""
        return f"{self.spool_dir}/monitor/hotline"

    @property
    def config_file(self) -> str:
        return f"{self.etc_dir}/asterisk.conf"

    @property
    def module_dir(self) -> str:
        return MODULE_DIR if self.kind == "chroot" else system_module_dir(self.binary)

    def to_host(self, asterisk_path: str) -> Path:
        """The host path of a file Asterisk names (e.g. a recording)."""
        if self.kind == "system":
            return Path(asterisk_path)
        return self.root / asterisk_path.lstrip("/")

    def state_dirs(self) -> list[str]:
        return [self.etc_dir, self.run_dir, self.spool_dir, self.log_dir, self.db_dir, self.cache_dir]

    def command(self, *args: str) -> list[str]:
        """argv running this instance's ``asterisk`` with its own config file."""
        if self.kind == "chroot":
            return ["chroot", str(self.root), "asterisk", "-C", self.config_file, *args]
        return [self.binary, "-C", self.config_file, *args]


def root_path(settings: Settings) -> Path:
    if settings.pbx.asterisk_root:
        return Path(settings.pbx.asterisk_root).resolve()
    return (settings.data_dir / "asterisk-root").resolve()


def system_asterisk() -> tuple[str, str] | None:
    """``(binary, version)`` of an Asterisk >= 20 on PATH, or None."""
    binary = shutil.which("asterisk")
    if binary is None:
        return None
    try:
        out = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = parse_version(out)
    if version is None or not supports_password_digest(version):
        return None
    return binary, version


def supports_password_digest(version: str) -> bool:
    """PJSIP ``password_digest`` (how operator credentials are rendered) needs 20.12, 21.7 or 22.2+."""
    parts = [int(p) for p in version.split(".")[:2]] + [0]
    major, minor = parts[0], parts[1]
    needed = {20: 12, 21: 7, 22: 2}
    if major < MIN_VERSION:
        return False
    return minor >= needed.get(major, 0)


def parse_version(text: str) -> str | None:
    """``"22.10.1"`` from ``asterisk -V`` output such as ``Asterisk 22.10.1+dfsg-1``."""
    match = re.search(r"Asterisk\s+(?:certified[/-])?(\d+(?:\.\d+)*)", text)
    return match.group(1) if match else None


def system_module_dir(binary: str) -> str:
    for candidate in (MODULE_DIR, "/usr/lib/asterisk/modules", "/usr/lib64/asterisk/modules"):
        if Path(candidate).is_dir():
            return candidate
    return MODULE_DIR


def layout(settings: Settings) -> AsteriskLayout:
    """The layout of the configured instance; does not install anything."""
    instance = settings.pbx.instance
    if not INSTANCE_RE.match(instance):
        raise InstallError(f"pbx.instance {instance!r} must be lowercase letters, digits, '-' or '_'")
    state = (settings.data_dir / f"asterisk-{instance}").resolve()
    root = root_path(settings)
    if is_installed(root):
        return AsteriskLayout("chroot", root, instance, state)
    found = system_asterisk()
    if found is not None:
        return AsteriskLayout("system", Path("/"), instance, state, binary=found[0])
    return AsteriskLayout("chroot", root, instance, state)


def is_installed(root: Path) -> bool:
    return (root / MARKER).is_file() and (root / "usr/sbin/asterisk").is_file()


def apt_mirror() -> str:
    """The Debian archive URL configured on this machine (deb822 or one-line sources)."""
    files: list[Path] = []
    for source in APT_SOURCES:
        if source.is_dir():
            files.extend(sorted(source.glob("*.sources")) + sorted(source.glob("*.list")))
        elif source.is_file():
            files.append(source)
    for file in files:
        try:
            text = file.read_text("utf-8", errors="replace")
        except OSError:
            continue
        for match in re.finditer(r"(?m)^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text):
            uri = match.group(1).rstrip("/")
            if uri.startswith(("http://", "https://")) and "security" not in uri:
                return uri
    return DEFAULT_MIRROR


def mounts_under(root: Path) -> list[Path]:
    """Mount points at or below ``root``, deepest first."""
    found: list[Path] = []
    prefix = str(root.resolve()).rstrip("/") + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            point = line.split()[1].replace("\\040", " ")
            if point.startswith(prefix):
                found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def unmount_all(root: Path) -> None:
    """Unmount everything below ``root``; refuse to go on if anything stays mounted."""
    for point in mounts_under(root):
        subprocess.run(["umount", str(point)], capture_output=True, check=False)
    for point in mounts_under(root):
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
    left = mounts_under(root)
    if left:
        raise InstallError(f"cannot unmount {left[0]}; stop Asterisk (hotline pbx stop) first")


@contextlib.contextmanager
def root_lock(root: Path) -> Iterator[None]:
    """Serialise installs of one root across processes (parallel test sessions share the cache)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_archive(mirror: str, timeout: float = 15.0) -> None:
    url = f"{mirror}/dists/{SUITE}/Release"
    try:
        response = httpx.head(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise InstallError(f"the Debian archive {mirror} is unreachable ({exc.__class__.__name__})") from exc
    if response.status_code >= 400:
        raise InstallError(f"the Debian archive {mirror} has no {SUITE} suite (HTTP {response.status_code})")


def install(settings: Settings, progress: Progress = print, *, prefer_system: bool = True) -> AsteriskLayout:
    """Make an Asterisk available and return the layout to run it with. Idempotent."""
    root = root_path(settings)
    if is_installed(root):
        progress(f"Asterisk root already installed at {root}")
        return layout(settings)
    if prefer_system:
        found = system_asterisk()
        if found is not None:
            progress(f"using the system Asterisk {found[1]} ({found[0]})")
            return layout(settings)
    build_root(root, settings.pbx.debian_mirror or apt_mirror(), progress)
    return layout(settings)


def build_root(root: Path, mirror: str, progress: Progress) -> None:
    """debootstrap a sid root with Asterisk into ``root``, replacing a partial one."""
    if os.geteuid() != 0:
        raise InstallError("building the Asterisk root needs root (debootstrap, chroot); run with sudo")
    debootstrap = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if Path(p).is_file()), None
    )
    if debootstrap is None:
        raise InstallError("debootstrap is not installed; run: apt-get install debootstrap")
    with root_lock(root):
        if is_installed(root):
            progress(f"Asterisk root already installed at {root}")
            return
        check_archive(mirror)
        if root.exists():
            progress(f"removing the partial root at {root}")
            unmount_all(root)
            shutil.rmtree(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        progress(f"building a Debian {SUITE} root with Asterisk at {root} from {mirror} (about a minute)")
        argv = [
            debootstrap,
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            mirror,
        ]
        errors = run_streaming(argv, progress)
        if errors is not None:
            raise InstallError(f"debootstrap failed: {errors}")
        out = subprocess.run(
            ["chroot", str(root), "asterisk", "-V"], capture_output=True, text=True, check=False
        ).stdout
        version = parse_version(out)
        if version is None or int(version.split(".")[0]) < MIN_VERSION:
            raise InstallError(f"the built root has no usable Asterisk ({out.strip() or 'no output'})")
        (root / MARKER).write_text(f"Asterisk {version} from Debian {SUITE} ({mirror})\n", encoding="utf-8")
        progress(f"installed Asterisk {version}")


def run_streaming(argv: list[str], progress: Progress) -> str | None:
    """Run ``argv``, passing ``I:``/``W:``/``E:`` lines to ``progress``; None on success, else the error."""
    last_error = ""
    tail: list[str] = []
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if not line:
                continue
            tail = [*tail[-4:], line]
            if line.startswith(("I:", "W:", "E:")):
                progress(line)
            if line.startswith("E:"):
                last_error = line[2:].strip()
        code = proc.wait()
    if code == 0:
        return None
    return last_error or (tail[-1] if tail else f"exit status {code}")
