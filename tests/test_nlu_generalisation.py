"""Held-out behaviour of the NLU: the hand-written evaluation set (shape, coverage, disjoint from the
training data), the fallback's scores on it, and the general rules it exercises (garbled turns are not
understood, bare answers, hesitations inside numbers, vague or street-name dates, hypothetical dangers,
text without diacritics)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from nlu.evaluation import parse_lines
from nlu.interpreter import INTENTS, SLOT_KEYS, FallbackInterpreter, interpretation_from_rasa
from nlu.normalize import extract_entities, normalize_cccd, normalize_phone, normalize_time
from nlu.normalize.category import classify_category
from nlu.normalize.phone import is_valid_vn_number
from nlu.normalize.text import has_vietnamese_signal
from nlu.normalize.urgency import detect_urgency
from reference import CITIES, categories, units

ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = ROOT / "nlu" / "data" / "eval" / "handwritten_eval.jsonl"
GENERATED = ROOT / "nlu" / "data" / "eval" / "hotline_eval.jsonl"
INDEPENDENT = [GENERATED.with_name(f"independent_{x}.jsonl") for x in "abc"]
TRAIN_FILE = ROOT / "nlu" / "rasa_project" / "data" / "nlu.yml"
NOW = datetime(2026, 11, 23, 10, 0)
# What the dialogue engine needs to act on an intent (nlu.dialogue.engine min_nlu_confidence).
UNDERSTOOD = 0.4


def _examples() -> list:  # type: ignore[type-arg]
    return parse_lines(HANDWRITTEN.read_text(encoding="utf-8").splitlines())


def _training_texts() -> set[str]:
    train = set()
    for line in TRAIN_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("    - "):
            train.add(re.sub(r"\[([^\]]+)\]\(\w+\)", r"\1", line[6:]).strip())
    return train


@pytest.mark.parametrize("path", INDEPENDENT, ids=lambda p: p.stem)
def test_independent_sets_are_well_formed(path: Path) -> None:
    examples = parse_lines(path.read_text(encoding="utf-8").splitlines())
    assert len(examples) >= 200 and {ex.intent for ex in examples} == set(INTENTS)
    known_wards = {u.name for city in CITIES for u in units(city)}
    for ex in examples:
        assert ex.now is not None and set(ex.entities) <= set(SLOT_KEYS)
        assert ex.entities.get("category", "KNTC") in categories()
        assert ex.entities.get("ward", "Phường Hoàn Kiếm") in known_wards, ex.entities
        if "phone" in ex.entities:
            assert is_valid_vn_number(ex.entities["phone"])


def test_handwritten_set_shape_and_coverage() -> None:
    examples = _examples()
    assert len(examples) >= 200
    assert {ex.intent for ex in examples} == set(INTENTS)
    assert {k for ex in examples for k in ex.entities} == set(SLOT_KEYS)
    cats = {ex.entities["category"] for ex in examples if "category" in ex.entities}
    assert cats <= set(categories()) and len(cats) >= 0.8 * len(categories())
    assert len({ex.now for ex in examples}) >= 5
    wards = {ex.entities["ward"] for ex in examples if "ward" in ex.entities}
    for city in CITIES:
        assert wards & {u.name for u in units(city)}, f"no ward of {city}"
    for ex in examples:
        assert ex.now is not None
        assert ex.text == ex.text.lower() and not re.search(r"[.,?!]", ex.text)
        if "phone" in ex.entities:
            assert is_valid_vn_number(ex.entities["phone"])
        if "cccd" in ex.entities:
            assert normalize_cccd(ex.entities["cccd"], ex.now.year) == ex.entities["cccd"]
        if "time" in ex.entities:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d)?", ex.entities["time"])


def test_both_eval_sets_are_disjoint_from_training() -> None:
    train = _training_texts()
    assert len(train) > 1000
    for path in (HANDWRITTEN, GENERATED, *INDEPENDENT):
        texts = {ex.text for ex in parse_lines(path.read_text(encoding="utf-8").splitlines())}
        assert not (train & texts), path.name


@pytest.mark.parametrize("path", [HANDWRITTEN, *INDEPENDENT], ids=lambda p: p.stem)
def test_fallback_on_sets_never_trained_on_meets_the_contract(path: Path) -> None:
    result = CliRunner().invoke(main, ["nlu", "eval", "--backend", "fallback", str(path)])
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    lines = parse_lines(path.read_text(encoding="utf-8").splitlines())
    assert last["backend"] == "fallback" and last["n"] == len(lines)
    assert last["intent_accuracy"] >= 0.90
    assert last["slot_f1"] >= 0.85


# --- turns without Vietnamese are not understood ---------------------------------------------------

GARBLED = [
    "노모리 편이다 결여 비용과 비행",
    "그래서 이게 뭐 하는 거예요 지금",
    "the quick brown fox jumps over",
]


@pytest.mark.parametrize("text", GARBLED)
def test_fallback_does_not_understand_text_without_vietnamese(text: str) -> None:
    assert not has_vietnamese_signal(text)
    result = FallbackInterpreter().interpret(text, NOW)
    assert result.confidence < UNDERSTOOD
    assert result.intent != "report" and result.entities == {}


def test_rasa_answer_for_a_garbled_turn_is_not_understood() -> None:
    body = {"intent": {"name": "report", "confidence": 0.93}, "entities": []}
    result = interpretation_from_rasa(body, GARBLED[0], NOW, "hanoi")
    assert result.confidence < UNDERSTOOD and result.entities == {}
    vietnamese = interpretation_from_rasa(body, "rác ở đầu ngõ không ai thu gom", NOW, "hanoi")
    assert vietnamese.intent == "report" and vietnamese.confidence == 0.93


@pytest.mark.parametrize("text", ["alo", "ok em", "dzạ đúng", "rac thai chat dong o dau ngo", "cccd của tôi"])
def test_vietnamese_with_loanwords_or_no_diacritics_has_signal(text: str) -> None:
    assert has_vietnamese_signal(text)


# --- bare answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ward"),
    [
        ("bên kiến an", "Phường Kiến An"),
        ("dạ bên phường lê chân ạ", "Phường Lê Chân"),
        ("ở bên cái răng á", "Phường Cái Răng"),
        ("ở xuân phương", "Phường Xuân Phương"),
    ],
)
def test_bare_ward_answers_are_inform_without_a_name(text: str, ward: str) -> None:
    result = FallbackInterpreter().interpret(text, NOW)
    assert result.intent == "inform"
    assert result.entities == {"ward": ward}


def test_rasa_name_made_of_the_ward_words_is_dropped() -> None:
    body = {
        "intent": {"name": "inform", "confidence": 0.9},
        "entities": [{"entity": "name", "value": "xuân phương"}],
    }
    assert interpretation_from_rasa(body, "ở xuân phương", NOW, "hanoi").entities == {
        "ward": "Phường Xuân Phương"
    }


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("dạ nguyễn thị hoa ạ", "Nguyễn Thị Hoa"),
        ("ờ trịnh văn quyết", "Trịnh Văn Quyết"),
        ("họ tên đầy đủ của tôi là đào thị bích ngọc", "Đào Thị Bích Ngọc"),
        ("chị tên hằng", "Hằng"),
    ],
)
def test_names_said_alone_or_after_a_long_lead_in(text: str, name: str) -> None:
    assert extract_entities(text, NOW).get("name") == name


@pytest.mark.parametrize("text", ["hồ sơ gì vậy", "nhà em họ xây lấn sang", "hà đông"])
def test_ordinary_words_are_not_names(text: str) -> None:
    assert "name" not in extract_entities(text, NOW)


# --- numbers, dates, dangers, categories -----------------------------------------------------------


def test_digit_groups_separated_by_hesitations_are_one_number() -> None:
    assert normalize_phone("không chín tám ờ một hai ba ờ bốn năm sáu bảy") == "0981234567"
    assert normalize_cccd("không ba một ừm một tám tám không không sáu bảy tám chín", 2026) == "031188006789"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("mấy hôm nay rác không ai thu", None),
        ("mấy tối nay có người lạ", None),
        ("nợ lương hai tháng nay rồi", None),
        ("ổ gà ở đường ba tháng hai", None),
        ("mã hai sáu mười hai không năm không không tám tám giờ tới đâu rồi", None),
        ("cách đây khoảng mười phút", "2026-11-23T09:50"),
        ("hôm mười lăm tháng này", "2026-11-15"),
    ],
)
def test_vague_spans_and_street_names_are_not_times(text: str, value: str | None) -> None:
    assert normalize_time(text, NOW) == value


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("lỡ có cháy thì không có lối thoát", False),
        ("chứa nhiều bình ga sợ cháy nổ", False),
        ("xe suýt đâm vào con tôi", False),
        ("hàng xóm đang đánh vợ con", True),
        ("trong phòng đang cháy to", True),
    ],
)
def test_what_might_happen_is_not_urgent(text: str, urgent: bool) -> None:
    assert detect_urgency(text)[0] is urgent


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("rac thai chat dong o dau ngo", "VSMT"),
        ("mat dien ca khu pho", "DIEN"),
        ("thuộc xã thường tín ạ", None),  # diacritics present: no diacritic-free guessing
    ],
)
def test_categories_without_diacritics(text: str, code: str | None) -> None:
    assert classify_category(text) == code


def test_complaints_are_complaints_whatever_their_topic() -> None:
    """A complaint is not a report: its intent says what it is, and it carries no report category."""
    result = FallbackInterpreter().interpret("tôi có đơn khiếu nại về tiền đền bù đất", NOW)
    assert result.intent == "complaint_denunciation"
    assert "category" not in result.entities
    body = {"intent": {"name": "complaint_denunciation", "confidence": 0.9}, "entities": []}
    rasa = interpretation_from_rasa(body, "tôi tố cáo cán bộ địa chính nhận tiền làm sổ đỏ", NOW, "hanoi")
    assert rasa.intent == "complaint_denunciation" and "category" not in rasa.entities


@pytest.mark.parametrize("text", ["đồ sơn", "ở phường cầu giấy", "cách đây độ nửa tiếng"])
def test_rasa_answer_made_only_of_slot_values_is_inform(text: str) -> None:
    body = {"intent": {"name": "procedure_question", "confidence": 0.55}, "entities": []}
    result = interpretation_from_rasa(body, text, datetime(2027, 2, 18, 23, 10), "hanoi")
    assert result.intent == "inform" and result.confidence >= UNDERSTOOD and result.entities


def test_rasa_report_with_a_ward_stays_a_report() -> None:
    body = {"intent": {"name": "report", "confidence": 0.8}, "entities": []}
    result = interpretation_from_rasa(body, "rác ở phường láng không ai thu gom", NOW, "hanoi")
    assert result.intent == "report" and result.entities["ward"] == "Phường Láng"
