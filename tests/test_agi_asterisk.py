"""FastAGI against the real Asterisk: with the ARI app absent, the dialplan's fallback reaches our
FastAGI server; the caller keys a dossier code (RFC 2833) and hears its status."""

from __future__ import annotations

from pathlib import Path

import pytest

from agi.app import build_server
from tests.asterisk import AsteriskInstance
from tests.live_app import place_call
from tests.rtp_pcap import RtpStream

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


async def test_dtmf_dossier_lookup_when_the_app_is_down(asterisk: AsteriskInstance, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "dossiers.csv").write_text(
        'code,status\nH26-260930-0012,"đã có kết quả, mời ông bà đến nhận"\n'
    )
    settings = asterisk.settings.model_copy(update={"data_dir": data_dir})
    server = build_server(settings)
    await server.start("127.0.0.1", asterisk.agi_port)
    try:
        stream = RtpStream().silence(2.5).digits("2609300012#").silence(14.0)
        await place_call(asterisk, tmp_path / "sipp", stream)
        # (SIPp may report an error: after the status the dialplan hangs up before SIPp's own BYE)
    finally:
        await server.close()
    assert server.lookups == [("2609300012", "H26-260930-0012")]
    assert server.served == 1 and server.rejected == 0
    # the prompts Asterisk played were published where it can read them
    published = list(server.store.host_dir.glob("*.sln"))
    assert len(published) == 2
