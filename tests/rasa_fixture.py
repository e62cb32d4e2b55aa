"""Pytest fixtures for the real Rasa server (registered in conftest.py via ``pytest_plugins``).

- ``rasa_env`` (session): the Rasa environment (``hotline nlu setup``'s bullseye root) with the NLU
  model trained for the current project files. FAILS (never skips) when Rasa cannot be set up.
- ``rasa_server`` (session): one ``rasa run --enable-api`` on a free loopback port with a token;
  yields ``(url, token, run_dir)``. Shared: tests must not stop it.
- ``own_rasa_server`` (function): a server of the test's own, for tests that stop it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import get_settings
from nlu.rasa_env import RasaEnv, setup
from nlu.rasa_server import ensure_token, serve, stop, train


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: RasaEnv, run_dir: Path) -> tuple[str, str, Path]:
    token = ensure_token("", run_dir)
    url = f"http://127.0.0.1:{free_port()}"
    serve(env, run_dir, url, token)
    return url, token, run_dir


@pytest.fixture(scope="session")
def rasa_env() -> RasaEnv:
    data_dir = get_settings().data_dir
    try:
        env = setup(data_dir)
        train(env, data_dir)
    except Exception as exc:
        pytest.fail(f"cannot set up Rasa for the tests (hotline nlu setup): {exc}")
    return env


@pytest.fixture(scope="session")
def rasa_server(
    rasa_env: RasaEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, Path]]:
    run_dir = tmp_path_factory.mktemp("rasa-run")
    yield start_server(rasa_env, run_dir)
    stop(run_dir)


@pytest.fixture
def own_rasa_server(rasa_env: RasaEnv, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    run_dir = tmp_path / "rasa-run"
    run_dir.mkdir()
    yield start_server(rasa_env, run_dir)
    stop(run_dir)
