"""The real Rasa server (fixtures in tests/rasa_fixture.py): environment, `rasa data validate`,
training, serving on loopback with a token, parsing over HTTP, `rasa test nlu` on the evaluation
set, and the fallback when the server dies.

These tests FAIL (never skip) when Rasa cannot be set up: CI builds it with `hotline nlu setup`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from nlu.evaluation import Prediction, parse_lines, score
from nlu.interpreter import FallbackInterpreter, RasaInterpreter, ResilientInterpreter
from nlu.rasa_auth import bearer_headers
from nlu.rasa_env import RasaEnv
from nlu.rasa_server import ensure_token, is_ready, read_pid, run_rasa, serve, stop, validate
from tests.rasa_fixture import free_port

pytestmark = [pytest.mark.rasa, pytest.mark.slow]
NOW = datetime(2026, 11, 23, 10, 0)
EVAL_FILE = Path(__file__).resolve().parents[1] / "nlu" / "data" / "eval" / "hotline_eval.jsonl"
HANDWRITTEN = EVAL_FILE.with_name("handwritten_eval.jsonl")
# Sets written independently of the training data, by other authors, in ASR and typed styles.
INDEPENDENT = [EVAL_FILE.with_name(f"independent_{x}.jsonl") for x in "abc"]


def test_token_is_generated_once_and_private(tmp_path: Path) -> None:
    token = ensure_token("", tmp_path)
    assert len(token) >= 32 and ensure_token("", tmp_path) == token
    assert (tmp_path / "rasa-token").stat().st_mode & 0o077 == 0
    assert ensure_token("configured", tmp_path) == "configured"


def test_data_validates(rasa_env: RasaEnv, tmp_path: Path) -> None:
    validate(rasa_env, tmp_path)


def test_parse_over_http_needs_the_token(rasa_server: tuple[str, str, Path]) -> None:
    url, token, _ = rasa_server
    assert httpx.post(f"{url}/model/parse", json={"text": "alo"}).status_code == 401
    assert (
        httpx.post(f"{url}/model/parse", params={"token": "wrong"}, json={"text": "alo"}).status_code == 401
    )
    # the shared secret is never accepted in the URL (where httpx would log it), only as a signed bearer
    assert httpx.post(f"{url}/model/parse", params={"token": token}, json={"text": "alo"}).status_code == 401
    forged = bearer_headers("not-the-secret-" + "x" * 32)
    assert httpx.post(f"{url}/model/parse", headers=forged, json={"text": "alo"}).status_code == 401
    assert (
        httpx.post(f"{url}/model/parse", headers=bearer_headers(token), json={"text": "alo"}).status_code
        == 200
    )
    result = RasaInterpreter(url, token, timeout_s=5.0).interpret(
        "số điện thoại của tôi là không chín một hai ba bốn năm sáu bảy tám", NOW
    )
    assert result.backend == "rasa"
    assert result.intent == "inform"
    assert result.entities["phone"] == "0912345678"


def test_token_never_appears_on_a_command_line(rasa_server: tuple[str, str, Path]) -> None:
    """Every local user can read /proc/*/cmdline: the token must not be there."""
    _, token, run_dir = rasa_server
    pid = read_pid(run_dir)
    assert pid is not None
    group = os.getpgid(pid)
    members = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _pgid(int(p.name)) == group]
    assert members
    for proc in members:
        with contextlib.suppress(OSError):
            assert token.encode() not in (proc / "cmdline").read_bytes()


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("cho tôi gặp tổng đài viên", "request_operator"),
        ("rác thải ở đầu ngõ không ai thu gom cả tuần", "report"),
        ("thủ tục đăng ký kết hôn cần giấy tờ gì", "procedure_question"),
        ("vâng đúng rồi", "affirm"),
    ],
)
def test_rasa_intents(rasa_server: tuple[str, str, Path], text: str, intent: str) -> None:
    url, token, _ = rasa_server
    assert RasaInterpreter(url, token, timeout_s=5.0).interpret(text, NOW).intent == intent


def test_rasa_test_nlu_on_the_eval_set(rasa_env: RasaEnv, rasa_server: tuple[str, str, Path]) -> None:
    """`rasa test nlu` on the evaluation set converted to Rasa's format (intents only)."""
    by_intent: dict[str, list[str]] = {}
    for line in EVAL_FILE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_intent.setdefault(row["intent"], []).append(row["text"])
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |", *[f"    - {t}" for t in texts]]
    test_dir = rasa_env.workspace / "test"
    test_dir.mkdir(exist_ok=True)
    (test_dir / "eval.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inner = rasa_env.inner_workspace
    _, _, run_dir = rasa_server
    run_rasa(
        rasa_env,
        [
            "test",
            "nlu",
            "--nlu",
            f"{inner}/test/eval.yml",
            "--model",
            f"{inner}/models",
            "--out",
            f"{inner}/test/results",
        ],
        run_dir / "rasa-test.log",
        timeout=900,
    )
    report = json.loads((test_dir / "results" / "intent_report.json").read_text(encoding="utf-8"))
    assert report["accuracy"] >= 0.9


@pytest.mark.parametrize("path", [HANDWRITTEN, *INDEPENDENT], ids=lambda p: p.stem)
def test_rasa_on_sets_never_trained_on_meets_the_contract(
    rasa_server: tuple[str, str, Path], path: Path
) -> None:
    """The held-out contract (intent accuracy >= 0.90, slot F1 >= 0.85) on phrasings never trained on."""
    url, token, _ = rasa_server
    examples = parse_lines(path.read_text(encoding="utf-8").splitlines())
    rasa = RasaInterpreter(url, token, timeout_s=5.0)
    predictions = []
    for ex in examples:
        result = rasa.interpret(ex.text, ex.now)
        assert result.backend == "rasa"
        predictions.append(Prediction(result.intent, result.entities))
    rasa.close()
    result = score(examples, predictions, "rasa")
    assert result["intent_accuracy"] >= 0.90, result
    assert result["slot_f1"] >= 0.85, result


def test_killed_server_falls_back_and_logs(
    rasa_env: RasaEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = ensure_token("", tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    serve(rasa_env, tmp_path, url, token)
    resilient = ResilientInterpreter(RasaInterpreter(url, token, timeout_s=5.0), FallbackInterpreter())
    assert resilient.interpret("cho tôi gặp tổng đài viên", NOW).backend == "rasa"
    assert read_pid(tmp_path) is not None
    assert stop(tmp_path)
    with caplog.at_level(logging.INFO, logger="nlu.interpreter"):
        result = resilient.interpret("cho tôi gặp tổng đài viên", NOW)
    assert result.backend == "fallback" and result.intent == "request_operator"
    assert any(r.levelno == logging.WARNING and "unavailable" in r.getMessage() for r in caplog.records)


def test_a_token_starting_with_a_dash_is_not_taken_for_an_option(rasa_env: RasaEnv, tmp_path: Path) -> None:
    """token_urlsafe() starts with '-' about once in 64 tokens; the server must still start with it."""
    token = "-" + ensure_token("", tmp_path)
    url = f"http://127.0.0.1:{free_port()}"
    serve(rasa_env, tmp_path, url, token)
    try:
        assert is_ready(url, token)
        assert not is_ready(url, token[1:])
    finally:
        assert stop(tmp_path)
