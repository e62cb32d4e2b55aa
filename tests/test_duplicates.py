"""Duplicate candidates with realistic Vietnamese near-duplicates and look-alikes that are not."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketing.domain import workflow as wf
from ticketing.domain.duplicates import find_candidates, fold, similarity, tokens
from ticketing.domain.model import Caller, Channel, Kind, Place, Priority, Status, Ticket
from ticketing.domain.tracking import make_code

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 3, 9, 9, 0, tzinfo=VN)
HOAN_KIEM = "00070"
BA_DINH = "00004"
_seq = itertools.count(1000)

# (earlier report, later report): the same issue told by two callers.
SAME = [
    (
        "Cây xanh bị đổ chắn ngang đường trước số nhà 25 phố Hàng Bài, xe máy không đi qua được",
        "Có cây đổ chắn đường ở trước nhà 25 Hàng Bài",
    ),
    (
        "Rác thải ùn ứ ba ngày không thu gom ở đầu ngõ 12 Hào Nam, bốc mùi hôi thối",
        "Đầu ngõ 12 phố Hào Nam rác để mấy ngày rồi không ai thu gom, mùi rất hôi",
    ),
    (
        "Rác thải ùn ứ ba ngày không thu gom ở đầu ngõ 12 Hào Nam, bốc mùi hôi thối",
        "rac thai un u ba ngay khong thu gom o dau ngo 12 hao nam",  # typed without diacritics
    ),
    (
        "Quán karaoke số 8 Kim Mã hát to đến 1 giờ sáng",
        "Karaoke ở số 8 Kim Mã ồn ào quá khuya, hát đến tận 1 giờ sáng",
    ),
    (
        "Đèn đường trên phố Tràng Tiền đoạn trước Nhà hát Lớn bị tắt cả tuần nay",
        "Phố Tràng Tiền chỗ Nhà hát Lớn đèn đường không sáng cả tuần",
    ),
]

# Same street or same kind of problem, but a different issue.
DIFFERENT = [
    (
        "Cây xanh bị đổ chắn ngang đường trước số nhà 25 phố Hàng Bài, xe máy không đi qua được",
        "Cành cây khô sắp gãy ở vườn hoa Lý Thái Tổ, nguy hiểm cho người đi bộ",
    ),
    (
        "Rác thải ùn ứ ba ngày không thu gom ở đầu ngõ 12 Hào Nam, bốc mùi hôi thối",
        "Có người đổ trộm phế thải xây dựng ra vỉa hè ngõ 40 Hào Nam vào ban đêm",
    ),
    (
        "Quán karaoke số 8 Kim Mã hát to đến 1 giờ sáng",
        "Quán karaoke số 80 Kim Mã hát to đến 1 giờ sáng",  # another house
    ),
    (
        "Quán karaoke số 8 Kim Mã hát to đến 1 giờ sáng",
        "Nhà hàng xóm số 15 Đội Cấn mở nhạc to cả đêm",
    ),
]


def ticket(content: str, *, category: str = "VSMT", ward: str = HOAN_KIEM, hours: float = 0.0) -> Ticket:
    return wf.new_ticket(
        make_code(next(_seq)),
        Channel.PHONE,
        Kind.FIELD_REPORT,
        category,
        Priority.NORMAL,
        Caller(phone="0912345678"),
        Place(ward_code=ward),
        content,
        "ai-operator",
        T0 + timedelta(hours=hours),
    )


def test_fold_and_tokens() -> None:
    assert fold("Đường Hào Nam, NGÕ 12") == "duong hao nam, ngo 12"
    assert fold("Phường Hoàn Kiếm") == fold("phuong hoan kiem")
    assert tokens("Có cây đổ ở trước nhà 25 Hàng Bài ạ!") == ["cay", "25", "hang", "bai"]
    # NFD input (as some keyboards produce) is normalised first.
    import unicodedata

    assert tokens(unicodedata.normalize("NFD", "Cây đổ")) == tokens("Cây đổ")


@pytest.mark.parametrize(("a", "b"), SAME)
def test_near_duplicates_score_high(a: str, b: str) -> None:
    assert similarity(a, b) >= 0.75
    assert similarity(b, a) >= 0.75


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_issues_score_low(a: str, b: str) -> None:
    assert similarity(a, b) < 0.7


def test_empty_text_is_never_similar() -> None:
    assert similarity("", "Cây đổ") == 0.0
    assert similarity("ạ ơi", "ạ ơi") == 0.0


def test_candidates_need_same_category_ward_and_window() -> None:
    text_a, text_b = SAME[1]
    original = ticket(text_a)
    same = ticket(text_b, hours=30)
    others = [
        original,
        ticket(text_a, category="TTDT"),  # other category
        ticket(text_a, ward=BA_DINH),  # other ward
        ticket(text_a, hours=-24 * 8),  # older than the 7-day window
        ticket(text_a, hours=48),  # created after the ticket being checked
        ticket(DIFFERENT[1][1], hours=1),  # same place, other issue
    ]
    found = find_candidates(same, others)
    assert [t.code for t, _ in found] == [original.code]
    assert found[0][1] >= 0.75
    # A wider window finds the older one too; a ticket is never its own candidate.
    wider = find_candidates(same, [*others, same], window=timedelta(days=10))
    assert {t.code for t, _ in wider} == {original.code, others[3].code}


def test_rejected_tickets_are_not_originals_and_best_comes_first() -> None:
    text_a, text_b = SAME[0]
    rejected = ticket(text_a)
    wf.reject(rejected, "Thông tin không chính xác", "phanluong", T0 + timedelta(hours=1))
    close = ticket(text_a, hours=1)
    loose = ticket("Cây xanh trên phố Hàng Bài cần cắt tỉa cành", hours=2)
    probe = ticket(text_b, hours=3)
    found = find_candidates(probe, [loose, rejected, close], threshold=0.5)
    assert [t.code for t, _ in found] == [close.code, loose.code]
    assert rejected.code not in {t.code for t, _ in found}
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_threshold_is_configurable() -> None:
    probe = ticket(DIFFERENT[2][1], hours=1)
    earlier = ticket(DIFFERENT[2][0])
    assert find_candidates(probe, [earlier]) == []
    assert [t.code for t, _ in find_candidates(probe, [earlier], threshold=0.3)] == [earlier.code]


def test_ticket_without_ward_has_no_candidates() -> None:
    probe = wf.new_ticket(
        make_code(next(_seq)),
        Channel.PHONE,
        Kind.FIELD_REPORT,
        "VSMT",
        Priority.NORMAL,
        Caller(),
        Place(address="Hàng Bài"),
        SAME[0][1],
        "ai-operator",
        T0 + timedelta(hours=1),
    )
    assert find_candidates(probe, [ticket(SAME[0][0])]) == []


def test_candidate_can_be_marked_as_duplicate_once_accepted() -> None:
    original = ticket(SAME[3][0])
    wf.dispatch(original, "UBND-00070", "phanluong", T0 + timedelta(hours=1))
    wf.accept(original, "canbo", T0 + timedelta(hours=2))
    probe = ticket(SAME[3][1], hours=3)
    (best, _score), *_ = find_candidates(probe, [original])
    wf.mark_duplicate(probe, best, "phanluong", T0 + timedelta(hours=4))
    assert probe.status == Status.REJECTED and probe.duplicate_of == original.code
