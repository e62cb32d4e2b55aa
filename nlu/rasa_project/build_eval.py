"""Build the evaluation set ``nlu/data/eval/hotline_eval.jsonl`` (seeded, deterministic).

Its phrasings are written separately from ``generate.py`` (training) so the two stay disjoint; the
gold values are computed here from the generated values (digits, official ward names, dates relative
to each line's "now"), never by the normalisers under test.
Run: ``.venv/bin/python -m nlu.rasa_project.build_eval``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from nlu.rasa_project.vocab import (
    random_cccd,
    random_dossier_tail,
    random_name,
    random_phone,
    spoken_digits,
    ward_mention,
)

SEED = 1022
OUT = Path(__file__).resolve().parents[1] / "data" / "eval" / "hotline_eval.jsonl"

# (problem phrasing, category code) - different wording from the training data.
PROBLEMS: list[tuple[str, str]] = [
    ("vỉa hè bị các quán ăn chiếm hết người đi bộ phải xuống lòng đường", "TTDT"),
    ("người bán hoa quả bày hàng lấn chiếm cả lòng đường", "TTDT"),
    ("nhà số mười lăm đang xây thêm tầng không phép", "XD"),
    ("công trình xây dựng trái phép ngay đầu ngõ", "XD"),
    ("bãi rác tự phát bốc mùi hôi thối", "VSMT"),
    ("xe rác không đến thu gom cả tuần nay", "VSMT"),
    ("xưởng nhựa xả khói đen gây ô nhiễm cả khu dân cư", "ONMT"),
    ("nước thải từ nhà máy chảy ra sông đen ngòm", "ONMT"),
    ("nhà hàng xóm hát karaoke ầm ĩ không ngủ được", "TO"),
    ("quán bar mở nhạc quá to lúc nửa đêm", "TO"),
    ("đoạn đường bị sụt một hố sâu", "GT-HT"),
    ("ổ gà to giữa đường nhiều người ngã xe", "GT-HT"),
    ("đường tắc cứng không nhúc nhích được", "GT-TT"),
    ("ô tô đi ngược chiều trên phố một chiều", "GT-TT"),
    ("xe buýt số ba hai bỏ bến không đón khách", "VTCC"),
    ("cả tuyến phố đèn đường không sáng", "CS"),
    ("đèn chiếu sáng công cộng hỏng tối om", "CS"),
    ("cây xanh bị bật gốc đổ ra đường", "CX"),
    ("cành cây gãy treo lơ lửng trên đầu người đi đường", "CX"),
    ("mưa to ngập hết cả phố nước vào tận nhà", "TN"),
    ("cống thoát nước tắc bốc mùi", "TN"),
    ("khu tôi bị cắt nước hai hôm rồi", "NUOC"),
    ("nước sinh hoạt đục và có cặn", "NUOC"),
    ("khu phố mất điện cả buổi tối", "DIEN"),
    ("công tơ điện chạy nhanh bất thường", "DIEN"),
    ("dây cáp mạng rủ xuống thấp vướng vào xe", "VT"),
    ("có nhóm thanh niên tụ tập đánh nhau", "ANTT"),
    ("có kẻ gian lấy trộm xe máy trước cửa nhà", "ANTT"),
    ("bệnh viện huyện để bệnh nhân chờ cả buổi", "YT"),
    ("nhiều người trong xóm bị sốt xuất huyết", "YT"),
    ("quán cơm dùng thực phẩm ôi thiu", "ATTP"),
    ("mấy đứa trẻ bị ngộ độc sau khi ăn ở căng tin", "ATTP"),
    ("trường thu tiền học thêm bắt buộc", "GD"),
    ("nhà bên lấn sang đất của gia đình tôi", "DD"),
    ("xin cấp sổ đỏ hai năm chưa được", "DD"),
    ("nộp hồ sơ ở bộ phận một cửa quá hạn chưa trả kết quả", "HCC"),
    ("công ty không trả lương cho công nhân", "LĐXH"),
    ("mẹ tôi chưa được nhận tiền trợ cấp xã hội", "LĐXH"),
    ("cửa hàng bán mỹ phẩm giả", "KDTM"),
    ("biển quảng cáo dán tràn lan trên tường nhà dân", "VHDL"),
    ("mương tưới tiêu bị tắc lúa không có nước", "NN"),
    ("cán bộ ủy ban thái độ hách dịch với dân", "CBCC"),
    ("tôi đề xuất làm thêm sân chơi cho thiếu nhi", "KHAC"),
    ("lối thoát hiểm của chung cư bị khóa trái", "PCCC"),
    ("kho chứa xăng dầu trái phép giữa khu dân cư", "PCCC"),
]
URGENT: list[tuple[str, str]] = [
    ("đang có cháy lớn ở dãy nhà bên cạnh", "PCCC"),
    ("có vụ tai nạn ô tô đâm xe máy người bị thương", "GT-TT"),
    ("dây điện bị đứt đang phát lửa trên vỉa hè", "DIEN"),
    ("có kẻ trộm đang leo vào nhà", "ANTT"),
]
REPORT_FRAMES = [
    "tôi gọi báo {p}",
    "cho tôi phản ánh là {p} ở {w}",
    "ở {w} {p} {t}",
    "{p} từ {t} rồi",
    "dạ em ở {w} {p}",
    "tổng đài ơi {p} tại {w}",
    "{p} nhờ các anh xử lý",
    "mình muốn phản ánh {p}",
]

PROCEDURES = [
    "cấp lại giấy khai sinh",
    "làm thủ tục đăng ký kết hôn",
    "chuyển hộ khẩu thường trú",
    "chứng thực chữ ký",
    "xin phiếu lý lịch tư pháp",
    "cấp phép xây nhà",
    "mở hộ kinh doanh cá thể",
    "đổi bằng lái xe",
    "làm thẻ căn cước cho con",
    "đăng ký xe ô tô mới",
]
PROCEDURE_FRAMES = [
    "muốn {x} thì chuẩn bị giấy tờ gì",
    "{x} lệ phí hết bao nhiêu vậy",
    "xin hỏi {x} nộp hồ sơ ở chỗ nào",
    "{x} thì mấy ngày có kết quả",
]
DOSSIER_FRAMES = [
    "tôi cần tra hồ sơ mã {c}",
    "hồ sơ số {c} của tôi giải quyết chưa",
    "xem giúp hồ sơ có mã {c}",
    "kiểm tra tiến độ hồ sơ {c} giúp em",
]
OPERATOR = [
    "nối máy cho tôi gặp người trực",
    "cho tôi nói chuyện với tổng đài viên được không",
    "tôi muốn gặp nhân viên chứ không muốn nói với máy",
    "làm ơn chuyển máy cho cán bộ trực",
    "gặp người thật giúp tôi",
    "bạn chuyển cho tôi gặp điện thoại viên nhé",
    "tôi cần nói chuyện trực tiếp với người",
    "cho gặp tổng đài viên đi",
]
COMPLAINT = [
    "tôi muốn làm đơn khiếu nại về việc thu hồi đất nhà tôi",
    "tôi gọi để tố cáo cán bộ xã nhận tiền",
    "khiếu nại quyết định xử phạt của phường",
    "tôi cần tố cáo hành vi tham nhũng",
    "gia đình tôi khiếu nại về tiền bồi thường",
    "tôi muốn tố cáo chủ tịch xã làm sai",
    "tôi nộp đơn khiếu nại ở đâu",
    "tôi tố cáo cán bộ địa chính",
]
AFFIRM = [
    "dạ đúng rồi ạ",
    "ừ chính nó",
    "đúng thông tin rồi",
    "vâng đúng",
    "phải đấy",
    "ừ đúng vậy",
    "đúng hết rồi",
    "chính xác rồi",
]
DENY = [
    "không đúng đâu",
    "sai rồi bạn ơi",
    "không phải ạ",
    "nhầm rồi em ơi",
    "chưa đúng lắm",
    "không phải cái đó",
    "sai mất rồi",
    "không không phải",
]
GREET = [
    "alo chào tổng đài",
    "dạ alo em chào chị",
    "xin chào tổng đài ạ",
    "alo chào bạn",
    "chào tổng đài nhé",
    "alo ai đấy ạ",
    "alo xin chào ạ",
    "chào anh chị",
]
GOODBYE = [
    "thôi cảm ơn bạn nhé",
    "cảm ơn tổng đài nhiều",
    "vậy thôi chào bạn",
    "tạm biệt tổng đài",
    "cảm ơn chào nhé",
    "được rồi cảm ơn chị",
    "thế nhé tạm biệt",
    "cảm ơn em nhiều nhé",
]


def _times(now: datetime) -> list[tuple[str, str]]:
    """(spoken time, ISO value) pairs computed from ``now``."""
    yesterday = (now - timedelta(days=1)).date()
    today = now.date()
    return [
        ("tám giờ tối hôm qua", f"{yesterday}T20:00"),
        ("khoảng mười giờ đêm hôm qua", f"{yesterday}T22:00"),
        ("sáng nay lúc sáu giờ", f"{today}T06:00"),
        ("hôm qua", f"{yesterday}"),
        ("hôm kia", f"{today - timedelta(days=2)}"),
        ("cách đây hai mươi phút", (now - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")),
        (f"ngày mười tháng {_month_words(today.month)}", f"{today.replace(day=10)}"),
        ("thứ bảy tuần trước", f"{_saturday_last_week(today)}"),
    ]


def _month_words(month: int) -> str:
    words = ["một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai"]
    return words[month - 1]


def _saturday_last_week(today: date) -> date:
    monday_this_week = today - timedelta(days=today.weekday())
    return monday_this_week - timedelta(days=2)


def _title(name: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in name.split())


Row = dict[str, object]


def build(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    nows = [datetime(2026, 11, 23, 10, 0), datetime(2026, 11, 20, 15, 30), datetime(2027, 1, 14, 9, 15)]

    def add(text: str, intent: str, entities: dict[str, str], now: datetime) -> None:
        rows.append(
            {"text": text, "intent": intent, "entities": entities, "now": now.isoformat(timespec="minutes")}
        )

    for problem, code in PROBLEMS:
        for frame in rng.sample(REPORT_FRAMES, 4):
            now = rng.choice(nows)
            spoken_t, iso = rng.choice(_times(now))
            spoken_w, ward = ward_mention(rng, "hanoi")
            ents = {"category": code}
            if "{w}" in frame:
                ents["ward"] = ward
            if "{t}" in frame:
                ents["time"] = iso
            add(frame.format(p=problem, w=spoken_w, t=spoken_t), "report", ents, now)
    for problem, code in URGENT:
        for frame in ("{p} ở {w}", "cứu với {p}", "nhanh lên {p}"):
            spoken_w, ward = ward_mention(rng)
            ents = {"category": code, "urgent": "true"}
            if "{w}" in frame:
                ents["ward"] = ward
            add(frame.format(p=problem, w=spoken_w), "report", ents, nows[0])
    for frame in DOSSIER_FRAMES:
        for _ in range(4):
            tail = random_dossier_tail(rng)
            if rng.random() < 0.3:
                code = f"H26-{tail[:6]}-{tail[6:]}"
                spoken = "h hai sáu " + spoken_digits(tail, rng)
            else:
                code, spoken = tail, spoken_digits(tail, rng)
            add(frame.format(c=spoken), "dossier_lookup", {"dossier_code": code}, nows[0])
    add("tôi muốn biết hồ sơ đã nộp bao giờ xong", "dossier_lookup", {}, nows[0])
    add("cho hỏi hồ sơ của tôi đang ở bước nào rồi", "dossier_lookup", {}, nows[0])
    for proc in PROCEDURES:
        for frame in rng.sample(PROCEDURE_FRAMES, 2):
            add(frame.format(x=proc), "procedure_question", {}, nows[0])
    for text in OPERATOR:
        add(text, "request_operator", {}, nows[0])
    for text in COMPLAINT:
        add(text, "complaint_denunciation", {}, nows[0])
    for intent, texts in (("affirm", AFFIRM), ("deny", DENY), ("greet", GREET), ("goodbye", GOODBYE)):
        for text in texts:
            add(text, intent, {}, nows[0])
    rows.extend(_informs(rng, nows))
    return rows


def _informs(rng: random.Random, nows: list[datetime]) -> list[Row]:
    out: list[Row] = []
    makers: list[Callable[[], tuple[str, dict[str, str]]]] = []

    def name() -> tuple[str, dict[str, str]]:
        n = random_name(rng)
        frame = rng.choice(["dạ tôi tên {n}", "tên của tôi là {n}", "họ tên tôi là {n} ạ", "tôi là {n} nhé"])
        return frame.format(n=n), {"name": _title(n)}

    def phone() -> tuple[str, dict[str, str]]:
        p = random_phone(rng)
        frame = rng.choice(
            ["số tôi là {p}", "bạn ghi số {p}", "số di động của tôi {p}", "liên hệ qua số {p} nhé"]
        )
        return frame.format(p=spoken_digits(p, rng)), {"phone": p}

    def cccd() -> tuple[str, dict[str, str]]:
        c = random_cccd(rng)
        frame = rng.choice(["căn cước của tôi số {c}", "số căn cước công dân là {c}", "mã định danh {c}"])
        return frame.format(c=spoken_digits(c, rng)), {"cccd": c}

    def ward() -> tuple[str, dict[str, str]]:
        spoken, official = ward_mention(rng, rng.choice(("hanoi", "hanoi", "haiphong", "cantho")))
        frame = rng.choice(["chỗ đó ở {w}", "thuộc {w} ạ", "nhà tôi thuộc {w}", "dạ {w}", "bên {w}"])
        return frame.format(w=spoken), {"ward": official}

    def when() -> tuple[str, dict[str, str]]:
        now = nows[0]
        spoken, iso = rng.choice(_times(now))
        frame = rng.choice(["chuyện đó xảy ra {t}", "khoảng {t} ấy", "bắt đầu từ {t}", "{t} thì phải"])
        return frame.format(t=spoken), {"time": iso}

    def combo() -> tuple[str, dict[str, str]]:
        n, p = random_name(rng), random_phone(rng)
        return f"tôi là {n} số điện thoại {spoken_digits(p, rng)}", {"name": _title(n), "phone": p}

    makers = [name, phone, cccd, ward, when, combo]
    for make in makers:
        for _ in range(10):
            text, ents = make()
            out.append(
                {
                    "text": text,
                    "intent": "inform",
                    "entities": ents,
                    "now": nows[0].isoformat(timespec="minutes"),
                }
            )
    return out


def main() -> None:
    rng = random.Random(SEED)
    rows = build(rng)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} lines to {OUT}")


if __name__ == "__main__":
    main()
