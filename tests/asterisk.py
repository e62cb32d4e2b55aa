"""Pytest fixtures for a real Asterisk (registered in conftest.py via ``pytest_plugins``).

The Asterisk root is installed once and cached in ``var/asterisk-root`` of the repository (or
``$HOTLINE_TEST_ASTERISK_ROOT``); installing is serialised by a file lock so parallel sessions share
it. Each session then runs its own instance in that root, with free ports and its own etc/run/spool
dirs, so it never clashes with a development instance or another test session.

If Asterisk cannot be installed or started, the tests that use these fixtures FAIL: the real PBX is
part of the test environment.

Fixtures:
- ``asterisk`` (session): a running :class:`AsteriskInstance` with one test operator, the dev trunk
  (calls from 127.0.0.1), and a FastAGI fallback URL on ``agi_port`` (nothing listens there unless a
  test starts a FastAGI server on it).
- ``asterisk_factory`` (function): builds and starts extra instances; stopped after the test.

Helpers: :func:`sipp_call` places SIPp calls against an instance.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config.settings import PbxSettings, Settings
from pbx.install import AsteriskLayout, InstallError, install
from pbx.process import AsteriskProcess, PbxError
from pbx.render import render_to_disk, rendered_dir
from ticketing.operators import OperatorEndpoint, new_endpoint

REPO = Path(__file__).resolve().parents[1]
CACHE_ROOT = Path(os.environ.get("HOTLINE_TEST_ASTERISK_ROOT", REPO / "var" / "asterisk-root"))
SIPP_PCAPS = Path("/usr/share/sip-tester")


def free_port(kind: int = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_port_pair() -> int:
    """A port free for both UDP and TCP."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


def random_secret() -> str:
    return f"t{random.getrandbits(128):032x}"


@dataclass
class AsteriskInstance:
    """A running test Asterisk and everything a test needs to talk to it."""

    settings: Settings
    layout: AsteriskLayout
    process: AsteriskProcess
    agi_port: int
    operators: dict[str, str] = field(default_factory=dict)  # name -> plain SIP password
    endpoints: list[OperatorEndpoint] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def pbx(self) -> PbxSettings:
        return self.settings.pbx

    @property
    def sip_port(self) -> int:
        return self.pbx.sip_port

    @property
    def http_port(self) -> int:
        return self.pbx.http_port

    @property
    def ami_port(self) -> int:
        return self.pbx.ami_port

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.pbx.http_port}/ari"

    @property
    def ari_ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.pbx.http_port}/ari/events?app={self.pbx.app_name}"

    @property
    def ari_auth(self) -> tuple[str, str]:
        return (self.pbx.ari_user, self.pbx.ari_password)

    @property
    def ami_auth(self) -> tuple[str, str]:
        return (self.pbx.ami_user, self.pbx.ami_password)

    @property
    def recordings_dir(self) -> Path:
        return self.layout.to_host(self.layout.recordings_dir)

    def host_path(self, asterisk_path: str) -> Path:
        return self.layout.to_host(asterisk_path)

    def cli(self, command: str, timeout: float = 30) -> str:
        return self.process.cli(command, timeout=timeout)

    def recordings(self) -> list[Path]:
        if not self.recordings_dir.is_dir():
            return []
        return sorted(self.recordings_dir.rglob("*.wav"), key=lambda p: p.stat().st_mtime)

    def render(
        self, endpoints: list[OperatorEndpoint] | None = None, settings: Settings | None = None
    ) -> None:
        if settings is not None:
            self.settings = settings
        if endpoints is not None:
            self.endpoints = endpoints
        render_to_disk(self.settings, self.layout, self.endpoints)

    def reload(self) -> str:
        self.render()
        return self.process.reload(rendered_dir(self.layout))

    def start(self) -> int:
        self.render()
        ports = {
            "sip": ("127.0.0.1", self.pbx.sip_port, "udp"),
            "http": ("127.0.0.1", self.pbx.http_port, "tcp"),
            "ami": ("127.0.0.1", self.pbx.ami_port, "tcp"),
        }
        return self.process.start(rendered_dir(self.layout), ports)

    def stop(self) -> bool:
        return self.process.stop()

    def remove_state(self) -> None:
        """Delete this instance's dirs inside the shared root (call after stop)."""
        for directory in self.layout.state_dirs():
            shutil.rmtree(self.layout.to_host(directory), ignore_errors=True)
        shutil.rmtree(self.layout.host_state_dir, ignore_errors=True)


