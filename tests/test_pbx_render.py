"""Rendering the Asterisk configuration: every template renders strictly, and bad values are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.settings import PbxSettings, Settings, TrunkSettings
from pbx.install import AsteriskLayout
from pbx.render import (
    OPTIONAL_MODULES,
    REQUIRED_MODULES,
    RenderError,
    environment,
    render_all,
    render_to_disk,
    rendered_dir,
    template_names,
)
from ticketing.operators import (
    OperatorEndpoint,
    OperatorError,
    new_endpoint,
    password_md5,
    validate_display_name,
)

GOOD_SECRET = "Zq8vN2-kLw5xR7tY"


def settings(**pbx: object) -> Settings:
    values: dict[str, object] = {"ari_password": GOOD_SECRET, "ami_password": GOOD_SECRET + "b"}
    values.update(pbx)
    return Settings(pbx=PbxSettings(**values))  # type: ignore[arg-type]


def layout(tmp_path: Path) -> AsteriskLayout:
    return AsteriskLayout("chroot", tmp_path / "root", "main", tmp_path / "state")


def op(name: str = "op1001", display: str = "Nguyễn Thị Lan") -> OperatorEndpoint:
    return new_endpoint(name, display)[0]


def test_every_template_renders_strictly(tmp_path: Path) -> None:
    trunk = TrunkSettings(name="vnpt", host="10.1.2.3:5060", match=["10.1.2.0/24"])
    reg = TrunkSettings(name="viettel", host="sip.example.vn", username="hotline1022", password=GOOD_SECRET)
    files = render_all(settings(trunks=[trunk, reg]), layout(tmp_path), [op(), op("op1002", "Trần Văn B")])
    assert set(files) == {name.removesuffix(".j2") for name in template_names()}
    expected = {"modules.conf", "pjsip.conf", "extensions.conf", "queues.conf", "ari.conf", "http.conf"}
    assert expected | {"manager.conf", "asterisk.conf", "logger.conf", "rtp.conf"} <= set(files)
    for name, text in files.items():
        assert "{{" not in text and "{%" not in text, name
        assert text.endswith("\n"), name
    pjsip = files["pjsip.conf"]
    assert "bind = 127.0.0.1:5060" in pjsip
    assert "match = 10.1.2.0/24" in pjsip
    assert "server_uri = sip:sip.example.vn" in pjsip
    assert "[op1002](operator-defaults)" in pjsip
    assert 'callerid = "Trần Văn B" <op1002>' in pjsip
    assert "match = 127.0.0.1" in pjsip  # development trunk
    queues = files["queues.conf"]
    assert queues.count("member => PJSIP/op1001,") == 2  # operators and operators-urgent
    extensions = files["extensions.conf"]
    inbound = extensions.split("[hotline-inbound]")[1].split("\n[")[0]
    apps = re.findall(r"^\s*(?:exten => 1022,1|same => n),(\w+)\(", inbound, flags=re.M)
    assert apps[:7] == ["NoOp", "Answer", "Set", "Set", "MixMonitor", "Stasis", "Goto"]
    assert "=arrive|${EPOCH}|${UNIQUEID}|" in inbound  # every answered call journalled first
    assert "Queue(${HOTLINE_QUEUE}" in extensions
    assert "AGI(" not in extensions  # no FastAGI URL configured
    assert "bindaddr = 127.0.0.1" in files["http.conf"]
    assert "bindaddr = 127.0.0.1" in files["manager.conf"]
    assert f"password = {GOOD_SECRET}" in files["ari.conf"]
    modules = files["modules.conf"]
    assert "autoload = no" in modules
    assert all(f"require = {m}" in modules for m in REQUIRED_MODULES)
    assert all(f"load = {m}" in modules for m in OPTIONAL_MODULES)


def test_production_has_no_dev_trunk_and_fastagi_is_optional(tmp_path: Path) -> None:
    prod = Settings(
        environment="production",
        pbx=PbxSettings(
            ari_password=GOOD_SECRET, ami_password=GOOD_SECRET, fastagi_url="agi://127.0.0.1:4573/dtmf"
        ),
    )
    files = render_all(prod, layout(tmp_path), [])
    assert "dev-local" not in files["pjsip.conf"]
    assert "AGI(agi://127.0.0.1:4573/dtmf)" in files["extensions.conf"]


def test_the_dev_trunk_is_refused_in_production_and_on_by_default_in_development(tmp_path: Path) -> None:
    secrets = {"ari_password": GOOD_SECRET, "ami_password": GOOD_SECRET}
    prod = Settings(environment="production", pbx=PbxSettings(dev_trunk=True, **secrets))
    with pytest.raises(RenderError, match="refused when environment = production"):
        render_all(prod, layout(tmp_path), [])
    off = Settings(environment="production", pbx=PbxSettings(dev_trunk=False, **secrets))
    assert "dev-local" not in render_all(off, layout(tmp_path), [])["pjsip.conf"]
    dev = Settings(environment="development", pbx=PbxSettings(**secrets))
    assert "dev-local" in render_all(dev, layout(tmp_path), [])["pjsip.conf"]
    dev_off = Settings(environment="development", pbx=PbxSettings(dev_trunk=False, **secrets))
    assert "dev-local" not in render_all(dev_off, layout(tmp_path), [])["pjsip.conf"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"app_name": "hotline\n[evil]"},
        {"ari_user": "hotline\nread_only = no"},
        {"hotline_number": "1022\nexten => 1"},
        {"bind_host": "127.0.0.1\n"},
        {"ari_password": GOOD_SECRET + "\n[admin]"},
        {"ami_password": GOOD_SECRET + "\r\npermit=0.0.0.0"},
        {"fastagi_url": "agi://127.0.0.1:4573/x\nexten => 1,1,System(id)"},
        {"trunks": [TrunkSettings(name="t1", host="10.0.0.1\n[x]", match=["10.0.0.1"])]},
        {"trunks": [TrunkSettings(name="t1", host="10.0.0.1", match=["10.0.0.1\nmatch=0.0.0.0/0"])]},
    ],
)
def test_a_value_with_a_newline_is_refused(tmp_path: Path, overrides: dict[str, object]) -> None:
    with pytest.raises(RenderError):
        render_all(settings(**overrides), layout(tmp_path), [])


def test_an_operator_display_name_with_a_newline_is_refused(tmp_path: Path) -> None:
    bad = OperatorEndpoint("op1", "Lan\n[op1](operator-defaults)", password_md5("op1", "x"))
    with pytest.raises(RenderError):
        render_all(settings(), layout(tmp_path), [bad])
    with pytest.raises(OperatorError):
        validate_display_name("Lan\nX")
    with pytest.raises(OperatorError):
        validate_display_name("Lan, X")  # would split a queue member line


def test_the_template_environment_refuses_newlines_itself() -> None:
    env = environment()
    with pytest.raises(RenderError):
        env.from_string("x = {{ v }}").render(v="a\nb")
    assert env.from_string("x = {{ v }}").render(v="ab") == "x = ab"


def test_an_undefined_template_value_is_an_error() -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("x = {{ missing }}").render()


@pytest.mark.parametrize("secret", ["", "   ", "changeme", "password", "asterisk", "short1"])
def test_an_empty_or_placeholder_secret_is_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(RenderError):
        render_all(settings(ari_password=secret), layout(tmp_path), [])
    with pytest.raises(RenderError):
        render_all(settings(ami_password=secret), layout(tmp_path), [])


@pytest.mark.parametrize("secret", [GOOD_SECRET + ";comment", GOOD_SECRET + '"', " " + GOOD_SECRET])
def test_a_secret_that_would_be_cut_by_the_config_parser_is_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(RenderError):
        render_all(settings(ari_password=secret), layout(tmp_path), [])


@pytest.mark.parametrize(
    "overrides",
    [
        {"bind_host": "localhost"},
        {"sip_port": 8088, "http_port": 8088},
        {"rtp_port_start": 10000, "rtp_port_end": 10001},
        {"fastagi_url": "http://127.0.0.1/"},
        {"trunks": [TrunkSettings(name="t1", host="10.0.0.1")]},  # neither match nor registration
        {"trunks": [TrunkSettings(name="t1", host="10.0.0.1", username="u")]},  # user without password
        {"trunks": [TrunkSettings(name="bad name", host="10.0.0.1", match=["10.0.0.1"])]},
        {"trunks": [TrunkSettings(name="t1", host="10.0.0.1", match=["not-an-ip"])]},
    ],
)
def test_malformed_settings_are_refused(tmp_path: Path, overrides: dict[str, object]) -> None:
    with pytest.raises(RenderError):
        render_all(settings(**overrides), layout(tmp_path), [])


def test_duplicate_operators_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError):
        render_all(settings(), layout(tmp_path), [op("op1"), op("op1")])


def test_render_to_disk_writes_private_files_and_nothing_on_error(tmp_path: Path) -> None:
    lay = layout(tmp_path)
    written = render_to_disk(settings(), lay, [op()])
    assert written
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o600
    (rendered_dir(lay) / "stale.conf").write_text("[x]\n")
    before = (rendered_dir(lay) / "ari.conf").read_text()
    with pytest.raises(RenderError):
        render_to_disk(settings(ari_password=""), lay, [])
    assert (rendered_dir(lay) / "ari.conf").read_text() == before
    render_to_disk(settings(), lay, [])
    assert not (rendered_dir(lay) / "stale.conf").exists()


def test_operator_passwords_are_strong_and_only_their_digest_is_kept() -> None:
    endpoint, password = new_endpoint("op7", "")
    assert len(password) >= 20
    assert password not in repr(endpoint)
    assert endpoint.password_md5 == password_md5("op7", password)
    assert endpoint.display_name == "op7"
    assert new_endpoint("op7")[1] != password
    with pytest.raises(OperatorError):
        new_endpoint("Op 7")


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "Asia/Ho Chi Minh", "Asia/Ho_Chi_Minh,UTC", "../etc/passwd"]
)
def test_an_unknown_or_unsafe_time_zone_is_refused(tmp_path: Path, zone: str) -> None:
    config = settings()
    config.calendar.timezone = zone
    with pytest.raises(RenderError, match="time zone"):
        render_all(config, layout(tmp_path), [])


def test_recordings_are_filed_by_the_city_date(tmp_path: Path) -> None:
    dialplan = render_all(settings(), layout(tmp_path), [])["extensions.conf"]
    assert "${STRFTIME(${EPOCH},Asia/Ho_Chi_Minh,%Y/%m/%d)}" in dialplan
