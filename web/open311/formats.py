"""JSON and XML bodies of GeoReport v2: the same data, as the spec lays out each format."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
_SINGULAR = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            child = ET.SubElement(parent, key)
            if isinstance(item, list):
                for entry in item:
                    _fill(ET.SubElement(child, _SINGULAR.get(key, "item")), entry)
            else:
                _fill(child, item)
    else:
        parent.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """``data`` (a list of records or one record) under ``<root>``; lists repeat the singular tag."""
    element = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            _fill(ET.SubElement(element, _SINGULAR.get(root, "item")), entry)
    else:
        _fill(element, data)
    text = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def render(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    body = to_xml(root, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Response(body, status_code=status, media_type=FORMATS.get(fmt, FORMATS["json"]))
