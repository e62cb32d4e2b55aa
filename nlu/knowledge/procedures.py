"""Administrative procedures as data: loaded from ``nlu/data/procedures.json`` (sources in its header)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Procedure:
    id: str
    name: str
    aliases: tuple[str, ...]
    documents: tuple[str, ...]
    where: str
    time_limit: str
    fee: str
    note: str = ""
    basis: str = ""
    certainty: str = ""


_REQUIRED = ("id", "name", "aliases", "documents", "where", "time_limit", "fee")


def parse_procedures(text: str) -> tuple[Procedure, ...]:
    """Parse the JSON knowledge base; raises ValueError on a missing field or a duplicate id."""
    data = json.loads(text)
    out: list[Procedure] = []
    seen: set[str] = set()
    for row in data["procedures"]:
        missing = [k for k in _REQUIRED if not row.get(k)]
        if missing:
            raise ValueError(f"procedure {row.get('id', '?')!r} lacks {', '.join(missing)}")
        if row["id"] in seen:
            raise ValueError(f"duplicate procedure id {row['id']!r}")
        seen.add(row["id"])
        out.append(
            Procedure(
                id=row["id"],
                name=row["name"],
                aliases=tuple(row["aliases"]),
                documents=tuple(row["documents"]),
                where=row["where"],
                time_limit=row["time_limit"],
                fee=row["fee"],
                note=row.get("note", ""),
                basis=row.get("basis", ""),
                certainty=row.get("certainty", ""),
            )
        )
    return tuple(out)


@lru_cache(maxsize=4)
def load_procedures(path: str = "") -> tuple[Procedure, ...]:
    """The shipped knowledge base, or the JSON file at ``path`` (same format)."""
    if path:
        return parse_procedures(Path(path).read_text(encoding="utf-8"))
    text = resources.files("nlu").joinpath("data/procedures.json").read_text(encoding="utf-8")
    return parse_procedures(text)
