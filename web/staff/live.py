"""The operator's live feed: calls the AI hands over, pushed to the operator's page (server-sent events).

The AI operator publishes each handed-over call's draft on AMI as the UserEvent ``HotlineDraft`` (the
dialplan's ``HotlineQueue`` names the draft too); when the queue rings an operator (``AgentConnect``)
the call goes to the live pages of the portal user whose name is that operator's SIP endpoint
(``PJSIP/<name>``); a call still waiting in the queue (``QueueCallerJoin``) goes to every operator.
:class:`LiveFeed` follows AMI for the app's lifetime and reconnects when Asterisk restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings

log = logging.getLogger(__name__)
RECONNECT_S = 3.0
DELIVERED, WAITING = "delivered", "waiting"


@dataclass(frozen=True)
class LiveCall:
    kind: str  # DELIVERED | WAITING
    uniqueid: str
    operator: str  # endpoint name ("" for a waiting call)
    caller_number: str
    queue: str
    draft: str  # the draft ticket's code ("J-..." when only journaled)
    reason: str
    summary: str
    fields: dict[str, str] = field(default_factory=dict)


def _endpoint(fields: dict[str, str]) -> str:
    where = fields.get("Interface") or fields.get("MemberName") or ""
    return where.split("/", 1)[1] if "/" in where else where


class LiveFeed:
    def __init__(self, connect: Callable[[], Any] | None = None) -> None:
        """``connect()`` returns a not yet connected :class:`pbx.ami.AmiMonitor` (None: no AMI)."""
        self._connect = connect
        self._drafts: dict[str, dict[str, str]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[LiveCall]]] = {}
        self.recent: deque[LiveCall] = deque(maxlen=50)
        self.connected = False

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveFeed:
        pbx = settings.pbx
        if not pbx.ami_password:
            return cls(None)

        def connect() -> Any:
            from pbx.ami import AmiMonitor

            return AmiMonitor("127.0.0.1", pbx.ami_port, pbx.ami_user, pbx.ami_password)

        return cls(connect)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(self._follow()) if self._connect is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _follow(self) -> None:
        assert self._connect is not None
        while True:
            ami = self._connect()
            ami.subscribe(self.on_event)
            try:
                await ami.connect()
                self.connected = True
                log.info("live feed: following AMI")
                while True:  # panoramisk reconnects by itself; keep the monitor alive
                    await asyncio.sleep(3600)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live feed: AMI unavailable (%s); retrying", exc)
            finally:
                self.connected = False
                ami.close()
            await asyncio.sleep(RECONNECT_S)

    async def on_event(self, event: Any) -> None:
        name, fields = event.name, dict(event.fields)
        uid = fields.get("Uniqueid", "")
        kind = fields.get("UserEvent", "")
        if name == "UserEvent" and kind in ("HotlineDraft", "HotlineQueue"):
            known = self._drafts.setdefault(uid, {})
            known.update(
                {k: v for k, v in fields.items() if v and (kind == "HotlineDraft" or k not in known)}
            )
            if len(self._drafts) > 500:
                self._drafts.pop(next(iter(self._drafts)))
            return
        if name not in ("AgentConnect", "QueueCallerJoin"):
            return
        draft = self._drafts.get(uid, {})
        call = LiveCall(
            DELIVERED if name == "AgentConnect" else WAITING,
            uid,
            _endpoint(fields) if name == "AgentConnect" else "",
            fields.get("CallerIDNum", ""),
            fields.get("Queue", ""),
            draft.get("Draft", ""),
            draft.get("Reason", ""),
            draft.get("Summary", ""),
            fields,
        )
        self.publish(call)

    def publish(self, call: LiveCall) -> None:
        self.recent.append(call)
        targets = [call.operator] if call.kind == DELIVERED else list(self._subscribers)
        for name in targets:
            for q in self._subscribers.get(name, ()):
                with contextlib.suppress(asyncio.QueueFull):
                    q.put_nowait(call)

    def subscribe(self, operator: str) -> asyncio.Queue[LiveCall]:
        q: asyncio.Queue[LiveCall] = asyncio.Queue(maxsize=100)
        self._subscribers.setdefault(operator, set()).add(q)
        return q

    def unsubscribe(self, operator: str, q: asyncio.Queue[LiveCall]) -> None:
        subs = self._subscribers.get(operator)
        if subs is not None:
            subs.discard(q)
            if not subs:
                self._subscribers.pop(operator, None)

    def recent_for(self, operator: str) -> list[LiveCall]:
        return [c for c in self.recent if c.kind == DELIVERED and c.operator == operator][-5:]
