"""The report being collected during a call: an immutable snapshot the engine replaces turn by turn.

A draft travels with ``CreateTicket`` and ``Transfer`` actions, so whatever happens (confirmation,
hang-up mid-way, transfer) the collected data reaches a ticket or an operator (SPEC §1.4, HP Art. 8.3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import reference

# Slots a report needs before it can be filed, in the order the engine asks for them (HN Art. 5.2, 6.1).
REQUIRED_SLOTS: tuple[str, ...] = ("content", "ward", "time", "name", "phone")


@dataclass(frozen=True)
class Draft:
    caller_id: str = ""  # the calling number as the PBX saw it, may be empty (withheld)
    city: str = "hanoi"
    kind: str = "field_report"  # ticketing.domain.model.Kind value
    category: str = ""  # category code, e.g. "VSMT"; empty until known
    urgent: bool = False
    name: str = ""
    phone: str = ""
    phone_confirmed: bool = False
    cccd: str = ""
    ward: str = ""  # full official name, e.g. "Phường Hoàn Kiếm"
    address: str = ""  # what the caller said about the place, verbatim
    incident_time: str = ""  # ISO "2026-11-22T21:00" or a date "2026-11-20"
    time_text: str = ""  # what the caller said about the time when it could not be parsed
    content: str = ""
    transcript: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # ("caller"|"bot", text)
    note: str = ""  # why the draft is incomplete or was transferred

    def missing(self) -> list[str]:
        """Required slots still empty, in asking order."""
        out = []
        if not self.content:
            out.append("content")
        if not self.ward:
            out.append("ward")
        if not (self.incident_time or self.time_text):
            out.append("time")
        if not self.name:
            out.append("name")
        if not (self.phone and self.phone_confirmed):
            out.append("phone")
        return out

    @property
    def is_complete(self) -> bool:
        return not self.missing()

    @property
    def has_report_data(self) -> bool:
        """True once anything beyond the caller ID was collected."""
        return any((self.content, self.ward, self.name, self.incident_time, self.time_text, self.cccd))

    @property
    def transcript_text(self) -> str:
        who = {"caller": "Người gọi", "bot": "Tổng đài viên AI"}
        return "\n".join(f"{who.get(speaker, speaker)}: {text}" for speaker, text in self.transcript)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["transcript"] = [{"speaker": s, "text": t} for s, t in self.transcript]
        data["missing"] = self.missing()
        data["priority"] = "urgent" if self.urgent else "normal"
        return data

    def ticket_data(self, complete: bool = True) -> dict[str, Any]:
        """The ticket service's creation dict (``TicketService.create``) for this draft."""
        ward_code = ""
        if self.ward and self.city in reference.CITIES:
            ward_code = next((u.code for u in reference.units(self.city) if u.name == self.ward), "")
        content = self.content or "(chưa ghi nhận nội dung)"
        if self.time_text and not self.incident_time:
            content += f" (thời gian theo người gọi: {self.time_text})"
        data: dict[str, Any] = {
            "channel": "phone",
            "kind": self.kind,
            "category": self.category or "KHAC",
            "priority": "urgent" if self.urgent else "normal",
            "caller": {"name": self.name, "phone": self.phone or self.caller_id, "cccd": self.cccd},
            "place": {
                "address": self.address,
                "ward_code": ward_code,
                "ward_name": self.ward,
                "city": self.city,
            },
            "content": content,
            "transcript": self.transcript_text,
            "city": self.city,
            "complete": complete,
        }
        if self.incident_time:
            data["incident_time"] = self.incident_time
        return data
