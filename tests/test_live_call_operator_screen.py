"""``hotline operator-screen``: the screen text for a delivered call, and finishing a draft ticket."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import wiring
from cli import main as cli
from commands.operator_screen import render_screen
from config.settings import Settings, get_settings
from pbx.ami import AmiEvent
from ticketing.db import migrate
from ticketing.domain.model import Status


def test_finish_a_draft_from_the_operator_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    settings = Settings(data_dir=tmp_path, database={"url": url})  # type: ignore[arg-type]
    service = wiring.build(settings).tickets
    draft = service.create(
        {
            "category": "VSMT",
            "content": "Rác thải ứ đọng đầu ngõ 5 Hàng Bông",
            "caller": {"phone": "0912345678"},
            "complete": False,
        },
        "ai-operator",
    ).ticket
    assert draft.status is Status.DRAFT
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE__URL", url)
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.toml"))
    get_settings.cache_clear()
    try:
        screen = render_screen(
            AmiEvent("AgentConnect", {"Uniqueid": "1.2", "Interface": "PJSIP/op1", "Queue": "operators"}),
            {"Draft": draft.code, "Reason": "caller_request", "Summary": "Nội dung: Rác thải"},
        )
        assert draft.code in screen and "PJSIP/op1" in screen and "họ tên" in screen
        done = CliRunner().invoke(
            cli,
            ["operator-screen", "finish", draft.code, "--name", "Lê Văn An", "--ward", "Phường Hoàn Kiếm",
             "--no-input"],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert '"Mới tạo"' in done.output
        assert service.get(draft.code).caller.name == "Lê Văn An"
    finally:
        get_settings.cache_clear()
