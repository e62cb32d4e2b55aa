"""The publication stamp is read from the database at most once per ``fresh_s`` per process, and at
once again after any commit of this process; a change by another process shows within ``fresh_s``."""

from __future__ import annotations

import time
from pathlib import Path

import wiring
from config.settings import Settings
from ticketing.db import migrate
from ticketing.db.publication import SqlPublication

REPORT = {
    "channel": "web",
    "category": "VSMT",
    "caller": {"name": "Nguyễn Văn An", "phone": "0912345678"},
    "place": {"address": "Ngõ 5", "ward_code": "00070", "ward_name": "Phường Hoàn Kiếm", "city": "hanoi"},
    "content": "Rác tồn đọng ở đầu ngõ nhiều ngày chưa được thu gom",
}


def _services(tmp_path: Path, db_url: str, name: str) -> wiring.Services:
    return wiring.build(Settings(data_dir=tmp_path / name, database={"url": db_url}))  # type: ignore[arg-type]


def test_stamp_reused_until_a_local_commit_or_fresh_s(tmp_path: Path, db_url: str) -> None:
    migrate.upgrade(db_url)
    here, other = _services(tmp_path, db_url, "here"), _services(tmp_path, db_url, "other")
    try:
        here.admin.import_agencies("hanoi", "test")
        pub = here.publication
        assert isinstance(pub, SqlPublication)
        first = pub.stamp()
        assert pub.kept_stamp() == first

        here.tickets.create(REPORT, "test")  # this process: the next stamp is read again at once
        assert pub.kept_stamp() is None
        second = pub.stamp()
        assert second != first

        other.tickets.create(REPORT, "test")  # another process: seen once fresh_s has passed
        assert pub.stamp() == second
        time.sleep(pub.fresh_s + 0.05)
        assert pub.kept_stamp() is None
        assert pub.stamp() != second
    finally:
        here.close()
        other.close()
