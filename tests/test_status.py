"""``hotline status [--json]`` against a real ``hotline up --detach`` (Asterisk from the cached root, the
call app, the scheduler): one JSON object with ``ok`` and one entry per part, exit 0 when callers are
served; a killed call app makes it exit 1. The workers' loopback /metrics carry their readiness."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from ops.health import PARTS
from tests.asterisk import free_port, sipp_call
from tests.test_metrics import samples as metric_samples
from tests.test_up import fresh, hotline  # noqa: F401 (fixture)

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


def status(env: dict[str, str]) -> tuple[int, dict[str, object]]:
    result = hotline(env, "status", "--json")
    assert result.stdout.count("\n") == 1, result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def test_status_of_a_detached_hotline(fresh: dict[str, str]) -> None:  # noqa: F811
    env = dict(fresh)
    app_port, scheduler_port = free_port(), free_port()
    env["HOTLINE_OPS__APP_METRICS_PORT"] = str(app_port)
    env["HOTLINE_OPS__SCHEDULER_METRICS_PORT"] = str(scheduler_port)
    web_port = free_port()
    env["HOTLINE_WEB__PORT"] = str(web_port)  # `hotline up` starts the web app there
    env["HOTLINE_OPS__LOG_FORMAT"] = "json"
    data_dir = Path(env["HOTLINE_DATA_DIR"])

    code, down = status(env)
    assert code == 1 and down["ok"] is False
    assert down["asterisk"]["state"] == "down" and down["app"]["state"] == "down"  # type: ignore[index]

    up = hotline(env, "up", "--detach")
    assert up.returncode == 0, up.stdout + up.stderr
    deadline = time.monotonic() + 30
    while True:  # the scheduler takes its lease on its first round
        code, data = status(env)
        if data["scheduler"]["state"] == "up" or time.monotonic() > deadline:  # type: ignore[index]
            break
        time.sleep(1)
    assert code == 0 and data["ok"] is True, data
    assert set(PARTS) <= set(data)
    parts: dict[str, dict[str, object]] = {p: data[p] for p in PARTS}  # type: ignore[misc]
    assert parts["asterisk"]["state"] == "up" and parts["asterisk"]["pid"]
    # no Vietnamese speech model on this machine: the app takes calls with the keypad menu
    assert parts["app"]["state"] in ("up", "degraded"), parts["app"]
    assert parts["app"]["checks"] == {"ari": True, "database": True, "speech_model": False, "nlu": False} or (
        parts["app"]["checks"]["ari"] is True and parts["app"]["checks"]["database"] is True  # type: ignore[index]
    )
    assert parts["database"]["state"] == "up"
    assert parts["scheduler"]["state"] == "up" and parts["scheduler"]["checks"]["lease"] is True  # type: ignore[index]
    assert parts["web"]["state"] == "up" and parts["web"]["needed"] is False, parts["web"]
    assert parts["nlu"]["needed"] is False

    # each worker serves its readiness and the hotline-wide counts on loopback
    for port in (app_port, scheduler_port):
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'hotline_ready{check="database"} 1.0' in text
        assert "# TYPE hotline_calls_total counter" in text
    assert 'hotline_ready{check="ari"} 1.0' in httpx.get(f"http://127.0.0.1:{app_port}/metrics").text

    text = hotline(env, "status")
    assert text.returncode == 0 and "OK: callers are served" in text.stdout

    # one SIPp call (sample audio, hangs up): counted by outcome in /metrics
    sipp = sipp_call(SimpleNamespace(sip_port=int(env["HOTLINE_PBX__SIP_PORT"])), data_dir / "sipp")  # type: ignore[arg-type]
    assert sipp.returncode == 0, sipp.stdout
    deadline = time.monotonic() + 30
    while True:
        got = metric_samples(httpx.get(f"http://127.0.0.1:{app_port}/metrics", timeout=5).text)
        ended = sum(v for (name, _), v in got.items() if name == "hotline_calls_total")
        if ended >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert ended == 1, got
    # the contract: the web app's /metrics counts the call too (read from the database)
    web_metrics = httpx.get(f"http://127.0.0.1:{web_port}/metrics", timeout=10)
    assert web_metrics.status_code == 200 and "# TYPE hotline_calls_total counter" in web_metrics.text
    assert sum(v for (n, _), v in metric_samples(web_metrics.text).items() if n == "hotline_calls_total") == 1
    assert got[("hotline_calls_in_progress", ())] == 0
    # the app logs JSON lines; what it logged about the call carries the call id
    records = [
        json.loads(line)
        for line in (data_dir / "log" / "app.log").read_text().splitlines()
        if line.startswith("{")
    ]
    about_call = [r for r in records if "gets the keypad menu" in r["msg"]]
    assert about_call and about_call[0]["call_id"] and about_call[0]["call_id"] in about_call[0]["msg"], (
        records
    )

    # the call app dies: callers are not served as they should be
    app_pid = int((data_dir / "run" / "app.pid").read_text())
    os.kill(app_pid, signal.SIGKILL)
    time.sleep(0.5)
    code, data = status(env)
    assert code == 1 and data["ok"] is False and data["app"]["state"] == "down"  # type: ignore[index]
    assert "NOT OK" in hotline(env, "status").stdout
