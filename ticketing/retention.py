"""``hotline retention``: personal data past its retention, and blobs nothing refers to.

docs/security.md promises that recordings follow the tickets' retention. A ticket closed more than
``retention.days`` ago keeps what the statistics need (category, place, content, result, dates) but
loses its caller, transcript, recordings and the audit values quoting them; a call that ended that long
ago (and whose ticket, if any, is past retention too) loses its number and its Asterisk recording. The
sweep removes blobs of the attachment store that no attachment row refers to (left by a crash between
storing and committing), once they are older than a grace period so an in-flight step is never raced.
Everything is a dry run unless ``apply`` is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ticketing.db.retention import ExpiredCall, ExpiredTicket, SqlRetentionRepository

ACTOR = "retention"


@dataclass
class RetentionReport:
    cutoff: datetime
    applied: bool
    tickets: list[ExpiredTicket] = field(default_factory=list)
    calls: list[ExpiredCall] = field(default_factory=list)
    call_files: list[Path] = field(default_factory=list)  # Asterisk recordings to delete / deleted
    orphan_blobs: list[Path] = field(default_factory=list)
    freed_bytes: int = 0


class RetentionService:
    def __init__(
        self,
        repo: SqlRetentionRepository,
        attachments_root: Path,
        to_host: Callable[[str], Path],
        now: Callable[[], datetime],
        days: int,
        grace_hours: float,
    ) -> None:
        self.repo = repo
        self.attachments_root = Path(attachments_root)
        self.to_host = to_host  # the host path of a file Asterisk names (its root may be a chroot)
        self.now = now
        self.days = days
        self.grace_hours = grace_hours

    def run(self, apply: bool = False, days: int | None = None) -> RetentionReport:
        now = self.now()
        report = RetentionReport(now - timedelta(days=self.days if days is None else days), apply)
        report.tickets = self.repo.expired_tickets(report.cutoff)
        report.calls = self.repo.expired_calls(report.cutoff)
        for call in report.calls:
            path = self.to_host(call.recording) if call.recording else None
            if path is not None and path.is_file():
                report.call_files.append(path)
        dropped: set[str] = set()
        if apply:
            for ticket in report.tickets:
                dropped.update(self.repo.erase_ticket(ticket.code, now, ACTOR))
            for call in report.calls:
                self.repo.erase_call(call.call_id)
            for path in report.call_files:
                report.freed_bytes += _remove(path)
        # The recordings just dropped go at once (unless another ticket shares the same bytes); the
        # sweep then takes what older crashes left behind.
        referenced = self.repo.referenced_blobs() if dropped else set()
        for sha256 in sorted(dropped - referenced):
            report.freed_bytes += _remove(self.attachments_root / sha256[:2] / sha256[2:4] / sha256)
        report.orphan_blobs = self.unreferenced_blobs()
        if apply:
            for path in report.orphan_blobs:
                report.freed_bytes += _remove(path)
        return report

    def unreferenced_blobs(self) -> list[Path]:
        """Files of the attachment store no row refers to, older than the grace period (and stale
        temporary files of interrupted writes)."""
        if not self.attachments_root.is_dir():
            return []
        referenced = self.repo.referenced_blobs()
        oldest = time.time() - self.grace_hours * 3600
        found: list[Path] = []
        for path in sorted(self.attachments_root.glob("??/??/*")):
            if not path.is_file() or path.name in referenced:
                continue
            try:
                if path.stat().st_mtime > oldest:
                    continue
            except FileNotFoundError:
                continue
            found.append(path)
        return found


def _remove(path: Path) -> int:
    try:
        size = path.stat().st_size
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return size
