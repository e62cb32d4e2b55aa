"""The personal-data masking policy (ticketing.privacy) over every field that can hold personal data,
and ``hotline tickets show/list --json`` without ``--show-personal`` printing none of a confidential
caller's name, phone or CCCD anywhere (transcript, content and attachment names included)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.test_cli_tickets import REPORT, Hotline
from ticketing.domain.model import (
    Attachment,
    AttachmentKind,
    Caller,
    Channel,
    Event,
    Kind,
    Place,
    Priority,
    Ticket,
)
from ticketing.privacy import HIDDEN, masked_ticket, redact_text, ticket_view

NAME, PHONE, CCCD = "Trần Thị Bích Ngọc", "0912345678", "001190012345"
CONFIDENTIAL = Caller(name=NAME, phone=PHONE, cccd=CCCD, email="ngoc.tran@example.vn", confidential=True)
TRANSCRIPT = (
    "Tổng đài: Xin anh chị cho biết họ tên?\n"
    "Người gọi: tôi tên là trần thị bích ngọc\n"
    "Tổng đài: Số điện thoại của chị là 0912 345 678 phải không?\n"
    "Người gọi: không, số của tôi là không chín một hai ba bốn năm sáu bảy tám\n"
    "Người gọi: căn cước 001190012345, chị Ngọc ở ngõ 5, email ngoc.tran@example.vn"
)


def ticket(caller: Caller) -> Ticket:
    at = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    return Ticket(
        code="000000013",
        channel=Channel.PHONE,
        kind=Kind.FIELD_REPORT,
        category="VSMT",
        priority=Priority.NORMAL,
        caller=caller,
        place=Place(address="Ngõ 5 Hàng Bông", ward_code="00070", ward_name="Phường Hoàn Kiếm"),
        content=f"Rác thải ở ngõ 5; gọi lại cho chị Ngọc số {PHONE}",
        created_at=at,
        created_by="ai-operator",
        transcript=TRANSCRIPT,
        attachments=[
            Attachment(
                "ab" * 32, AttachmentKind.RECORDING, f"{PHONE}-tran-thi-bich-ngoc.wav", "audio/wav", 9, at, ""
            )
        ],
        history=[Event(at, "ai-operator", "create", None, None, f"gọi từ {PHONE}")],
    )


def leaks(text: str) -> list[str]:
    folded = text.lower()
    found = [v for v in (PHONE, CCCD, "0912 345 678", "ngoc.tran") if v in text]
    found += [v for v in ("bích ngọc", "bich", "chị ngọc", "không chín một hai") if v in folded]
    return found


def test_a_confidential_callers_identity_is_nowhere_in_the_masked_ticket() -> None:
    shown = json.dumps(ticket_view(ticket(CONFIDENTIAL), show_personal=False), ensure_ascii=False)
    assert leaks(shown) == [], shown
    assert HIDDEN in shown and "ngõ 5" in shown and "Rác thải" in shown  # the report itself stays


def test_with_show_personal_everything_is_there() -> None:
    shown = json.dumps(ticket_view(ticket(CONFIDENTIAL), show_personal=True), ensure_ascii=False)
    assert PHONE in shown and "trần thị bích ngọc" in shown and CCCD in shown


def test_an_ordinary_caller_keeps_the_name_but_numbers_are_masked() -> None:
    caller = Caller(name=NAME, phone=PHONE, cccd=CCCD)
    masked = masked_ticket(ticket(caller))
    assert masked.caller.name == NAME and masked.caller.phone == "09******78"
    assert PHONE not in masked.transcript and CCCD not in masked.transcript
    assert "0912 345 678" not in masked.transcript
    assert "không chín một hai" not in masked.transcript.lower() and "bích ngọc" in masked.transcript
    assert PHONE not in masked.attachments[0].filename and PHONE not in masked.history[0].note


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("đèn đường ở ngõ 7 phố thái hà bị hỏng", "ngõ 7"),  # short numbers are not personal data
        ("hồ sơ mã H26-261120", "H26-261120"),
        ("từ hôm qua, lúc chín giờ tối", "chín giờ"),  # one digit word is not a number read out
    ],
)
def test_ordinary_text_is_left_alone(text: str, kept: str) -> None:
    assert kept in redact_text(text, CONFIDENTIAL)


def test_decomposed_vietnamese_and_capitals_are_found_too() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "TÔI TÊN LÀ TRẦN THỊ BÍCH NGỌC")
    assert "NGỌC" not in redact_text(nfd, CONFIDENTIAL) and HIDDEN in redact_text(nfd, CONFIDENTIAL)
    assert "BICH" not in redact_text("ten toi la Tran Thi Bich Ngoc", CONFIDENTIAL).upper()


def test_cli_show_and_list_json_print_no_personal_data_of_a_confidential_caller(
    tmp_path: Path,
) -> None:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_CITY": "hanoi", "HOTLINE_DATABASE__URL": ""}
    h = Hotline(env, tmp_path)
    h("db", "upgrade")
    report = {
        **REPORT,
        "caller": {"name": NAME, "phone": PHONE, "cccd": CCCD, "confidential": True},
        "content": f"Rác thải ở ngõ 5; gọi lại cho chị Ngọc số {PHONE}",
        "transcript": TRANSCRIPT,
    }
    code = h.create(report)
    evidence = tmp_path / f"{PHONE}-tran-thi-bich-ngoc.jpg"
    evidence.write_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
    h("tickets", "attach", code, str(evidence), "--kind", "photo")
    views = (("tickets", "show", code, "--json"), ("tickets", "list", "--json"), ("tickets", "show", code))
    for args in views:
        out = h(*args).stdout
        assert code in out.replace(" ", "") and leaks(out) == [], (args, out)
    full = h("tickets", "show", code, "--json", "--show-personal").stdout
    assert PHONE in full and CCCD in full and "bích ngọc" in full
