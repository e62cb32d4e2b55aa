"""FastAGI server over a real TCP socket with a scripted Asterisk peer; bad input is dropped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agi.dossiers import KeyedDossiers
from agi.server import FastAgiServer, PromptStore
from pbx.prompts import PromptLibrary
from ticketing.dossiers import DossierTable

HEADERS = (
    "agi_network: yes\nagi_network_script: dossier\nagi_request: agi://127.0.0.1/dossier\n"
    "agi_channel: PJSIP/dev-00000001\nagi_uniqueid: 1763902931.12\nagi_callerid: 0912345678\n\n"
)


@pytest.fixture
def dossiers(tmp_path: Path) -> KeyedDossiers:
    path = tmp_path / "dossiers.csv"
    path.write_text("code,status\nH26-260930-0012,đã có kết quả\n000.00.01.H26-261001-0007,đang xử lý\n")
    return KeyedDossiers(DossierTable(path))


@pytest.fixture
async def server(tmp_path: Path, dossiers: KeyedDossiers) -> AsyncIterator[tuple[FastAgiServer, int]]:
    prompts = PromptLibrary(tmp_path / "cache")
    store = PromptStore(tmp_path / "sounds", "/var/spool/asterisk-main/hotline-prompts")
    srv = FastAgiServer(prompts, store, dossiers)
    port = await srv.start("127.0.0.1", 0)
    yield srv, port
    await srv.close()


async def run_peer(port: int, keyed: str) -> list[str]:
    """Play Asterisk: send the headers, answer every command, return the commands received."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(HEADERS.encode())
    commands: list[str] = []
    while True:
        line = await asyncio.wait_for(reader.readline(), 30)
        if not line:
            break
        command = line.decode().strip()
        commands.append(command)
        if command.startswith("GET DATA"):
            writer.write(f"200 result={keyed}\n".encode())
        elif command.startswith("STREAM FILE"):
            writer.write(b"200 result=0 endpos=8000\n")
        else:
            writer.write(b"200 result=1\n")
    writer.close()
    return commands


def test_csv_directory_matches_on_digits(dossiers: KeyedDossiers) -> None:
    assert dossiers.lookup("2609300012") == ("H26-260930-0012", "đã có kết quả")
    assert dossiers.lookup("26260930001 2") == ("H26-260930-0012", "đã có kết quả")
    assert dossiers.lookup("2610010007") is not None
    assert dossiers.lookup("123") is None and dossiers.lookup("9999999999") is None


async def test_known_code_is_read_back_and_call_ends(
    server: tuple[FastAgiServer, int], tmp_path: Path
) -> None:
    srv, port = server
    commands = await run_peer(port, "2609300012")
    assert commands[0] == "ANSWER"
    assert commands[1].startswith("GET DATA /var/spool/asterisk-main/hotline-prompts/")
    assert commands[2].startswith("STREAM FILE /var/spool/asterisk-main/hotline-prompts/")
    assert commands[-1] == "SET VARIABLE HOTLINE_NEXT hangup"
    # the prompts Asterisk is told to play exist as 8 kHz slin files in the shared directory
    names = {c.split()[2].rsplit("/", 1)[1] for c in commands[1:3]}
    assert all((tmp_path / "sounds" / f"{n}.sln").stat().st_size > 8000 for n in names)
    assert srv.served == 1


async def test_unknown_code_goes_on_to_operators(server: tuple[FastAgiServer, int]) -> None:
    _, port = server
    commands = await run_peer(port, "1111111111")
    assert any(c.startswith("STREAM FILE") for c in commands)  # "không tìm thấy hồ sơ"
    assert 'SET VARIABLE HOTLINE_NEXT ""' in commands


@pytest.mark.parametrize(
    "garbage",
    [b"", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\xff" * 10_000, b"agi_network_script dossier\n\n"],
)
async def test_garbage_is_dropped_and_server_still_serves(
    server: tuple[FastAgiServer, int], garbage: bytes
) -> None:
    srv, port = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(garbage)
    await writer.drain()
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    assert srv.rejected == 1 and srv.served == 0
    commands = await run_peer(port, "2609300012")
    assert commands[-1] == "SET VARIABLE HOTLINE_NEXT hangup"
