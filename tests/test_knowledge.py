"""The procedure knowledge base: the shipped data is complete, and retrieval finds what callers ask."""

from __future__ import annotations

import json

import pytest

from nlu.dialogue.prompts import render
from nlu.knowledge import ProcedureIndex, default_index, load_procedures
from nlu.knowledge.procedures import parse_procedures
from nlu.knowledge.search import fold

REQUIRED_TOPICS = {
    "khai_sinh",
    "thuong_tru",
    "ket_hon",
    "chung_thuc",
    "ly_lich_tu_phap",
    "giay_phep_xay_dung",
    "ho_kinh_doanh",
    "doi_gplx",
    "can_cuoc",
    "dang_ky_xe",
}


def test_shipped_base_has_the_common_procedures_with_every_field() -> None:
    procs = load_procedures()
    assert len(procs) >= 10
    assert {p.id for p in procs} >= REQUIRED_TOPICS
    for p in procs:
        assert p.documents and p.where and p.time_limit and p.fee, p.id
        assert p.basis and p.certainty, p.id  # every entry says where it comes from and how sure it is


def test_answers_render_for_every_procedure() -> None:
    for p in load_procedures():
        text = render("procedure_answer", p=p)
        assert p.name in text and "Lệ phí" in text and "\n" not in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tôi muốn làm giấy khai sinh cho con", "khai_sinh"),
        ("khai xinh cho cháu", "khai_sinh"),  # ASR slip on a tone
        ("bố tôi mất làm giấy báo tử", "khai_tu"),
        ("cho hỏi thủ tục đăng ký kết hôn", "ket_hon"),
        ("kết hôn với người nước ngoài", "ket_hon"),
        ("xác nhận độc thân để đi làm", "xac_nhan_hon_nhan"),
        ("nhập hộ khẩu cho vợ thì cần gì", "thuong_tru"),
        ("đăng ký thường trú", "thuong_tru"),
        ("đăng ký tạm trú cho người thuê trọ", "tam_tru"),
        ("tôi cần công chứng mấy giấy tờ", "chung_thuc"),
        ("xin lý lịch tư pháp ở đâu", "ly_lich_tu_phap"),
        ("xây nhà có cần xin phép không", "giay_phep_xay_dung"),
        ("mở cửa hàng tạp hóa thì đăng ký thế nào", "ho_kinh_doanh"),
        ("bằng lái xe của tôi hết hạn", "doi_gplx"),
        ("đổi bằng lái", "doi_gplx"),
        ("tôi bị mất căn cước", "can_cuoc"),
        ("làm căn cước công dân cho con mười bốn tuổi", "can_cuoc"),
        ("mua xe máy mới đăng ký biển số", "dang_ky_xe"),
        ("sang tên xe máy", "dang_ky_xe"),
    ],
)
def test_retrieval_finds_the_procedure(query: str, expected: str) -> None:
    found = default_index().best(query)
    assert found is not None and found.id == expected


@pytest.mark.parametrize(
    "query",
    [
        "cho tôi hỏi về đăng ký",  # ambiguous
        "tôi muốn hỏi thủ tục",
        "thủ tục xin trợ cấp thất nghiệp",
        "thủ tục nhận con nuôi",
        "hộ chiếu làm ở đâu",
        "",
    ],
)
def test_unknown_or_vague_questions_find_nothing(query: str) -> None:
    assert default_index().best(query) is None


def test_fold_removes_diacritics_and_punctuation() -> None:
    assert fold("Đăng ký KẾT HÔN!") == "dang ky ket hon"


def test_parse_rejects_missing_fields_and_duplicates() -> None:
    row = {
        "id": "x",
        "name": "X",
        "aliases": ["x"],
        "documents": ["a"],
        "where": "w",
        "time_limit": "t",
        "fee": "f",
    }
    assert parse_procedures(json.dumps({"procedures": [row]}))[0].id == "x"
    with pytest.raises(ValueError, match="lacks fee"):
        parse_procedures(json.dumps({"procedures": [{**row, "fee": ""}]}))
    with pytest.raises(ValueError, match="duplicate"):
        parse_procedures(json.dumps({"procedures": [row, row]}))


def test_custom_index_threshold() -> None:
    strict = ProcedureIndex(load_procedures(), threshold=99.5)
    assert strict.best("khai xinh cho cháu") is None
    assert strict.get("ket_hon").name == "Đăng ký kết hôn"
