"""`hotline up` never fails because the NLU server is missing: it says why and calls use the
rule-based interpreter."""

from __future__ import annotations

from pathlib import Path

from commands.up import start_nlu, stop_nlu
from config.settings import Settings


def test_up_without_a_rasa_environment_degrades_with_a_reason(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    message = start_nlu(settings)
    assert "not set up" in message and "rule-based interpreter" in message
    assert stop_nlu(settings) is False
