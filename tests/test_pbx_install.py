"""Installing Asterisk: version parsing, the apt mirror, clear errors, idempotence on the real root."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PbxSettings, Settings
from pbx import install as inst
from pbx.install import AsteriskLayout, InstallError, apt_mirror, check_archive, parse_version
from pbx.render import OPTIONAL_MODULES, REQUIRED_MODULES, missing_modules
from tests.asterisk import CACHE_ROOT, ensure_root


def test_parse_version() -> None:
    assert parse_version("Asterisk 22.10.1+dfsg+~cs6.17.60671434-1") == "22.10.1"
    assert parse_version("Asterisk 20.5.0") == "20.5.0"
    assert parse_version("Asterisk certified/20.7-cert4") == "20.7"
    assert parse_version("bash: asterisk: command not found") is None


def test_a_system_asterisk_needs_password_digest_support() -> None:
    assert inst.supports_password_digest("22.10.1")
    assert inst.supports_password_digest("20.12.0")
    assert inst.supports_password_digest("23.0")
    assert not inst.supports_password_digest("20.5.0")
    assert not inst.supports_password_digest("18.20.0")


def test_apt_mirror_reads_deb822_and_one_line_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example.vn/debian/\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n"
    )
    monkeypatch.setattr(inst, "APT_SOURCES", (d,))
    assert apt_mirror() == "http://mirror.example.vn/debian"
    one_line = tmp_path / "sources.list"
    one_line.write_text("# comment\ndeb [arch=amd64] http://ftp.vn.debian.org/debian bookworm main\n")
    monkeypatch.setattr(inst, "APT_SOURCES", (tmp_path / "missing", one_line))
    assert apt_mirror() == "http://ftp.vn.debian.org/debian"
    monkeypatch.setattr(inst, "APT_SOURCES", (tmp_path / "missing",))
    assert apt_mirror() == inst.DEFAULT_MIRROR


def test_missing_debootstrap_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inst.shutil, "which", lambda _name: None)
    monkeypatch.setattr(inst, "system_asterisk", lambda: None)
    real_is_file = Path.is_file
    monkeypatch.setattr(Path, "is_file", lambda p: False if "debootstrap" in str(p) else real_is_file(p))
    settings = Settings(data_dir=tmp_path, pbx=PbxSettings(asterisk_root=str(tmp_path / "root")))
    with pytest.raises(InstallError, match="apt-get install debootstrap"):
        inst.install(settings, progress=lambda _m: None)
    assert not (tmp_path / "root").exists()


def test_an_unreachable_archive_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    with pytest.raises(InstallError, match="unreachable"):
        check_archive(f"http://127.0.0.1:{port}/debian", timeout=3)


def test_layout_paths_stay_inside_the_root(tmp_path: Path) -> None:
    lay = AsteriskLayout("chroot", tmp_path, "main", tmp_path / "state")
    assert lay.etc_dir == "/etc/asterisk-main"
    assert lay.run_dir == "/run/asterisk-main"  # not /var/run: a symlink to the host's /run
    assert (
        lay.to_host("/var/spool/asterisk-main/monitor/x.wav")
        == tmp_path / "var/spool/asterisk-main/monitor/x.wav"
    )
    assert lay.command("-rx", "core show version")[:5] == [
        "chroot",
        str(tmp_path),
        "asterisk",
        "-C",
        "/etc/asterisk-main/asterisk.conf",
    ]
    system = AsteriskLayout("system", Path("/"), "main", tmp_path / "state", binary="/usr/sbin/asterisk")
    assert system.etc_dir == str(tmp_path / "state/etc")
    assert system.to_host(system.recordings_dir) == tmp_path / "state/spool/monitor/hotline"


def test_a_bad_instance_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstallError):
        inst.layout(Settings(data_dir=tmp_path, pbx=PbxSettings(instance="../etc")))


@pytest.mark.asterisk
def test_install_is_idempotent_and_the_root_has_every_module(tmp_path: Path) -> None:
    root = ensure_root(tmp_path)
    assert root == CACHE_ROOT.resolve()
    assert (root / inst.MARKER).read_text().startswith("Asterisk 2")
    messages: list[str] = []
    settings = Settings(data_dir=tmp_path, pbx=PbxSettings(asterisk_root=str(root)))
    marker_before = (root / inst.MARKER).stat().st_mtime_ns
    lay = inst.install(settings, progress=messages.append, prefer_system=False)
    assert (root / inst.MARKER).stat().st_mtime_ns == marker_before  # not rebuilt
    assert lay.kind == "chroot" and lay.root == root
    assert any("already installed" in m for m in messages)
    assert missing_modules(root / inst.MODULE_DIR.lstrip("/"), REQUIRED_MODULES + OPTIONAL_MODULES) == []
    out = subprocess.run(["chroot", str(root), "asterisk", "-V"], capture_output=True, text=True, check=True)
    version = parse_version(out.stdout)
    assert version is not None and int(version.split(".")[0]) >= inst.MIN_VERSION


@pytest.mark.asterisk
def test_hotline_pbx_install_cli_reuses_the_root(tmp_path: Path) -> None:
    ensure_root(tmp_path)
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_PBX__ASTERISK_ROOT": str(CACHE_ROOT),
        "HOTLINE_CONFIG": str(tmp_path / "none.toml"),
    }
    hotline = Path(sys.executable).with_name("hotline")
    result = subprocess.run(
        [str(hotline), "pbx", "install"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout
    assert "Asterisk ready (chroot" in result.stdout
