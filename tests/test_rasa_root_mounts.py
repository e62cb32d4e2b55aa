"""The Rasa chroot's runtime mounts (``/proc``, ``/dev/shm``): made under a shared claim, kept while any
holder (a server daemon included) lives, removed when the last one is gone. Real mounts, as root."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu.rasa_env import release_runtime_fs, root_claim
from nlu.rasa_server import ServerPaths, stop


def mounted(root: Path) -> list[bool]:
    return [os.path.ismount(root / "proc"), os.path.ismount(root / "dev" / "shm")]


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "root"
    (path / "proc").mkdir(parents=True)
    yield path
    for point in (path / "dev" / "shm", path / "proc"):
        if os.path.ismount(point):
            subprocess.run(["umount", "-l", str(point)], check=False)


def test_claim_mounts_and_last_holder_unmounts(root: Path, tmp_path: Path) -> None:
    lock = tmp_path / "root.lock"
    with root_claim(root, lock):
        assert mounted(root) == [True, True]
        with root_claim(root, lock):  # a second user of the same root
            assert mounted(root) == [True, True]
        assert mounted(root) == [True, True], "the outer claim still holds the mounts"
        assert not release_runtime_fs(root, lock)
    assert mounted(root) == [False, False]
    assert release_runtime_fs(root, lock)  # nothing left to do


def test_daemon_holding_the_claim_keeps_the_mounts(root: Path, tmp_path: Path) -> None:
    lock = tmp_path / "root.lock"
    with root_claim(root, lock) as fd:
        daemon = subprocess.Popen(["sleep", "60"], pass_fds=(fd,), start_new_session=True)
    try:
        assert mounted(root) == [True, True], "the daemon's claim outlives the starter's"
        assert not release_runtime_fs(root, lock)
    finally:
        daemon.kill()
        daemon.wait()
    assert release_runtime_fs(root, lock)
    assert mounted(root) == [False, False]


def test_claim_after_release_mounts_again(root: Path, tmp_path: Path) -> None:
    lock = tmp_path / "root.lock"
    for _ in range(2):
        with root_claim(root, lock):
            assert mounted(root) == [True, True]
        assert mounted(root) == [False, False]


def test_stopping_the_server_unmounts_its_root(root: Path, tmp_path: Path) -> None:
    """``rasa_server.stop`` releases the root it noted when it started the server."""
    run = tmp_path / "run-dir"
    paths = ServerPaths(run)
    paths.pid_file.parent.mkdir(parents=True)
    lock = tmp_path / "root.lock"
    with root_claim(root, lock) as fd:
        paths.root_file.write_text(json.dumps({"root": str(root), "lock": str(lock)}), encoding="utf-8")
        daemon = subprocess.Popen(["sleep", "60"], pass_fds=(fd,), start_new_session=True)
    paths.pid_file.write_text(f"{daemon.pid}\n", encoding="utf-8")
    started = time.monotonic()
    assert stop(run)
    daemon.wait(timeout=5)
    assert mounted(root) == [False, False]
    assert not paths.root_file.exists()
    assert time.monotonic() - started < 10
