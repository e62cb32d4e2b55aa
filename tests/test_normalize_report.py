"""Category, urgency and the combined extract_entities contract over realistic caller utterances."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.normalize import classify_category, detect_urgency, extract_entities
from nlu.normalize.category import lexicon, resolve_code
from reference import categories

NOW = datetime(2026, 11, 22, 22, 5, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

CATEGORIES = [
    ("có người đổ trộm rác ra đầu ngõ", "VSMT"),
    ("rác thải để mấy ngày không ai thu gom", "VSMT"),
    ("có xác chuột chết giữa đường bốc mùi", "VSMT"),
    ("vỉa hè bị lấn chiếm hết không có chỗ đi", "TTDT"),
    ("quán nước bày bán ra vỉa hè", "TTDT"),
    ("quán karaoke hát đến hai giờ sáng", "TO"),
    ("hàng xóm mở nhạc to ồn ào cả đêm", "TO"),
    ("đường có ổ gà to lắm", "GT-HT"),
    ("mất nắp cống ở ngã tư", "GT-HT"),
    ("đèn tín hiệu ở ngã tư bị hỏng", "GT-HT"),
    ("tắc đường kinh khủng ở cầu", "GT-TT"),
    ("cả chục công nhân ăn cơm hộp xong bị đau bụng nôn mửa", "ATTP"),
    ("nhà bên cạnh xây thêm tầng không có giấy phép làm ầm ầm", "XD"),
    ("công trình bên cạnh đổ bê tông ầm ầm đến nửa đêm", "TO"),
    ("con chó chết trôi dưới kênh bốc mùi hôi thối", "VSMT"),
    ("người ta đốt rác suốt ngày khói bay vào khu dân cư", "ONMT"),
    ("băng rôn quảng cáo dán đầy cột điện gốc cây", "TTDT"),
    ("xe ô tô tông vào người đi bộ rồi bỏ chạy", "GT-TT"),
    ("xe máy đi ngược chiều trên phố", "GT-TT"),
    ("xe buýt số ba hai bỏ bến", "VTCC"),
    ("đèn đường không sáng cả tuần nay", "CS"),
    ("cây đổ chắn ngang đường", "CX"),
    ("cành cây to sắp gãy", "CX"),
    ("phố bị ngập sâu sau mưa", "TN"),
    ("cống bị tắc nước tràn lên", "TN"),
    ("nhà tôi mất nước từ sáng", "NUOC"),
    ("mất điện từ sáng đến giờ", "DIEN"),
    ("dây điện bị đứt", "DIEN"),
    ("dây cáp viễn thông chằng chịt", "VT"),
    ("nhà tôi bị trộm xe máy", "ANTT"),
    ("có một nhóm thanh niên đánh nhau", "ANTT"),
    ("có cháy ở tầng ba", resolve_code("PCCC")),
    ("ngộ độc thực phẩm sau khi ăn ở quán", "ATTP"),
    ("trường học thu tiền học thêm", "GD"),
    ("hàng xóm xây dựng trái phép", "XD"),
    ("nhà máy xả khói bụi ô nhiễm", "ONMT"),
    ("hồ sơ của tôi trễ hẹn cả tháng", "HCC"),
    ("công ty nợ lương công nhân", "LĐXH"),
    ("cửa hàng bán hàng giả", "KDTM"),
    ("cán bộ phường nhũng nhiễu đòi tiền", "CBCC"),
    ("tôi muốn khiếu nại quyết định thu hồi", "KNTC"),
    ("tranh chấp đất với nhà bên cạnh", "DD"),
    ("có dịch sốt xuất huyết ở khu tôi", "YT"),
]


@pytest.mark.parametrize(("text", "code"), CATEGORIES)
def test_classify_category(text: str, code: str) -> None:
    assert classify_category(text) == code


@pytest.mark.parametrize(
    "text", ["xin chào", "vâng đúng rồi", "số điện thoại của tôi là không chín", "đường", "tôi yêu cầu", ""]
)
def test_classify_category_needs_a_clear_signal(text: str) -> None:
    assert classify_category(text) is None


def test_lexicon_covers_every_category_with_known_codes() -> None:
    known = set(categories())
    codes = {code for code, _, _ in lexicon() if code != "-"}
    assert known <= codes
    assert all(resolve_code(c) in known for c in codes)


URGENT = [
    ("có cháy ở chung cư", "fire"),
    ("nhà bên cạnh đang bốc khói đen", "fire"),
    ("có tai nạn ở ngã tư", "accident"),
    ("hai xe máy va chạm", "accident"),
    ("có người bị thương chảy máu nhiều", "injury"),
    ("có trộm đang cạy cửa nhà hàng xóm", "crime_in_progress"),
    ("tôi vừa bị cướp giật điện thoại", "crime_in_progress"),
    ("dây điện đứt rơi xuống đường", "live_wire"),
    ("trẻ con bị điện giật", "live_wire"),
    ("mất nắp cống ở đầu ngõ", "open_manhole"),
    ("hố ga hở giữa đường rất nguy hiểm", "open_manhole"),
    ("nước dâng cao ngập sâu", "flood_danger"),
    ("nhà sắp sập", "collapse"),
    ("không may bị tai nạn", "accident"),
    ("phòng bên cạnh bị rò rỉ khí ga mùi nồng nặc", "fire"),
    ("cây gãy đè lên một người đi xe máy", "collapse"),
    ("hai đứa nhỏ kẹt trên gác hổng ra được", "flood_danger"),
    ("cột điện bị đổ dây điện nằm dưới đất", "live_wire"),
    ("nắp hố ga trên vỉa hè ở phường việt hưng bị vỡ hở một lỗ lớn", "open_manhole"),
    ("tôi vừa bị hai thằng đi xe máy giật điện thoại", "crime_in_progress"),
]


@pytest.mark.parametrize(("text", "reason"), URGENT)
def test_detect_urgency(text: str, reason: str) -> None:
    assert detect_urgency(text) == (True, reason)


@pytest.mark.parametrize(
    "text",
    [
        "quán karaoke hát to",
        "kiểm tra phòng cháy chữa cháy",
        "bình cứu hỏa hết hạn",
        "nhà tôi bị trộm xe hôm qua",
        "không có ai bị thương",
        "đám cháy đã dập tắt",
        "lũ trẻ con chơi ngoài đường",
        "vỉa hè bị lấn chiếm",
        "sập cầu dao điện",
        "bà cụ đi xe đạp bị sập vào ổ gà",
        "xưởng nhựa đốt rác khói đen mùi khét lẹt",
        "đèn tín hiệu hỏng các hướng nhấp nháy vàng rất dễ va chạm",
        "tuần vừa rồi nhà tôi bị trộm mất xe máy",
        "nắp cống vẫn còn không bị vỡ",
        "",
    ],
)
def test_not_urgent(text: str) -> None:
    assert detect_urgency(text) == (False, "")


EXTRACT = [
    (
        "tôi tên là nguyễn văn an số điện thoại không chín một hai ba bốn năm sáu bảy tám tôi muốn phản ánh "
        "có người đổ trộm rác ở phường hoàn kiếm tối hôm qua lúc chín giờ",
        {
            "name": "Nguyễn Văn An",
            "phone": "0912345678",
            "ward": "Phường Hoàn Kiếm",
            "time": "2026-11-21T21:00",
            "category": "VSMT",
        },
    ),
    (
        "có cháy ở phường cầu giấy",
        {"ward": "Phường Cầu Giấy", "category": resolve_code("PCCC"), "urgent": "true"},
    ),
    (
        "mã hồ sơ của tôi là hát hai sáu gạch hai sáu không chín ba mươi gạch không không mười hai",
        {"dossier_code": "H26-260930-0012"},
    ),
    (
        "căn cước của tôi là không không một không tám chín không không một hai ba bốn",
        {"cccd": "001089001234"},
    ),
    ("mất nắp cống ở đầu ngõ nguy hiểm lắm", {"category": "GT-HT", "urgent": "true"}),
    ("quán karaoke hát ầm ĩ từ mười giờ tối", {"category": "TO", "time": "2026-11-22T22:00"}),
    ("vâng đúng rồi", {}),
    ("không phải", {}),
    ("cho tôi gặp tổng đài viên", {}),
    ("xin chào", {}),
    ("cảm ơn tạm biệt", {}),
    ("số của em là không ba tám tám chín chín bảy bảy sáu sáu", {"phone": "0388997766"}),
    # a typed dossier code holds no date or time of day
    ("Tôi muốn kiểm tra hồ sơ 000.00.12.H26-260929-0045 ạ.", {"dossier_code": "000.00.12.H26-260929-0045"}),
    # a time of day alone, later than now, was yesterday's (NOW is 22:05)
    ("karaoke hát từ mười một giờ rưỡi đêm", {"category": "TO", "time": "2026-11-21T23:30"}),
    ("karaoke hát từ mười một giờ đêm", {"category": "TO", "time": "2026-11-22T23:00"}),  # within slack
    ("dạ tui tên lê văn tư", {"name": "Lê Văn Tư"}),
    ("Tôi tên Bùi Văn Hải, CCCD 036079005512.", {"name": "Bùi Văn Hải", "cccd": "036079005512"}),
    ("tra hồ sơ đứng tên nguyễn văn thắng giúp tôi", {"name": "Nguyễn Văn Thắng"}),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACT)
def test_extract_entities(text: str, expected: dict[str, str]) -> None:
    assert extract_entities(text, NOW) == expected


def test_extract_entities_category_only_for_reports() -> None:
    text = "tôi muốn hỏi thủ tục cấp lại hồ sơ"
    assert "category" not in extract_entities(text, NOW, intent="procedure_question")
    assert extract_entities("rác thải đầy đường", NOW, intent="report")["category"] == "VSMT"


def test_extract_entities_uses_the_configured_city() -> None:
    assert extract_entities("ở xã an khánh", NOW, city="haiphong")["ward"] == "Xã An Khánh"
    assert extract_entities("ở phường ninh kiều", NOW, city="cantho")["ward"] == "Phường Ninh Kiều"


_SYLL = [
    "tôi", "tên", "là", "nguyễn", "văn", "an", "số", "không", "chín", "một", "hai", "ba", "phường", "xã",
    "hoàn", "kiếm", "cháy", "rác", "tối", "qua", "giờ", "hát", "gạch", "mươi", "trăm", "ở", "đang", "bị",
    "thương", "dây", "điện", "đứt", "ngày", "tháng", "thứ", "cầu", "giấy", "sóc", "sơn", "ạ",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SYLL), max_size=25))
def test_extract_entities_fuzz(words: list[str]) -> None:
    out = extract_entities(" ".join(words), NOW)
    assert set(out) <= {"name", "phone", "cccd", "dossier_code", "ward", "time", "category", "urgent"}
    if "phone" in out:
        assert out["phone"].isdigit()
    if "cccd" in out:
        assert len(out["cccd"]) == 12
    if "category" in out:
        assert out["category"] in categories()
    if "urgent" in out:
        assert out["urgent"] == "true"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_extract_entities_never_crashes(text: str) -> None:
    extract_entities(text, NOW)
    detect_urgency(text)
    classify_category(text)


def test_an_id_number_named_as_such_needs_only_shape_and_province() -> None:
    # birth-year digits say 2062: not a plausible card on its own, but the caller calls it their CCCD
    said = "số căn cước công dân là không bốn không ba sáu hai ba không bốn một hai tám"
    assert extract_entities(said, NOW) == {"cccd": "040362304128"}
    assert "cccd" not in extract_entities("không bốn không ba sáu hai ba không bốn một hai tám", NOW)
    bad_province = "số căn cước là không không ba ba sáu hai ba không bốn một hai tám"  # 003: no such code
    assert "cccd" not in extract_entities(bad_province, NOW)


def test_ward_after_ben() -> None:
    assert extract_entities("bên thới long", NOW, city="cantho") == {"ward": "Phường Thới Long"}


def test_one_syllable_ward_closing_the_utterance() -> None:
    assert extract_entities("đường bị sụt một hố sâu tại láng", NOW)["ward"] == "Phường Láng"
    assert "ward" not in extract_entities("tôi ở láng giềng", NOW)
