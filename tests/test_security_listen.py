"""Every service ``hotline up --detach`` starts listens on loopback only: Asterisk's SIP, ARI/HTTP and
AMI, the app's AudioSocket server and the FastAGI server. Checked on the real processes through the
sockets they hold (/proc), with test ports and a private data directory; ``hotline down`` after.
Also: ARI refuses a wrong password and browser origins, AMI refuses a wrong secret, the data
directory's files written by a real run are owner-only, and the FastAGI/Rasa addresses must be
loopback."""

from __future__ import annotations

import os
import socket
import stat
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from agi.app import listen_address
from config.settings import PbxSettings, Settings, SettingsError
from nlu.rasa_server import RasaServerError, loopback_address
from tests.asterisk import free_port
from tests.test_up import fresh, hotline  # noqa: F401  (fixture)

LISTEN = "0A"  # TCP state in /proc/net/tcp


def _hex_addr(field: str) -> tuple[str, int]:
    host, port = field.split(":")
    if len(host) == 8:
        addr = socket.inet_ntop(socket.AF_INET, bytes.fromhex(host)[::-1])
    else:
        raw = bytes.fromhex(host)
        addr = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return addr, int(port, 16)


def _sockets_by_inode() -> dict[str, tuple[str, str, int]]:
    """inode -> (proto, local address, port) for TCP listeners and bound UDP sockets."""
    out: dict[str, tuple[str, str, int]] = {}
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            cols = line.split()
            if proto.startswith("tcp") and cols[3] != LISTEN:
                continue
            addr, port = _hex_addr(cols[1])
            out[cols[9]] = (proto, addr, port)
    return out


def _process_sockets(pid: int) -> list[tuple[str, str, int]]:
    table = _sockets_by_inode()
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inode = target[len("socket:[") : -1]
            if inode in table:
                found.append(table[inode])
    return found


def _pid(data_dir: Path, name: str) -> int | None:
    path = data_dir / "run" / f"{name}.pid"
    return int(path.read_text().strip()) if path.is_file() else None


def _wait_for_listener(pid: int, port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p == port for _, _, p in _process_sockets(pid)):
            return
        time.sleep(0.2)
    raise AssertionError(f"process {pid} never listened on port {port}")


@pytest.mark.asterisk
def test_up_listens_on_loopback_only_and_authenticates(fresh: dict[str, str]) -> None:  # noqa: F811
    env = fresh
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    agi_port = free_port()
    env["HOTLINE_PBX__FASTAGI_URL"] = f"agi://127.0.0.1:{agi_port}/dtmf"
    up = hotline(env, "up", "--detach")
    assert up.returncode == 0, up.stdout + up.stderr

    asterisk = _pid(data_dir, "asterisk")
    assert asterisk is not None
    expected = {
        int(env["HOTLINE_PBX__SIP_PORT"]),
        int(env["HOTLINE_PBX__HTTP_PORT"]),
        int(env["HOTLINE_PBX__AMI_PORT"]),
    }
    for port in expected:
        _wait_for_listener(asterisk, port)
    sockets = _process_sockets(asterisk)
    assert expected <= {port for _, _, port in sockets}
    # TCP listeners and the SIP socket are on loopback. (pjproject also holds two unconnected UDP
    # client sockets on ephemeral ports of the wildcard address: see docs/security.md.)
    tcp = [s for s in sockets if s[0].startswith("tcp")]
    assert tcp and {addr for _, addr, _ in tcp} == {"127.0.0.1"}, sockets
    sip = [s for s in sockets if s[2] == int(env["HOTLINE_PBX__SIP_PORT"])]
    assert sip and {addr for _, addr, _ in sip} == {"127.0.0.1"}, sockets
    assert not [s for s in sockets if s[1] != "127.0.0.1" and s[2] < 32768], sockets

    services = {
        "app": int(env["HOTLINE_PBX__AUDIOSOCKET_PORT"]),
        "agi": agi_port,
        "web": int(env["HOTLINE_WEB__PORT"]),
    }
    for name, port in services.items():
        pid = _pid(data_dir, name)
        assert pid is not None, f"{name} was not started: {up.stdout}"
        _wait_for_listener(pid, port)
        listeners = [s for s in _process_sockets(pid) if s[0].startswith("tcp")]
        assert listeners and {addr for _, addr, _ in listeners} == {"127.0.0.1"}, (name, listeners)

    # ARI: the generated password works, a wrong one does not; no browser origin is allowed.
    secret = tomllib.loads((data_dir / "secrets.toml").read_text())["pbx"]
    base = f"http://127.0.0.1:{env['HOTLINE_PBX__HTTP_PORT']}/ari/asterisk/info"
    with httpx.Client(timeout=5) as client:
        assert client.get(base, auth=("hotline", secret["ari_password"])).status_code == 200
        assert client.get(base, auth=("hotline", "wrong-password-123")).status_code == 401
        assert client.get(base).status_code == 401
        origin = client.get(
            base, auth=("hotline", secret["ari_password"]), headers={"Origin": "http://evil.example"}
        )
        assert origin.headers.get("Access-Control-Allow-Origin") is None

    # AMI: a wrong secret is refused.
    with socket.create_connection(("127.0.0.1", int(env["HOTLINE_PBX__AMI_PORT"])), timeout=5) as ami:
        ami.recv(200)
        ami.sendall(b"Action: Login\r\nUsername: hotline\r\nSecret: wrong-secret-123\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += ami.recv(500)
        assert b"Response: Error" in reply

    # Files written by the running services are owner-only.
    secrets = data_dir / "secrets"
    for path in [
        data_dir / "log",
        *(data_dir / "log").iterdir(),
        data_dir / "secrets.toml",
        secrets,
        *secrets.iterdir(),
    ]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path

    down = hotline(env, "down")
    assert down.returncode == 0, down.stderr


def test_fastagi_must_listen_on_loopback() -> None:
    assert listen_address(Settings(pbx=PbxSettings(fastagi_url="agi://127.0.0.1:4573/dtmf"))) == (
        "127.0.0.1",
        4573,
    )
    for host in ("0.0.0.0", "10.0.0.5", "agi.example.vn"):
        with pytest.raises(SettingsError):
            listen_address(Settings(pbx=PbxSettings(fastagi_url=f"agi://{host}:4573/dtmf")))


def test_rasa_must_listen_on_loopback() -> None:
    assert loopback_address("http://127.0.0.1:5005") == ("127.0.0.1", 5005)
    for url in ("http://0.0.0.0:5005", "http://10.0.0.5:5005"):
        with pytest.raises(RasaServerError):
            loopback_address(url)


def test_socket_table_reads_a_listener_of_this_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert ("tcp", "127.0.0.1", port) in _process_sockets(os.getpid())
