"""``hotline chat`` end to end through click's CliRunner: the engine with the real normalisers, and with
``--create`` the real ticket service on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from config.settings import get_settings
from nlu.dialogue import events as ev
from nlu.scenarios import parse_turn as parse_line
from ticketing.domain import tracking

REPORT_LINES = [
    "tôi muốn phản ánh rác thải đổ trộm ở đầu ngõ 12 phố hàng bông",
    "phường hoàn kiếm",
    "hôm qua lúc chín giờ tối",
    "tôi tên là nguyễn văn an",
    "có",
]


def chat(lines: list[str], *args: str) -> tuple[int, str, dict]:
    args = ("--interpreter", "fallback", *args)
    result = CliRunner().invoke(main, ["chat", *args], input="\n".join(lines) + "\n")
    if result.exit_code == 0:  # the console says which interpreter answers, on stderr, first
        assert result.stderr.startswith("NLU: fallback — the rule-based interpreter was chosen"), (
            result.stderr
        )
    out = result.stdout if result.exit_code == 0 else result.output
    tail = out[out.index("\n{") + 1 :] if "\n{" in out else "{}"
    return result.exit_code, out, json.loads(tail)


@pytest.fixture(autouse=True)
def _fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HOTLINE_DATABASE__URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_parse_line() -> None:
    assert parse_line("#0912345678#") == ev.Digits("0912345678#")
    assert parse_line("/hangup") == ev.Hangup()
    assert parse_line("/silence") == ev.Silence() == parse_line("  ")
    assert parse_line("/timeout") == ev.Timeout()
    assert parse_line(" có ") == ev.Heard("có", 1.0)


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["chat", "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output


def test_happy_path_dry_run_prints_the_complete_draft() -> None:
    code, out, data = chat([*REPORT_LINES, "đúng rồi"], "--caller-id", "0912345678")
    assert code == 0, out
    assert out.startswith("Tổng đài: Tổng đài 1022 xin nghe")
    assert "Thông tin trên có đúng không ạ?" in out
    d = data["draft"]
    assert d["missing"] == [] and d["ward"] == "Phường Hoàn Kiếm" and d["name"] == "Nguyễn Văn An"
    assert d["phone"] == "0912345678" and d["category"] == "VSMT"
    assert d["incident_time"].endswith("T21:00")
    assert data["tickets"] == [] and "--create" in out


def test_correction_with_spoken_number_and_khong_phai() -> None:
    lines = [*REPORT_LINES, "không phải, số điện thoại là không chín tám bảy sáu năm bốn ba hai một", "đúng"]
    code, out, data = chat(lines, "--caller-id", "0912345678")
    assert code == 0, out
    assert "không chín tám bảy, sáu năm bốn, ba hai một" in out
    assert data["draft"]["phone"] == "0987654321"


def test_keypad_phone_after_a_failed_attempt() -> None:
    lines = [*REPORT_LINES[:4], "à để tôi xem đã", "#0987654321#", "đúng"]
    code, out, data = chat(lines)  # no caller ID
    assert code == 0, out
    assert "bấm số điện thoại trên bàn phím" in out
    assert data["draft"]["phone"] == "0987654321" and data["draft"]["missing"] == []


def test_hangup_mid_way_keeps_the_draft() -> None:
    code, out, data = chat([*REPORT_LINES[:2], "/hangup"])
    assert code == 0, out
    assert "bản nháp" in out
    assert data["draft"]["ward"] == "Phường Hoàn Kiếm" and "name" in data["draft"]["missing"]


def test_silence_then_operator() -> None:
    code, out, _ = chat(["/silence", "/silence"])
    assert code == 0, out
    assert "chưa nghe rõ" in out and "[chuyển tổng đài viên / transfer: no_response]" in out


def test_urgent_fire_is_transferred_at_once() -> None:
    code, out, data = chat(["cháy nhà ở ngõ 5 phố huế có người mắc kẹt"])
    assert code == 0, out
    assert "transfer: urgent, khẩn / urgent" in out
    assert data["draft"]["urgent"] is True and data["draft"]["priority"] == "urgent"


def test_complaint_refused_then_goodbye() -> None:
    code, out, _ = chat(["tôi muốn tố cáo cán bộ phường", "không"])
    assert code == 0, out
    assert "không tiếp nhận khiếu nại, tố cáo" in out and "[kết thúc cuộc gọi / hang-up]" in out


def test_operator_on_request() -> None:
    code, out, _ = chat(["cho tôi gặp tổng đài viên"])
    assert code == 0, out
    assert "transfer: caller_request" in out


def test_procedure_question_answered_from_the_knowledge_base() -> None:
    code, out, _ = chat(["cho tôi hỏi thủ tục đăng ký kết hôn", "không"])
    assert code == 0, out
    assert "Về thủ tục Đăng ký kết hôn" in out and "miễn lệ phí" in out


def test_dossier_lookup_from_a_table_by_keypad(tmp_path: Path) -> None:
    table = tmp_path / "dossiers.csv"
    table.write_text(
        "code,status,procedure,due_date\n000.00.01.H26-261120-0012,Đang xử lý,Đăng ký khai sinh,2026-11-25\n",
        encoding="utf-8",
    )
    code, out, _ = chat(["tra cứu hồ sơ", "#2611200012#", "#2611200099#", "không"], "--dossiers", str(table))
    assert code == 0, out
    assert (
        "Hồ sơ mã 000.00.01.H26-261120-0012, thủ tục Đăng ký khai sinh, hiện đang ở trạng thái: Đang xử lý"
        in out
    )


def test_bad_dossier_table_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("[1, 2]", encoding="utf-8")
    result = CliRunner().invoke(main, ["chat", "--dossiers", str(bad)], input="")
    assert result.exit_code == 1 and "Lỗi / Error:" in result.output and "Traceback" not in result.output


def test_create_files_the_ticket_and_reads_the_tracking_code(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db_url)
    get_settings.cache_clear()
    code, out, data = chat([*REPORT_LINES, "đúng rồi", "không"], "--create", "--caller-id", "0912345678")
    assert code == 0, out
    [ticket] = data["tickets"]
    assert ticket["complete"] is True and tracking.is_valid(ticket["code"])
    from nlu.dialogue.slots import code_vi

    spoken = out[: out.index("\n{")]
    assert spoken.count(f"theo dõi là: {code_vi(ticket['code'])}.") == 2
    # and the ticket can be looked up by its tracking code in the next call
    code2, out2, _ = chat(["tôi muốn hỏi kết quả xử lý phản ánh", f"#{ticket['code']}#", "không"], "--create")
    assert code2 == 0, out2
    assert "hiện đang ở trạng thái: Mới tạo" in out2


def test_procedure_guidance_sms_is_queued_in_the_outbox(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db_url)
    get_settings.cache_clear()
    lines = ["cho tôi hỏi thủ tục đăng ký kết hôn", "có", "không"]
    code, out, _ = chat(lines, "--create", "--caller-id", "0912345678")
    assert code == 0, out
    assert "qua tin nhắn tới số không chín một hai" in out and "tôi sẽ gửi hướng dẫn qua tin nhắn" in out
    from sqlalchemy.orm import sessionmaker

    from ticketing.db.engine import make_engine
    from ticketing.db.outbox import SqlOutboxRepository

    [sms] = SqlOutboxRepository(sessionmaker(make_engine(db_url))).list(None, 10)
    assert (sms.kind, sms.channel, sms.recipient) == ("procedure_answer", "sms", "0912345678")
    assert sms.body.startswith("Dang ky ket hon: Ho so: to khai dang ky ket hon") and sms.body.isascii()


def test_create_keeps_an_incomplete_ticket_on_hangup(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE__URL", db_url)
    get_settings.cache_clear()
    code, out, data = chat([*REPORT_LINES[:2], "/hangup"], "--create")
    assert code == 0, out
    [ticket] = data["tickets"]
    assert ticket["complete"] is False


def test_auto_falls_back_when_rasa_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_NLU__RASA_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    get_settings.cache_clear()
    result = CliRunner().invoke(
        main, ["chat", "--interpreter", "auto"], input="cho tôi hỏi thủ tục đăng ký kết hôn\nkhông\n"
    )
    assert result.exit_code == 0, result.output
    assert "Về thủ tục Đăng ký kết hôn" in result.output