def ensure_root(data_dir: Path) -> Path:
    """Install (or reuse) the cached Asterisk root; FAIL the test on any problem."""
    settings = Settings(data_dir=data_dir, pbx=PbxSettings(asterisk_root=str(CACHE_ROOT)))
    try:
        lay = install(settings, progress=lambda msg: print(f"[asterisk install] {msg}"), prefer_system=False)
    except InstallError as exc:
        pytest.fail(f"cannot install Asterisk for the tests: {exc}")
    return lay.root


def instance_settings(data_dir: Path, instance: str, **pbx_overrides: object) -> Settings:
    rtp_base = 20000 + random.randrange(0, 150) * 200
    pbx: dict[str, object] = {
        "asterisk_root": str(CACHE_ROOT),
        "instance": instance,
        "bind_host": "127.0.0.1",
        "sip_port": free_port_pair(),
        "http_port": free_port(),
        "ami_port": free_port(),
        "rtp_port_start": rtp_base,
        "rtp_port_end": rtp_base + 199,
        "ari_password": random_secret(),
        "ami_password": random_secret(),
        "app_name": "hotline",
        "hotline_number": "1022",
    }
    pbx.update(pbx_overrides)
    return Settings(
        data_dir=data_dir,
        environment="development",
        database={"url": f"sqlite:///{data_dir / 'hotline.db'}"},  # type: ignore[arg-type]
        pbx=PbxSettings(**pbx),  # type: ignore[arg-type]
    )


def make_instance(
    data_dir: Path, instance: str, operators: tuple[str, ...] = ("optest",)
) -> AsteriskInstance:
    root = ensure_root(data_dir)
    agi_port = free_port()
    settings = instance_settings(data_dir, instance, fastagi_url=f"agi://127.0.0.1:{agi_port}/dtmf")
    lay = AsteriskLayout("chroot", root, instance, (data_dir / f"asterisk-{instance}").resolve())
    inst = AsteriskInstance(settings, lay, AsteriskProcess(lay), agi_port)
    for name in operators:
        endpoint, password = new_endpoint(name, f"Tổng đài viên {name}")
        inst.operators[name] = password
        inst.endpoints.append(endpoint)
    try:
        inst.start()
    except PbxError as exc:
        inst.stop()
        pytest.fail(f"cannot start the test Asterisk: {exc}")
    return inst


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskInstance]:
    data_dir = tmp_path_factory.mktemp("asterisk")
    inst = make_instance(data_dir, f"t{os.getpid()}")
    try:
        yield inst
    finally:
        inst.stop()
        inst.remove_state()


@pytest.fixture
def asterisk_factory(tmp_path: Path) -> Iterator[Callable[[str], AsteriskInstance]]:
    made: list[AsteriskInstance] = []

    def factory(suffix: str) -> AsteriskInstance:
        inst = make_instance(tmp_path / suffix, f"t{os.getpid()}{suffix}")
        made.append(inst)
        return inst

    try:
        yield factory
    finally:
        for inst in made:
            inst.stop()
            inst.remove_state()


def sipp_workdir(directory: Path) -> Path:
    """A directory with ``pcap/`` holding SIPp's sample pcaps (uac_pcap plays pcap/g711a.pcap)."""
    pcap = directory / "pcap"
    pcap.mkdir(parents=True, exist_ok=True)
    for src in SIPP_PCAPS.glob("*.pcap"):
        if not (pcap / src.name).exists():
            shutil.copy(src, pcap / src.name)
    return directory


def sipp_argv(
    inst: AsteriskInstance,
    workdir: Path,
    *,
    number: str = "1022",
    scenario: list[str] | None = None,
    source_ip: str = "127.0.0.1",
    calls: int = 1,
    extra: list[str] | None = None,
) -> list[str]:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.fail("sipp is not installed (apt-get install sip-tester; scripts/setup.sh installs it)")
    return [
        sipp,
        *(scenario or ["-sn", "uac_pcap"]),
        "-s",
        number,
        f"127.0.0.1:{inst.sip_port}",
        "-i",
        source_ip,
        "-p",
        str(free_port(socket.SOCK_DGRAM, source_ip)),
        "-mp",
        str(free_port(socket.SOCK_DGRAM, source_ip)),
        "-m",
        str(calls),
        "-nostdin",
        "-timeout",
        "60",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        str(workdir / "errors.log"),
        *(extra or []),
    ]


def sipp_call(
    inst: AsteriskInstance, workdir: Path, *, background: bool = False, **kwargs: object
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    """Place SIPp call(s) from ``workdir`` (pcap/ is prepared there); waits unless ``background``."""
    sipp_workdir(workdir)
    argv = sipp_argv(inst, workdir, **kwargs)  # type: ignore[arg-type]
    if background:
        return subprocess.Popen(
            argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
    return subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, errors="replace", timeout=120, check=False
    )
