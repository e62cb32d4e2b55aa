"""``hotline service install``: systemd units rendered from ops/units/*.j2 (StrictUndefined) for the
private Asterisk root and for a distribution's Asterisk package, with restart policies and ordering;
the written files pass ``systemd-analyze verify``."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from cli import main
from config.settings import get_settings
from ops import systemd

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def values(
    kind: str = "chroot", database_unit: str = "", data_dir: str = "/srv/hotline/var"
) -> systemd.UnitValues:
    return systemd.UnitValues(
        hotline="/opt/hotline/.venv/bin/hotline",
        user="hotline",
        data_dir=data_dir,
        workdir="/srv/hotline",
        config_file="/srv/hotline/hotline.toml",
        docs="/opt/hotline/docs",
        rasa_url="http://127.0.0.1:5005",
        database_unit=database_unit,
        asterisk=systemd.AsteriskUnit(kind, "main", "/usr/sbin/asterisk", f"{data_dir}/asterisk-root"),
    )


def parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_every_part_has_a_unit_with_a_restart_policy_and_the_target() -> None:
    units = systemd.render(values())
    assert set(units) == {f"{n}.service" for n in systemd.SERVICES} | {"hotline.target"}
    for name in systemd.SERVICES:
        unit = parse(units[f"{name}.service"])
        assert unit["Service"]["Restart"] == "on-failure", name
        assert int(unit["Service"]["RestartSec"]) > 0
        assert unit["Unit"]["PartOf"] == "hotline.target"
        assert unit["Install"]["WantedBy"] == "hotline.target"
        assert unit["Service"]["Environment"] == "HOTLINE_DATA_DIR=/srv/hotline/var" or name
        assert unit["Service"]["UMask"] == "0077"
    target = parse(units["hotline.target"])
    assert target["Unit"]["Wants"].split() == [f"{n}.service" for n in systemd.SERVICES]


def test_ordering_app_after_asterisk_and_nlu_database_users_after_local_postgres() -> None:
    units = {k: parse(v) for k, v in systemd.render(values(database_unit="postgresql.service")).items()}
    app = units["hotline-app.service"]["Unit"]
    assert app["Requires"] == "hotline-asterisk.service" and app["Wants"] == "hotline-nlu.service"
    assert app["After"].split() == ["hotline-asterisk.service", "hotline-nlu.service", "postgresql.service"]
    for name in ("hotline-scheduler.service", "hotline-web.service"):
        assert "postgresql.service" in units[name]["Unit"]["After"].split()
        assert "hotline-asterisk.service" not in units[name]["Unit"].get("Requires", "")
    for name in ("hotline-app.service", "hotline-scheduler.service", "hotline-web.service"):
        assert units[name]["Service"]["User"] == "hotline"
    assert units["hotline-app.service"]["Service"]["ExecStart"] == "/opt/hotline/.venv/bin/hotline app run"
    plain = parse(systemd.render(values())["hotline-app.service"])
    assert "postgresql" not in plain["Unit"]["After"]


def test_private_root_and_distribution_package() -> None:
    chroot = parse(systemd.render(values("chroot"))["hotline-asterisk.service"])
    assert chroot["Unit"]["ConditionPathExists"] == "/srv/hotline/var/asterisk-root/usr/sbin/asterisk"
    assert "Conflicts" not in chroot["Unit"]
    assert chroot["Service"]["Type"] == "forking"
    assert chroot["Service"]["PIDFile"] == "/srv/hotline/var/run/asterisk.pid"
    assert chroot["Service"]["ExecStart"].endswith("hotline pbx start")
    package = parse(systemd.render(values("system"))["hotline-asterisk.service"])
    assert package["Unit"]["ConditionPathExists"] == "/usr/sbin/asterisk"
    assert package["Unit"]["Conflicts"] == "asterisk.service"  # the package's own unit binds the same ports


def test_values_are_escaped_or_refused() -> None:
    assert systemd.systemd_value("/srv/hot line/var") == '"/srv/hot line/var"'
    assert systemd.systemd_value("/srv/100%/var") == "/srv/100%%/var"
    with pytest.raises(systemd.UnitError):
        systemd.systemd_value("/srv/x\nExecStartPre=/bin/rm -rf /")
    units = systemd.render(values(data_dir="/srv/hot line/var"))
    assert 'PIDFile="/srv/hot line/var/run/asterisk.pid"' in units["hotline-asterisk.service"]
    with pytest.raises(systemd.UnitError):
        systemd.render(values(data_dir="/srv/x\n[Service]"))


def test_templates_are_strict() -> None:
    template = systemd.environment().get_template("hotline-app.service.j2")
    with pytest.raises(jinja2.UndefinedError):
        template.render({"hotline": "/bin/hotline"})


def test_postgres_unit_only_for_a_local_server() -> None:
    assert systemd.database_unit("postgresql+psycopg://hotline@127.0.0.1/hotline") == "postgresql.service"
    assert systemd.database_unit("postgresql+psycopg://hotline@db.city.gov.vn/hotline") == ""
    assert systemd.database_unit("sqlite:////srv/hotline/var/hotline.db") == ""


def _install(tmp_path: Path) -> Path:
    out = tmp_path / "units"
    env = {
        "HOTLINE_DATA_DIR": str(tmp_path / "var"),
        "HOTLINE_CONFIG": str(tmp_path / "none.toml"),
        "HOTLINE_DATABASE__URL": "",
    }
    get_settings.cache_clear()
    result = CliRunner().invoke(main, ["service", "install", "--dir", str(out), "--user", "hotline"], env=env)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "systemctl daemon-reload" in result.output
    return out


def test_install_writes_readable_units(tmp_path: Path) -> None:
    out = _install(tmp_path)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([f"{n}.service" for n in systemd.SERVICES] + ["hotline.target"])
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o644
        assert "{{" not in path.read_text() and "None" not in path.read_text()
    app = parse((out / "hotline-app.service").read_text())
    assert app["Service"]["Environment"] == f"HOTLINE_DATA_DIR={tmp_path / 'var'}"


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units_and_rejects_a_broken_one(tmp_path: Path) -> None:
    assert SYSTEMD_ANALYZE is not None
    out = _install(tmp_path)
    units = sorted(str(p) for p in out.iterdir())
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr  # not even a warning
    broken = out / "hotline-web.service"
    text = broken.read_text().replace("Type=simple", "Type=sometimes")
    broken.write_text(text.replace("ExecStart=/", "ExecStart=no-such-dir/"))
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "sometimes" in done.stderr
