"""Config injection through the Asterisk templates is refused for every value that reaches them:
each string setting of the PBX and of a trunk, an operator row read back from the database, and the
paths of the layout. A value with a line break either raises RenderError or never reaches a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import PbxSettings, Settings, SettingsError, TrunkSettings
from pbx.install import AsteriskLayout
from pbx.render import RenderError, environment, render_all
from ticketing.operators import OperatorEndpoint, new_endpoint

GOOD_SECRET = "Zq8vN2-kLw5xR7tY"
INJECTION = "x\n[evil]\ntype=endpoint"
PBX_STRING_FIELDS = sorted(
    name for name, field in PbxSettings.model_fields.items() if field.annotation is str
)


def settings(**pbx: object) -> Settings:
    values: dict[str, object] = {"ari_password": GOOD_SECRET, "ami_password": GOOD_SECRET + "b"}
    values.update(pbx)
    return Settings(pbx=PbxSettings(**values))  # type: ignore[arg-type]


def layout(tmp_path: Path) -> AsteriskLayout:
    return AsteriskLayout("chroot", tmp_path / "root", "main", tmp_path / "state")


def assert_not_injected(s: Settings, lay: AsteriskLayout, ops: list[OperatorEndpoint] | None = None) -> None:
    try:
        files = render_all(s, lay, ops or [])
    except (RenderError, SettingsError):
        return
    for name, text in files.items():
        assert "[evil]" not in text, name


def test_the_field_list_covers_the_secrets_and_names() -> None:
    assert {"ari_password", "ami_password", "ari_user", "ami_user", "bind_host", "fastagi_url"} <= set(
        PBX_STRING_FIELDS
    )


@pytest.mark.parametrize("field", PBX_STRING_FIELDS)
def test_every_pbx_string_setting_refuses_a_line_break(field: str, tmp_path: Path) -> None:
    assert_not_injected(settings(**{field: INJECTION}), layout(tmp_path))


@pytest.mark.parametrize("field", ["name", "host", "username", "password", "match"])
def test_every_trunk_value_refuses_a_line_break(field: str, tmp_path: Path) -> None:
    values: dict[str, object] = {
        "name": "vnpt",
        "host": "10.1.2.3",
        "match": ["10.1.2.3"],
        "username": "hotline1022",
        "password": GOOD_SECRET,
    }
    values[field] = [INJECTION] if field == "match" else INJECTION
    trunk = TrunkSettings(**values)  # type: ignore[arg-type]
    assert_not_injected(settings(trunks=[trunk]), layout(tmp_path))


@pytest.mark.parametrize("field", ["name", "display_name", "password_md5"])
def test_an_operator_row_from_the_database_cannot_inject(field: str, tmp_path: Path) -> None:
    good = new_endpoint("op1001", "Nguyễn Thị Lan")[0]
    row = OperatorEndpoint(**{**good.__dict__, field: INJECTION})
    with pytest.raises(RenderError):
        render_all(settings(), layout(tmp_path), [row])


@pytest.mark.parametrize("state", ["state\n[evil]", "state;comment"])
def test_a_system_layout_path_with_a_line_break_or_comment_is_refused(state: str, tmp_path: Path) -> None:
    lay = AsteriskLayout("system", Path("/"), "main", tmp_path / state)
    with pytest.raises(RenderError):
        render_all(settings(), lay, [])


def test_a_system_layout_renders_its_host_paths(tmp_path: Path) -> None:
    lay = AsteriskLayout("system", Path("/"), "main", tmp_path / "state")
    assert (
        f"astspooldir => {tmp_path / 'state' / 'spool'}" in render_all(settings(), lay, [])["asterisk.conf"]
    )


def test_finalize_checks_non_string_values_too(tmp_path: Path) -> None:
    (tmp_path / "t.conf.j2").write_text("v = {{ value }}\n", encoding="utf-8")
    env = environment(tmp_path)
    assert env.get_template("t.conf.j2").render(value=Path("/a/b")) == "v = /a/b\n"
    with pytest.raises(RenderError):
        env.get_template("t.conf.j2").render(value=Path("/a\n[evil]"))
