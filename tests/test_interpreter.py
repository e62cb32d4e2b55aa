"""Interpreters without Rasa: the rule-based fallback, and the resilient wrapper against a slow fake
server on a real socket and against a closed port (falls back, logs, recovers)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nlu.interpreter import FallbackInterpreter, RasaInterpreter, RasaUnavailable, ResilientInterpreter

NOW = datetime(2026, 11, 23, 10, 0)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("alo xin chào", "greet"),
        ("vâng đúng rồi", "affirm"),
        ("không phải", "deny"),
        ("thôi cảm ơn tạm biệt", "goodbye"),
        ("cho tôi gặp tổng đài viên", "request_operator"),
        ("tôi muốn tố cáo cán bộ phường", "complaint_denunciation"),
        ("làm giấy khai sinh cần những giấy tờ gì", "procedure_question"),
        ("tra cứu hồ sơ mã hai sáu một một hai không không không một hai", "dossier_lookup"),
        ("rác thải không được thu gom ở phường hoàn kiếm", "report"),
        ("tên tôi là nguyễn văn an", "inform"),
    ],
)
def test_fallback_intents(text: str, intent: str) -> None:
    result = FallbackInterpreter().interpret(text, NOW)
    assert result.intent == intent
    assert result.backend == "fallback"


def test_fallback_entities_are_normalised_values() -> None:
    result = FallbackInterpreter().interpret("cháy nhà ở xã sóc sơn lúc chín giờ tối qua", NOW)
    assert result.intent == "report"
    assert result.entities["ward"] == "Xã Sóc Sơn"
    assert result.entities["time"] == "2026-11-22T21:00"
    assert result.entities["urgent"] == "true"


class _Handler(BaseHTTPRequestHandler):
    delay_s = 0.0

    def do_POST(self) -> None:
        time.sleep(self.delay_s)
        length = int(self.headers.get("Content-Length", 0))
        text = json.loads(self.rfile.read(length))["text"]
        body = json.dumps(
            {"text": text, "intent": {"name": "greet", "confidence": 0.99}, "entities": []}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture()
def fake_server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {"delay_s": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_rasa_client_parses_a_server_answer(fake_server: tuple[str, type[_Handler]]) -> None:
    url, _ = fake_server
    result = RasaInterpreter(url, "t0ken", timeout_s=1.0).interpret("alo", NOW)
    assert (result.intent, result.backend) == ("greet", "rasa")


def test_slow_server_times_out_and_falls_back_with_a_log(
    fake_server: tuple[str, type[_Handler]], caplog: pytest.LogCaptureFixture
) -> None:
    url, handler = fake_server
    handler.delay_s = 1.0
    client = RasaInterpreter(url, "t0ken", timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(RasaUnavailable):
        client.interpret("alo", NOW)
    assert time.monotonic() - started < 0.9
    resilient = ResilientInterpreter(client, FallbackInterpreter())
    with caplog.at_level(logging.INFO, logger="nlu.interpreter"):
        result = resilient.interpret("cho tôi gặp tổng đài viên", NOW)
    assert result.backend == "fallback" and result.intent == "request_operator"
    assert resilient.degraded
    assert any(r.levelno == logging.WARNING and "fallback" in r.getMessage() for r in caplog.records)


def test_unreachable_server_falls_back_then_recovers(
    fake_server: tuple[str, type[_Handler]], caplog: pytest.LogCaptureFixture
) -> None:
    clock = [0.0]
    down = RasaInterpreter(f"http://127.0.0.1:{_closed_port()}", "t0ken", timeout_s=0.5)
    resilient = ResilientInterpreter(down, FallbackInterpreter(), retry_after_s=5.0, clock=lambda: clock[0])
    with caplog.at_level(logging.INFO, logger="nlu.interpreter"):
        assert resilient.interpret("alo", NOW).backend == "fallback"
        assert resilient.interpret("alo", NOW).backend == "fallback"  # within retry window: Rasa not tried
    assert sum("unavailable" in r.getMessage() for r in caplog.records) == 1
    assert sum("degraded" in r.getMessage() for r in caplog.records) == 2
    url, _ = fake_server
    resilient.primary = RasaInterpreter(url, "t0ken", timeout_s=1.0)
    assert resilient.interpret("alo", NOW).backend == "fallback"  # still inside the window
    clock[0] = 6.0
    assert resilient.interpret("alo", NOW).backend == "rasa"
    assert not resilient.degraded


def test_nlu_fallback_intent_maps_to_best_real_intent() -> None:
    from nlu.interpreter import interpretation_from_rasa

    body = {
        "intent": {"name": "nlu_fallback", "confidence": 0.7},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "deny", "confidence": 0.2}],
        "entities": [{"entity": "name", "value": "trần thị bình"}],
    }
    result = interpretation_from_rasa(body, "ừm", NOW, "hanoi")
    assert (result.intent, result.confidence) == ("deny", 0.2)
    assert result.entities.get("name") == "Trần Thị Bình"


@pytest.mark.parametrize(
    ("text", "model_intent", "expected"),
    [
        # the complaint words settle it whatever the model says
        ("em muốn tố cáo cán bộ một cửa đòi tiền mới làm nhanh hồ sơ", "report", "complaint_denunciation"),
        # a dossier's status asked about
        ("hồ sơ của tôi đang ở trạng thái nào vậy", "report", "dossier_lookup"),
        ("em ơi coi giùm chị cái hồ sơ mã hát hai sáu gạch hai sáu một không hai không gạch không không"
         " ba mốt", "inform", "dossier_lookup"),
        # a procedure asked about, with no report words
        ("thủ tục tách thửa đất thì làm như nào ạ nhà em muốn chia cho hai đứa con", "report",
         "procedure_question"),
        ("con tôi sinh ở hải phòng thì có đăng ký khai sinh ở phường bồ đề được không", "report",
         "procedure_question"),
        # a short closing
        ("dạ em không còn gì nữa đâu ạ em chào chị", "greet", "goodbye"),
        # no cue: the model's intent stands
        ("cống bị tắc nước tràn ra đường", "report", "report"),
        ("tôi muốn phản ánh thủ tục ở phường làm chậm quá", "report", "report"),  # report words
        ("alo chào tổng đài", "greet", "greet"),
    ],
)  # fmt: skip
def test_cues_that_settle_the_intent_override_the_model(text: str, model_intent: str, expected: str) -> None:
    from nlu.interpreter import interpretation_from_rasa

    body = {"intent": {"name": model_intent, "confidence": 0.9}, "entities": []}
    assert interpretation_from_rasa(body, text, NOW, "hanoi").intent == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("alo dạ chào em nhen", "greet"),
        ("xin chào tổng đài thành phố", "greet"),
        ("alo chào tổng đài", "greet"),
        ("thế thôi chào tổng đài", "goodbye"),
        ("vâng em chào chị ạ chúc chị một ngày tốt lành", "goodbye"),
        ("bai bai em nhé", "goodbye"),
        ("dạ vâng đúng thông tin đấy ạ", "affirm"),
        ("ừ ghi như thế là được", "affirm"),
        ("tui ở phường cái răng nè em", "inform"),
        ("cà vẹt xe tui bị mất rồi giờ xin cấp lại thì làm sao em", "procedure_question"),
        ("vâng đúng số đấy ạ", "affirm"),
        ("đúng rồi chị gửi giúp em", "affirm"),
        ("ờ đúng rồi đó con", "affirm"),
        ("trật rồi", "deny"),
        ("làm gì có", "deny"),
        ("ở số mười hai ngõ bốn lăm phố hào nam", "inform"),
        ("trung tâm phục vụ hành chính công có làm việc thứ bảy không", "procedure_question"),
        ("hồ sơ hai sáu một một một tám không bảy ba sáu có bị quá hạn không vậy", "dossier_lookup"),
        ("em ơi hồ sơ thường trú của em nộp tới giờ chưa có thông báo gì hết", "dossier_lookup"),
        # a late dossier told as a grievance is a report, not a status question
        ("tôi gọi báo nộp hồ sơ ở bộ phận một cửa quá hạn chưa trả kết quả", "report"),
    ],
)
def test_fallback_short_turns(text: str, intent: str) -> None:
    assert FallbackInterpreter().interpret(text, NOW).intent == intent


@pytest.mark.parametrize(
    ("text", "model_intent", "expected"),
    [
        ("hổng phải", "affirm", "deny"),
        ("đúng thông tin rồi", "deny", "affirm"),
        ("không đúng đâu", "affirm", "deny"),
        ("bảo tổng đài viên gọi lại cho tôi nhé", "report", "request_operator"),
        ("đổi bằng lái xe thì mấy ngày có kết quả", "report", "procedure_question"),
        ("thủ tục tách thửa gồm những bước nào và bao lâu thì xong", "report", "procedure_question"),
        # "mấy tháng nay" is a span, not a question
        ("tôi là thương binh mà mấy tháng nay chưa nhận được tiền trợ cấp", "report", "report"),
    ],
)
def test_short_answers_and_questions_settled_by_their_words(
    text: str, model_intent: str, expected: str
) -> None:
    from nlu.interpreter import interpretation_from_rasa

    body = {"intent": {"name": model_intent, "confidence": 0.9}, "entities": []}
    assert interpretation_from_rasa(body, text, NOW, "hanoi").intent == expected


def test_an_overridden_intent_keeps_a_category_only_where_one_belongs() -> None:
    from nlu.interpreter import interpretation_from_rasa

    body = {"intent": {"name": "report", "confidence": 0.9}, "entities": []}
    text = "xin hỏi thủ tục cấp sổ đỏ lần đầu gồm những bước nào"
    result = interpretation_from_rasa(body, text, NOW, "hanoi")
    assert result.intent == "procedure_question" and "category" not in result.entities
