"""A thin ARI client: the REST calls the call controller uses, and the event WebSocket.

Why not a library: docs/decisions/002-thin-ari-client.md. Nothing connects until a method is called.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import websockets

from config.log_redaction import register_secret
from pbx.ari.events import AriEventError, Bridge, Channel, Event, parse_channel, parse_event

log = logging.getLogger(__name__)


class AriError(RuntimeError):
    """ARI answered with an error status, or could not be reached."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class AriClient:
    """REST + WebSocket access to one Asterisk's ARI for one Stasis application."""

    def __init__(self, host: str, port: int, user: str, password: str, app: str, timeout_s: float = 5.0):
        self.host = host
        self.port = port
        self.app = app
        self._auth = (user, password)
        register_secret(password)  # never in a log line, whatever logs it
        self._http = httpx.AsyncClient(
            base_url=f"http://{host}:{port}/ari", auth=self._auth, timeout=timeout_s
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- REST ---------------------------------------------------------------------------------
    async def _request(self, method: str, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        try:
            resp = await self._http.request(method, path, params=clean)
        except httpx.HTTPError as exc:
            raise AriError(f"{method} {path}: {exc!s}") from exc
        if resp.status_code >= 400:
            try:
                message = resp.json().get("message", resp.text)
            except ValueError:
                message = resp.text
            raise AriError(f"{method} {path}: {resp.status_code} {message}", resp.status_code)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    async def asterisk_info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._request("GET", "/asterisk/info")
        return result

    async def channels(self) -> list[Channel]:
        return [parse_channel(c) for c in await self._request("GET", "/channels")]

    async def channel(self, channel_id: str) -> Channel:
        return parse_channel(await self._request("GET", f"/channels/{channel_id}"))

    async def answer(self, channel_id: str) -> None:
        await self._request("POST", f"/channels/{channel_id}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._request("DELETE", f"/channels/{channel_id}", reason=reason)

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self._request("POST", f"/channels/{channel_id}/variable", variable=name, value=value)

    async def get_variable(self, channel_id: str, name: str) -> str:
        result = await self._request("GET", f"/channels/{channel_id}/variable", variable=name)
        return str(result.get("value", ""))

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str = "s", priority: int = 1
    ) -> None:
        await self._request(
            "POST",
            f"/channels/{channel_id}/continue",
            context=context,
            extension=extension,
            priority=priority,
        )

    async def create_bridge(self, bridge_type: str = "mixing", name: str | None = None) -> Bridge:
        data = await self._request("POST", "/bridges", type=bridge_type, name=name)
        return Bridge.model_validate(data)

    async def add_channel(self, bridge_id: str, channel_id: str) -> None:
        await self._request("POST", f"/bridges/{bridge_id}/addChannel", channel=channel_id)

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._request("DELETE", f"/bridges/{bridge_id}")

    async def external_media(
        self,
        external_host: str,
        data: str,
        encapsulation: str = "audiosocket",
        transport: str = "tcp",
        audio_format: str = "slin",
        channel_id: str | None = None,
    ) -> Channel:
        result = await self._request(
            "POST",
            "/channels/externalMedia",
            app=self.app,
            external_host=external_host,
            encapsulation=encapsulation,
            transport=transport,
            format=audio_format,
            data=data,
            channelId=channel_id,
        )
        return parse_channel(result)

    # ---- events -------------------------------------------------------------------------------
    def events_url(self, subscribe_all: bool = False) -> str:
        """The event WebSocket's URL: no credentials in it (they go in the Authorization header, which
        the websockets library does not log, where ``api_key=`` in the query was logged with -v)."""
        query = urlencode({"app": self.app, "subscribeAll": "true" if subscribe_all else "false"})
        return f"ws://{self.host}:{self.port}/ari/events?{query}"

    def auth_headers(self) -> dict[str, str]:
        basic = base64.b64encode(f"{self._auth[0]}:{self._auth[1]}".encode()).decode("ascii")
        return {"Authorization": f"Basic {basic}"}

    @asynccontextmanager
    async def events(self, subscribe_all: bool = False) -> AsyncIterator[AsyncIterator[Event]]:
        """Open the event WebSocket (this registers the Stasis application) and iterate its events.

        Malformed messages are logged and skipped: one bad event must not end the call control.
        """
        async with websockets.connect(
            self.events_url(subscribe_all),
            additional_headers=self.auth_headers(),
            open_timeout=5,
            ping_interval=10,
            max_size=2**22,
        ) as ws:

            async def iterate() -> AsyncIterator[Event]:
                async for message in ws:
                    try:
                        yield parse_event(message)
                    except AriEventError as exc:
                        log.warning("skipping malformed ARI event: %s", exc)

            yield iterate()
