"""The short soak with faults (bench/soak.py; the 10-minute run is the benchmark): report calls placed
continuously, at least 10 at once for about two minutes, while the app worker is SIGKILLed, Asterisk is
restarted, the soak's own PostgreSQL is stopped for 10 s, the recordings tmpfs is filled and the SMS
gateway is slowed. At the end every call placed is accounted for (ticket, draft, handoff, answer) or was
refused at SIP while Asterisk was down; nothing lost, nothing duplicated, every ticket's recording
attached. (Rasa is left out of the short form: loading its model would take most of the budget.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from soak import Soak, table

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs and runs PostgreSQL as its own user")
def test_short_soak_with_faults_loses_no_call(tmp_path: Path) -> None:
    soak = Soak(
        minutes=2.0,
        concurrency=10,
        faults=["kill-app", "stop-postgres", "restart-asterisk", "fill-recordings", "delay-sms"],
        base=tmp_path,
    )
    result = soak.run()
    print(table(result))
    assert [f["fault"] for f in result["faults"]] == soak.faults
    assert result["placed"] >= 10
    assert result["lost"] == 0, result
    assert result["duplicates"] == 0, result
    assert result["recordings_missing"] == 0, result
    handled = sum(result["outcomes"].values())
    assert handled + result["refused_at_sip"] == result["placed"], result
    assert result["outcomes"].get("ticket", 0) > 0, result  # the product kept working between faults
