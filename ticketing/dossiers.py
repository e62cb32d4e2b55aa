"""Dossier status lookup (tra cứu tình trạng hồ sơ, HN Art. 3.1a): a port and two adapters.

* :class:`HttpDossierSource` asks the city's administrative-procedure system:
  ``GET {url}/{code}`` with an optional bearer token, answered by JSON
  ``{"code", "status", "procedure", "due_date"}`` (404: unknown code). Timeouts and server errors
  raise :class:`DossierLookupError`; the call then apologises and offers an operator.
* :class:`DossierTable` is a local table for demos and tests, a UTF-8 CSV
  ``code,status,procedure,due_date`` in ``<data_dir>/dossiers.csv`` (the FastAGI DTMF path reads the
  same file), written by ``hotline dossiers import FILE.csv``.

Codes match in full (ignoring case, spaces and separators) or by their 10-digit ``YYMMDDXXXX`` tail,
which is what a caller keys on the phone.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import httpx

COLUMNS = ("code", "status", "procedure", "due_date")
TABLE_NAME = "dossiers.csv"


class DossierLookupError(RuntimeError):
    """The dossier system did not answer (timeout, error status, malformed reply)."""


@dataclass(frozen=True)
class DossierStatus:
    code: str
    status: str
    procedure: str = ""
    due_date: str = ""  # ISO date of the promised return, may be empty


class DossierSource(Protocol):
    def lookup(self, code: str) -> DossierStatus | None:
        """The dossier's status, None when the code is unknown; raises DossierLookupError."""
        ...


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _squash(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def matches(stored: str, wanted: str) -> bool:
    """Same code, or the 10-digit tail the caller keyed."""
    if _squash(stored) == _squash(wanted):
        return True
    keyed = _digits(wanted)
    return len(keyed) == 10 and keyed == _digits(stored)[-10:] and _squash(wanted) == keyed


class TableError(ValueError):
    """A dossier CSV that cannot be imported."""


def parse_table(text: str) -> list[DossierStatus]:
    """Validate a dossier CSV (header with at least ``code,status``); raises TableError."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "code" not in header or "status" not in header:
        raise TableError("thiếu cột code,status / the CSV needs a header with columns code,status")
    rows: list[DossierStatus] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, 2):
        if None in raw:  # csv's restkey: more fields than the header
            raise TableError(
                f"dòng {line}: nhiều cột hơn dòng tiêu đề (đặt nội dung có dấu phẩy trong ngoặc kép) / "
                f"line {line}: more fields than the header (quote text that holds a comma)"
            )
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        code, status = row.get("code", ""), row.get("status", "")
        if not code or not status:
            raise TableError(f"dòng {line}: thiếu mã hoặc trạng thái / line {line}: empty code or status")
        due = row.get("due_date", "")
        if due:
            try:
                date.fromisoformat(due)
            except ValueError as exc:
                raise TableError(
                    f"dòng {line}: ngày hẹn trả sai {due!r} / line {line}: due_date must be YYYY-MM-DD"
                ) from exc
        key = _squash(code)
        if key in seen:
            raise TableError(f"dòng {line}: mã trùng {code} / line {line}: duplicate code {code}")
        seen.add(key)
        rows.append(DossierStatus(code, status, row.get("procedure", ""), due))
    return rows


def write_table(path: Path, rows: list[DossierStatus]) -> None:
    """Replace the table atomically (readers see the old or the new file, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dossiers-", suffix=".csv")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow((r.code, r.status, r.procedure, r.due_date))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class DossierTable:
    """The local CSV table; re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: int | None = None
        self._rows: list[DossierStatus] = []

    def rows(self) -> list[DossierStatus]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if stamp != self._stamp:
            self._rows = parse_table(self.path.read_text(encoding="utf-8"))
            self._stamp = stamp
        return self._rows

    def lookup(self, code: str) -> DossierStatus | None:
        return next((r for r in self.rows() if matches(r.code, code)), None)


class HttpDossierSource:
    """The city's TTHC system over HTTP (see the module docstring for the contract)."""

    def __init__(
        self,
        url: str,
        token: str = "",
        timeout_s: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)

    def lookup(self, code: str) -> DossierStatus | None:
        try:
            reply = self._client.get(f"{self.url}/{quote(code.strip(), safe='')}")
        except httpx.HTTPError as exc:
            raise DossierLookupError(f"dossier system unreachable: {exc}") from exc
        if reply.status_code == 404:
            return None
        if reply.status_code != 200:
            raise DossierLookupError(f"dossier system answered HTTP {reply.status_code}")
        try:
            body = reply.json()
            return DossierStatus(
                str(body.get("code") or code),
                str(body["status"]),
                str(body.get("procedure") or ""),
                str(body.get("due_date") or ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DossierLookupError(f"malformed dossier reply: {exc}") from exc

    def close(self) -> None:
        self._client.close()
