"""``hotline up --detach`` / ``hotline down`` and a foreground ``hotline up`` stopped by SIGTERM, run as
real subprocesses against the cached Asterisk root, plus the operators and secrets commands."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from pbx.install import AsteriskLayout
from tests.asterisk import CACHE_ROOT, ensure_root, free_port, free_port_pair
from ticketing.db import migrate

pytestmark = pytest.mark.asterisk
HOTLINE = str(Path(sys.executable).with_name("hotline"))


def env_for(data_dir: Path, instance: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        {
            "HOTLINE_CONFIG": str(data_dir / "absent.toml"),
            "HOTLINE_DATA_DIR": str(data_dir),
            "HOTLINE_DATABASE__URL": f"sqlite:///{data_dir / 'hotline.db'}",
            "HOTLINE_PBX__ASTERISK_ROOT": str(CACHE_ROOT),
            "HOTLINE_PBX__INSTANCE": instance,
            "HOTLINE_PBX__SIP_PORT": str(free_port_pair()),
            "HOTLINE_PBX__HTTP_PORT": str(free_port()),
            "HOTLINE_PBX__AMI_PORT": str(free_port()),
            "HOTLINE_PBX__AUDIOSOCKET_PORT": str(free_port()),
            "HOTLINE_PBX__RTP_PORT_START": "41000",
            "HOTLINE_PBX__RTP_PORT_END": "41199",
            "HOTLINE_WEB__PORT": str(free_port()),
        }
    )
    return env


def hotline(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HOTLINE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=env["HOTLINE_DATA_DIR"],
    )


def status(env: dict[str, str]) -> dict[str, object]:
    result = hotline(env, "pbx", "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, str]:
    ensure_root(tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    migrate.upgrade(f"sqlite:///{data_dir / 'hotline.db'}")
    env = env_for(data_dir, f"u{os.getpid()}{tmp_path.name[-6:].replace('_', '')}")
    yield env
    hotline(env, "down")
    lay = AsteriskLayout("chroot", CACHE_ROOT, env["HOTLINE_PBX__INSTANCE"], data_dir)
    for directory in lay.state_dirs():  # this test's instance dirs inside the shared root
        shutil.rmtree(lay.to_host(directory), ignore_errors=True)


def test_up_detach_then_down(fresh: dict[str, str]) -> None:
    env = fresh
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    up = hotline(env, "up", "--detach")
    assert up.returncode == 0, up.stdout + up.stderr
    # the unauthenticated development trunk is on (environment = development): said loudly
    assert "WARNING" in up.stderr and "the development trunk is ON" in up.stderr, up.stderr
    # No secrets were configured: `up` generated them into a private file the settings loader reads.
    secrets_file = data_dir / "secrets.toml"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    pbx = tomllib.loads(secrets_file.read_text())["pbx"]
    assert len(pbx["ari_password"]) >= 24 and pbx["ari_password"] != pbx["ami_password"]
    assert status(env)["running"] is True
    assert (data_dir / "run" / "asterisk.pid").is_file()
    assert "app: started" in up.stdout, up.stdout
    assert (data_dir / "run" / "app.pid").is_file()
    # `up` returns once the app has registered with Asterisk: the very next call reaches the AI operator.
    assert "app: taking calls" in up.stdout, up.stdout
    # the staff portal is up too, on loopback at web.port, with its generated session key
    assert "web: started" in up.stdout, up.stdout
    login_url = f"http://127.0.0.1:{env['HOTLINE_WEB__PORT']}/login"
    deadline = time.monotonic() + 30
    while True:
        try:
            assert httpx.get(login_url, timeout=2).status_code == 200
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the portal never answered"
            time.sleep(0.3)
    assert (data_dir / "secrets" / "web_session_key").stat().st_mode & 0o777 == 0o600
    again = hotline(env, "up", "--detach")  # idempotent
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    down = hotline(env, "down")
    assert down.returncode == 0, down.stderr
    assert "Asterisk: stopped" in down.stdout
    assert status(env)["running"] is False
    assert not (data_dir / "run" / "app.pid").exists()
    assert not (data_dir / "run" / "web.pid").exists()
    assert not (data_dir / "run" / "asterisk.pid").exists()


def test_foreground_up_stops_everything_on_sigterm(fresh: dict[str, str]) -> None:
    env = fresh
    data_dir = Path(env["HOTLINE_DATA_DIR"])
    proc = subprocess.Popen(
        [HOTLINE, "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=data_dir
    )
    nlu: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 120
        while (
            not (data_dir / "run" / "up.pid").exists() and proc.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert status(env)["running"] is True
        # an NLU server recorded as running (a stand-in process group: the real server's stop and its
        # root mounts are covered in test_rasa_root_mounts.py)
        nlu = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
        (data_dir / "run" / "rasa.pid").write_text(f"{nlu.pid}\n", encoding="utf-8")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
        nlu.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if nlu is not None and nlu.poll() is None:
            nlu.kill()
    assert proc.returncode == 0, out
    assert "hotline stopped" in out
    assert "nlu: stopped" in out  # stopped with the rest, as `hotline down` does
    assert not (data_dir / "run" / "rasa.pid").exists()
    assert status(env)["running"] is False
    assert not (data_dir / "run" / "up.pid").exists()


def test_operators_add_list_remove_and_reload(fresh: dict[str, str]) -> None:
    env = fresh
    assert hotline(env, "pbx", "secrets").returncode == 0
    assert hotline(env, "pbx", "start").returncode == 0
    added = hotline(env, "operators", "add", "op1001", "--display", "Nguyễn Thị Lan")
    assert added.returncode == 0, added.stderr
    password = next(line.split()[-1] for line in added.stdout.splitlines() if "password:" in line)
    assert len(password) >= 20
    listed = json.loads(hotline(env, "operators", "list", "--json").stdout)
    assert [o["name"] for o in listed] == ["op1001"]
    assert password not in hotline(env, "operators", "list").stdout
    endpoints = {e["name"] for e in status(env)["endpoints"]}  # type: ignore[index, union-attr]
    assert "op1001" in endpoints  # reloaded into the running Asterisk
    duplicate = hotline(env, "operators", "add", "op1001")
    assert duplicate.returncode == 1 and duplicate.stderr.startswith("Lỗi / Error:")
    assert "Traceback" not in duplicate.stderr
    bad = hotline(env, "operators", "add", "Op 1\n[x]")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert hotline(env, "operators", "remove", "op1001").returncode == 0
    endpoints = {e["name"] for e in status(env)["endpoints"]}  # type: ignore[index, union-attr]
    assert "op1001" not in endpoints
    assert hotline(env, "pbx", "stop").returncode == 0


def test_render_refuses_a_placeholder_secret_in_one_line(fresh: dict[str, str]) -> None:
    env = {**fresh, "HOTLINE_PBX__ARI_PASSWORD": "changeme", "HOTLINE_PBX__AMI_PASSWORD": "x" * 20}
    result = hotline(env, "pbx", "render")
    assert result.returncode == 1
    assert result.stderr.startswith("Lỗi / Error:") and "placeholder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    newline = {**fresh, "HOTLINE_PBX__APP_NAME": "hotline\n[evil]", "HOTLINE_PBX__ARI_PASSWORD": "y" * 20}
    newline["HOTLINE_PBX__AMI_PASSWORD"] = "x" * 20
    result = hotline(newline, "pbx", "render")
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_down_then_up_at_once(fresh: dict[str, str]) -> None:
    """An operator restarting after a config change: `down` then `up --detach` without waiting."""
    import socket

    env = fresh
    http_port = int(env["HOTLINE_PBX__HTTP_PORT"])
    up = hotline(env, "up", "--detach")
    assert up.returncode == 0, up.stdout + up.stderr
    # A client connected to ARI's HTTP port while Asterisk stops (as a console or the app may be):
    # Asterisk closes first, so its end of the connection is left in TIME_WAIT on the port.
    client = socket.create_connection(("127.0.0.1", http_port), timeout=30)
    client.sendall(b"GET /ari/asterisk/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
    down = hotline(env, "down")
    assert down.returncode == 0, down.stderr
    with client:
        while client.recv(4096):
            pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain:  # TIME_WAIT is left on the port
        try:
            plain.bind(("127.0.0.1", http_port))
            left_in_time_wait = False
        except OSError:
            left_in_time_wait = True
    assert left_in_time_wait, "the stopped Asterisk left no TIME_WAIT socket: the test proves nothing"
    again = hotline(env, "up", "--detach")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "app: taking calls" in again.stdout, again.stdout
    assert status(env)["running"] is True
