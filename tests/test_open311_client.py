"""Our Open311 server read by an independent client from PyPI, ``georeport`` 0.3.1 (a GeoReport v2
wrapper, JSON and XML), over real HTTP; requests are filed with a plain form POST as any client
would. (The older ``open311`` 1.1 package does not import on Python 3: it uses Python 2's implicit
relative imports.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport

import reference
from tests.portal_server import serve
from tests.public_world import World, make_world


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    yield from make_world(tmp_path, sqlite_url)


def test_georeport_client_json_and_xml(world: World) -> None:
    key = world.key()
    with serve(world.services) as base:
        form = {
            "api_key": key,
            "service_code": "VSMT",
            "description": "Rác tồn đọng ở đầu ngõ 5 Hàng Bông",
            "address_string": "Ngõ 5 Hàng Bông",
            "attribute[ward]": "Phường Hoàn Kiếm",
            "first_name": "Trần Văn",
            "last_name": "Bình",
            "phone": "0987654321",
        }
        posted = httpx.post(f"{base}/open311/v2/requests.json", data=form)
        assert posted.status_code == 201
        code = posted.json()[0]["service_request_id"]
        refused = httpx.post(f"{base}/open311/v2/requests.json", data={**form, "api_key": "hk_x"})
        assert refused.status_code == 403

        for fmt in ("json", "xml"):
            client = GeoReport(f"{base}/open311/v2", output_format=fmt)
            services = client.get_service_list()
            assert {s["service_code"] for s in services} == set(reference.categories())
            definition = client.get_service_definition("VSMT")
            assert definition["service_code"] == "VSMT"
            found = client.get_service_requests(status="open", service_code="VSMT")
            found = found if isinstance(found, list) else [found]  # xmltodict: one element is a dict
            assert [r["service_request_id"] for r in found] == [code]
            one = client.get_service_request(code)
            one = one[0] if isinstance(one, list) else one
            assert one["service_request_id"] == code and one["status"] == "open"
            assert one["agency_responsible"] and one["expected_datetime"]
            text = str(one)
            assert "0987654321" not in text and "Bình" not in text
