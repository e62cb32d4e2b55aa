"""FastAGI server (panoramisk) for the DTMF-only path the dialplan uses when the ARI app is down.

Route ``dossier`` (also the default route): the caller keys a dossier code ending with ``#`` and
hears its status; the channel variable ``HOTLINE_NEXT`` is set to ``hangup`` when the caller was
served, and left empty to send the caller on to the operator queue.

panoramisk's own connection handler loops forever on a peer that closes before sending its headers,
and accepts unbounded headers; :meth:`FastAgiServer._handle` reads the headers itself (bounded, with
a timeout) and uses panoramisk's :class:`~panoramisk.fast_agi.Request` for the AGI commands. Every
route is ``async def`` (panoramisk 1.4's sync wrapper needs ``asyncio.coroutine``, gone in 3.11).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panoramisk.fast_agi import Request

from agi.dossiers import DossierDirectory
from pbx.prompts import PromptLibrary

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16_384
HEADER_TIMEOUT_S = 5.0
CODE_TIMEOUT_MS = 10_000
MAX_CODE_DIGITS = 20

Route = Callable[[Request], Awaitable[None]]


@dataclass(frozen=True)
class PromptStore:
    """Where synthesised prompts are copied so Asterisk can play them: the same directory seen from
    the host and from Asterisk (they differ when Asterisk runs in a chroot)."""

    host_dir: Path
    asterisk_dir: str

    def publish(self, source: Path) -> str:
        """Copy a ``.sln`` prompt in; return the name to give ``STREAM FILE`` (no extension)."""
        self.host_dir.mkdir(parents=True, exist_ok=True)
        target = self.host_dir / source.name
        if not target.is_file():
            tmp = target.with_suffix(".tmp")
            shutil.copyfile(source, tmp)
            tmp.replace(target)
        return f"{self.asterisk_dir.rstrip('/')}/{source.stem}"


def agi_ok(result: dict[str, Any]) -> bool:
    return result.get("status_code") == 200


def agi_value(result: dict[str, Any]) -> str:
    """The ``result=`` value of an AGI answer (digits for GET DATA)."""
    value = result.get("result")
    if isinstance(value, tuple | list):
        return str(value[0]) if value else ""
    return str(value or "")


class FastAgiServer:
    def __init__(self, prompts: PromptLibrary, store: PromptStore, dossiers: DossierDirectory) -> None:
        self.prompts = prompts
        self.store = store
        self.dossiers = dossiers
        # "dtmf" is the route the rendered dialplan's fallback calls; "dossier" names it plainly.
        self.routes: dict[str, Route] = {
            "": self.dossier_route,
            "dtmf": self.dossier_route,
            "dossier": self.dossier_route,
        }
        self._server: asyncio.Server | None = None
        self.served = 0
        self.rejected = 0
        self.lookups: list[tuple[str, str | None]] = []  # (keyed digits, dossier code found)

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            headers = await asyncio.wait_for(self._read_headers(reader), HEADER_TIMEOUT_S)
            route = self.routes.get(headers.get("agi_network_script", "").strip("/"))
            if route is None:
                self.rejected += 1
                log.warning("FastAGI request for unknown route %r", headers.get("agi_network_script"))
                return
            await route(Request(app=None, headers=headers, reader=reader, writer=writer))
            self.served += 1
        except (ValueError, TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
            self.rejected += 1
            log.warning("FastAGI connection dropped: %s", exc or type(exc).__name__)
        except Exception:
            log.exception("FastAGI route failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    @staticmethod
    async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
        headers: dict[str, str] = {}
        size = 0
        while True:
            line = await reader.readline()
            if not line:
                raise ValueError("peer closed before the end of the AGI headers")
            size += len(line)
            if size > MAX_HEADER_BYTES:
                raise ValueError("AGI headers too long")
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if not text:
                if "agi_network" not in headers and "agi_request" not in headers:
                    raise ValueError("not an AGI request")
                return headers
            if ": " not in text:
                raise ValueError("malformed AGI header line")
            key, value = text.split(": ", 1)
            headers[key] = value

    async def _say(self, request: Request, name: str, **values: object) -> dict[str, Any]:
        path = await self.prompts.asynthesize(self.prompts.text(name, **values))
        playable = await asyncio.to_thread(self.store.publish, path)
        result: dict[str, Any] = await request.send_command(f'STREAM FILE {playable} ""')
        return result

    async def dossier_route(self, request: Request) -> None:
        await request.send_command("ANSWER")
        prompt = await asyncio.to_thread(
            self.store.publish, await self.prompts.asynthesize(self.prompts.text("dossier_enter_code"))
        )
        answer = await request.send_command(f"GET DATA {prompt} {CODE_TIMEOUT_MS} {MAX_CODE_DIGITS}")
        digits = agi_value(answer) if agi_ok(answer) else ""
        if digits in ("", "-1", "timeout"):
            digits = ""
        found = self.dossiers.lookup(digits) if digits else None
        self.lookups.append((digits, found[0] if found else None))
        if found is None:
            if digits:
                await self._say(request, "dossier_not_found", code=digits)
            await request.send_command('SET VARIABLE HOTLINE_NEXT ""')
            await request.send_command(f'SET VARIABLE HOTLINE_DOSSIER "{digits}"')
            return
        code, status = found
        await self._say(request, "dossier_status", code=code, status=status)
        await request.send_command(f'SET VARIABLE HOTLINE_DOSSIER "{digits}"')
        await request.send_command("SET VARIABLE HOTLINE_NEXT hangup")
