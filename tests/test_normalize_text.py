"""Names, times and dates: table tests over ASR-style utterances, plus fuzzing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.normalize import find_name, normalize_name, normalize_time, parse_time
from nlu.normalize.text import ascii_key, fold, strip_diacritics, tokens

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 22, 22, 5, tzinfo=VN)  # a Sunday evening


def test_text_helpers() -> None:
    assert fold("hòa") == fold("hoà") == fold("HÒA")
    assert fold("mười") != fold("mươi")
    assert strip_diacritics("Đống Đa Hoàn Kiếm") == "Dong Da Hoan Kiem"
    assert ascii_key("Phường Văn Miếu - Quốc Tử Giám") == "phuong van mieu quoc tu giam"
    assert tokens("8h30, 20/11!") == ["8", "h", "30", "20", "11"]


NAMES = [
    ("nguyễn văn an", "Nguyễn Văn An"),
    ("dạ tên tôi là nguyễn văn an ạ", "Nguyễn Văn An"),
    ("tôi tên là trần thị bích ngọc", "Trần Thị Bích Ngọc"),
    ("em là lê minh tuấn", "Lê Minh Tuấn"),
    ("cháu tên là phạm thu hà", "Phạm Thu Hà"),
    ("họ và tên nguyễn thị hoa", "Nguyễn Thị Hoa"),
    ("vâng tôi là hoàng văn thành", "Hoàng Văn Thành"),
    ("tên tôi là hùng", "Hùng"),
    ("NGUYỄN VĂN AN", "Nguyễn Văn An"),
    ("dạ đỗ quang huy", "Đỗ Quang Huy"),
    ("tôi họ nguyễn tên là an", "Nguyễn"),
]


@pytest.mark.parametrize(("text", "name"), NAMES)
def test_normalize_name(text: str, name: str) -> None:
    assert normalize_name(text) == name


@pytest.mark.parametrize(
    "text",
    ["vâng", "tôi là người dân phường láng", "tôi muốn phản ánh về rác", "không chín một hai", "", "ạ"],
)
def test_normalize_name_rejects(text: str) -> None:
    assert normalize_name(text) is None


def test_find_name_in_longer_utterance() -> None:
    assert find_name("alo tôi tên là trần văn bình ở phường láng muốn phản ánh") == "Trần Văn Bình"
    assert find_name("họ tên nguyễn thị mai số điện thoại không chín") == "Nguyễn Thị Mai"
    assert find_name("tôi là người dân ở đây") is None
    assert find_name("quán karaoke hát to quá") is None


TIMES = [
    ("sáng nay lúc tám giờ", "2026-11-22T08:00"),
    ("tám giờ sáng nay", "2026-11-22T08:00"),
    ("tối hôm qua", "2026-11-21"),
    ("chiều qua", "2026-11-21"),
    ("đêm qua", "2026-11-21"),
    ("hôm nay", "2026-11-22"),
    ("hôm kia", "2026-11-20"),
    ("thứ hai tuần này", "2026-11-16"),
    ("thứ sáu tuần trước", "2026-11-13"),
    ("chủ nhật tuần trước", "2026-11-15"),
    ("thứ năm", "2026-11-19"),
    ("ngày hai mươi tháng mười một", "2026-11-20"),
    ("ngày hai mươi tháng mười một năm hai nghìn hai mươi lăm", "2025-11-20"),
    ("mùng năm tháng ba", "2026-03-05"),
    ("ngày mười lăm", "2026-11-15"),
    ("20/11/2025", "2025-11-20"),
    ("cách đây mười phút", "2026-11-22T21:55"),
    ("khoảng hai tiếng trước", "2026-11-22T20:05"),
    ("nửa tiếng trước", "2026-11-22T21:35"),
    ("một tiếng rưỡi trước", "2026-11-22T20:35"),
    ("cách đây ba ngày", "2026-11-19"),
    ("lúc chín giờ rưỡi tối", "2026-11-22T21:30"),
    ("hai giờ chiều hôm kia", "2026-11-20T14:00"),
    ("mười giờ ba mươi", "2026-11-22T10:30"),
    ("mười giờ ba mươi phút sáng", "2026-11-22T10:30"),
    ("tám giờ kém mười lăm sáng nay", "2026-11-22T07:45"),
    ("hai giờ đêm qua", "2026-11-22T02:00"),
    ("mười một giờ đêm qua", "2026-11-21T23:00"),
    ("mười hai giờ trưa nay", "2026-11-22T12:00"),
    ("một giờ trưa hôm qua", "2026-11-21T13:00"),
    ("8h30 sáng", "2026-11-22T08:30"),
    ("21:00", "2026-11-22T21:00"),
    ("khoảng bảy giờ tối thứ bảy tuần trước", "2026-11-14T19:00"),
    ("tối qua khoảng mười giờ có người đổ trộm rác", "2026-11-21T22:00"),
    ("hai mươi hai giờ hôm qua", "2026-11-21T22:00"),
]


@pytest.mark.parametrize(("text", "value"), TIMES)
def test_normalize_time(text: str, value: str) -> None:
    assert normalize_time(text, NOW) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tôi muốn phản ánh về rác",
        "xe đi ngược chiều",
        "đèn đường sáng",
        "tôi gọi lần thứ hai rồi",
        "ngày ba mươi mốt tháng hai",  # no such date: nothing is guessed
        "bây giờ tôi muốn hỏi",
        "số không chín một hai",
    ],
)
def test_normalize_time_rejects(text: str) -> None:
    assert normalize_time(text, NOW) is None


def test_parse_time_objects() -> None:
    value = parse_time("lúc chín giờ rưỡi tối", NOW)
    assert isinstance(value, datetime) and value.tzinfo == VN and (value.hour, value.minute) == (21, 30)
    day = parse_time("tối hôm qua", NOW)
    assert day == date(2026, 11, 21) and not isinstance(day, datetime)


def test_year_rolls_back_for_far_future_dates() -> None:
    january = datetime(2027, 1, 5, 9, 0, tzinfo=VN)
    assert normalize_time("ngày hai mươi tháng mười hai", january) == "2026-12-20"


_WORDS = [
    "sáng", "trưa", "chiều", "tối", "đêm", "nay", "qua", "hôm", "kia", "mai", "thứ", "chủ", "nhật", "tuần",
    "này", "trước", "ngày", "tháng", "năm", "mùng", "giờ", "phút", "rưỡi", "kém", "cách", "đây", "tiếng",
    "hai", "mươi", "mười", "một", "ba", "chín", "không", "nghìn", "trăm", "lúc", "h", "24", "99", "0", "31",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=14))
def test_time_fuzz_never_crashes_and_is_well_formed(words: list[str]) -> None:
    value = normalize_time(" ".join(words), NOW)
    if value is not None:
        if "T" in value:
            datetime.fromisoformat(value)
            assert len(value) == 16
        else:
            date.fromisoformat(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_name_and_time_never_crash(text: str) -> None:
    normalize_name(text)
    find_name(text)
    normalize_time(text, NOW)


@pytest.mark.parametrize(
    ("at", "said", "value"),
    [
        ((21, 30), "từ tám giờ", "2026-11-22T20:00"),  # 20:00 came last, not 08:00
        ((10, 0), "từ tám giờ", "2026-11-22T08:00"),  # 20:00 has not come yet today
        ((7, 0), "từ tám giờ", "2026-11-21T20:00"),  # neither today: last night
        ((20, 55), "lúc chín giờ", "2026-11-22T21:00"),  # a few minutes ahead is "just now"
        ((21, 30), "tám giờ sáng", "2026-11-22T08:00"),  # a part of the day decides
        ((21, 30), "mười hai giờ", "2026-11-22T12:00"),  # not ambiguous
    ],
)
def test_an_hour_without_a_part_of_the_day_is_the_one_that_came_last(
    at: tuple[int, int], said: str, value: str
) -> None:
    assert normalize_time(said, NOW.replace(hour=at[0], minute=at[1])) == value
