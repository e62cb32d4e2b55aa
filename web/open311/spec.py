"""The pure GeoReport v2 mapping: categories -> services and service definitions, a ticket's public
view -> a service request, and the spec's error shape. No I/O: the router feeds it data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import reference
from ticketing.public import PublicTicket

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_DAYS = 90
MAX_RESULTS = 1000
SCOPE_GROUPS = {"place": "Đô thị, địa bàn xã/phường", "sector": "Ngành, lĩnh vực chuyên môn"}
URGENCY = {"normal": "Bình thường", "urgent": "Khẩn cấp (nguy hiểm, cần xử lý ngay)"}


class Open311Error(Exception):
    """An error answered in the spec's shape ``[{"code": ..., "description": ...}]``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": self.description}]


def services(city: str) -> list[dict[str, Any]]:
    """Every report category as a service (``service_code`` = the category code)."""
    out = []
    for cat in reference.categories().values():
        keywords = [w.strip() for w in cat.examples.replace(";", ",").split(",") if w.strip()]
        out.append(
            {
                "service_code": cat.code,
                "service_name": cat.name,
                "description": cat.examples or cat.name,
                "metadata": True,
                "type": "realtime",
                "keywords": ", ".join(keywords[:8]),
                "group": SCOPE_GROUPS.get(cat.scope, cat.scope),
            }
        )
    return out


def _values(pairs: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "name": v} for k, v in pairs.items()]


def service_definition(code: str, city: str) -> dict[str, Any]:
    """The attributes a request of this service may carry: ward, incident time, urgency, confidentiality."""
    if code not in reference.categories():
        raise Open311Error(404, f"Không có dịch vụ mã {code!r} / unknown service_code {code!r}")
    wards = {u.name: u.name for u in reference.units(city)}
    attrs = [
        {
            "variable": True,
            "code": "ward",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "Tên đầy đủ của xã/phường, ví dụ 'Phường Hoàn Kiếm' (hoặc mã 5 chữ số)",
            "order": 1,
            "description": "Xã/phường nơi xảy ra sự việc",
            "values": _values(wards),
        },
        {
            "variable": True,
            "code": "incident_time",
            "datatype": "datetime",
            "required": False,
            "datatype_description": "ISO 8601, ví dụ 2026-03-02T09:15+07:00",
            "order": 2,
            "description": "Thời điểm xảy ra sự việc",
        },
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "normal hoặc urgent",
            "order": 3,
            "description": "Mức độ khẩn cấp",
            "values": _values(URGENCY),
        },
        {
            "variable": True,
            "code": "confidential",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "true: giữ bí mật danh tính người phản ánh (iHN Điều 5.7)",
            "order": 4,
            "description": "Giữ bí mật danh tính",
            "values": _values({"false": "Không", "true": "Có"}),
        },
    ]
    return {"service_code": code, "attributes": attrs}


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": "2026-12-06T00:00:00+07:00",
        "contact": "Đường dây nóng của thành phố",
        "key_service": "Khóa API do quản trị viên cấp: hotline api-keys create --name TÊN",
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url.rstrip("/") + "/open311/v2",
                "changeset": "2026-12-06T00:00:00+07:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") if dt else None


def service_request(t: PublicTicket, agency_names: Mapping[str, str], media_base: str = "") -> dict[str, Any]:
    """A ticket as a GeoReport v2 service request (every field of the spec, no personal data)."""
    media = (
        f"{media_base.rstrip('/')}/{t.code}/anh/{t.evidence[0].sha256}" if t.evidence and media_base else ""
    )
    notes = t.result or f"Trạng thái: {t.status.value}"  # the result once its publication is approved
    return {
        "service_request_id": t.code,
        "status": "open" if t.is_open else "closed",
        "status_notes": notes,
        "service_name": t.category_name,
        "service_code": t.category,
        "description": t.content,
        "agency_responsible": agency_names.get(t.lead_agency, t.lead_agency),
        "service_notice": "",
        "requested_datetime": _iso(t.created_at),
        "updated_datetime": _iso(t.updated_at),
        "expected_datetime": _iso(t.expected_at),
        "address": ", ".join(p for p in (t.address, t.ward_name) if p),
        "address_id": t.ward_code,
        "zipcode": "",
        "lat": t.lat,
        "long": t.lon,
        "media_url": media,
    }


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def resolve_ward(text: str, city: str) -> reference.Unit | None:
    """A ward/commune of ``city`` by its 5-digit code or full official name ("Phường Hoàn Kiếm")."""
    key = _fold(text)
    if not key:
        return None
    for unit in reference.units(city):
        if key in (unit.code, _fold(unit.name)):
            return unit
    return None


def ward_in_address(address: str, city: str) -> reference.Unit | None:
    """The ward whose full official name the address contains (the longest such name)."""
    folded = _fold(address)
    found = [u for u in reference.units(city) if _fold(u.name) in folded]
    return max(found, key=lambda u: len(u.name)) if found else None
