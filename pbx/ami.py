"""AMI over panoramisk: operator-queue and agent state, queue events and the dialplan's UserEvents.

panoramisk 1.4 wraps non-coroutine callbacks with ``asyncio.coroutine`` (gone in Python 3.11), so
every handler registered here is ``async def``. Nothing connects until :meth:`AmiMonitor.connect`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager

log = logging.getLogger(__name__)

QUEUE_EVENTS = (
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "QueueMemberStatus",
    "UserEvent",
)
# Device states of queue members (AST_DEVICE_*): 0 unknown, 1 not in use, 2 in use, 3 busy,
# 4 invalid, 5 unavailable, 6 ringing, 7 ring+in use, 8 on hold.
_LOGGED_OUT = {"0", "4", "5"}
_FREE = {"1"}
ACTION_TIMEOUT_S = 10.0


class AmiError(RuntimeError):
    """AMI refused an action or could not be reached."""


@dataclass(frozen=True)
class QueueMember:
    name: str
    interface: str
    status: str
    paused: bool

    @property
    def logged_in(self) -> bool:
        return self.status not in _LOGGED_OUT

    @property
    def available(self) -> bool:
        return self.status in _FREE and not self.paused


@dataclass(frozen=True)
class QueueState:
    name: str
    waiting: int
    members: tuple[QueueMember, ...]
    longest_wait_s: int = 0  # the wait of the caller waiting longest (QueueEntry "Wait")

    @property
    def operators_logged_in(self) -> int:
        return sum(m.logged_in for m in self.members)

    @property
    def operators_available(self) -> int:
        return sum(m.available for m in self.members)


@dataclass(frozen=True)
class AmiEvent:
    name: str
    fields: dict[str, str]


EventCallback = Callable[[AmiEvent], Awaitable[None]]


def _get(message: Any, key: str) -> str:
    value = message.get(key, "")
    return str(value) if value is not None else ""


def parse_queue_status(messages: list[Any]) -> list[QueueState]:
    """Turn a ``QueueStatus`` event list into queue states (pure; tested with recorded messages)."""
    queues: dict[str, dict[str, Any]] = {}
    for msg in messages:
        event = _get(msg, "Event")
        name = _get(msg, "Queue")
        if event == "QueueParams":
            queues.setdefault(name, {"members": []})["waiting"] = int(_get(msg, "Calls") or 0)
        elif event == "QueueMember":
            member = QueueMember(
                name=_get(msg, "Name") or _get(msg, "MemberName"),
                interface=_get(msg, "StateInterface") or _get(msg, "Location"),
                status=_get(msg, "Status"),
                paused=_get(msg, "Paused") == "1",
            )
            queues.setdefault(name, {"members": [], "waiting": 0})["members"].append(member)
        elif event == "QueueEntry":
            queue = queues.setdefault(name, {"members": [], "waiting": 0})
            wait = int(_get(msg, "Wait") or 0) if _get(msg, "Wait").isdigit() else 0
            queue["longest"] = max(int(queue.get("longest", 0)), wait)
    return [
        QueueState(
            name=n,
            waiting=int(q.get("waiting", 0)),
            members=tuple(q["members"]),
            longest_wait_s=int(q.get("longest", 0)),
        )
        for n, q in queues.items()
    ]


class AmiMonitor:
    def __init__(self, host: str, port: int, user: str, secret: str, keep_events: int = 200) -> None:
        self._config = {
            "host": host,
            "port": port,
            "username": user,
            "secret": secret,
            "ping_delay": 10,
            "reconnect_timeout": 2,
        }
        self._manager: Manager | None = None
        self.events: deque[AmiEvent] = deque(maxlen=keep_events)
        self._callbacks: list[EventCallback] = []
        self._new_event = asyncio.Event()

    def subscribe(self, callback: EventCallback) -> None:
        self._callbacks.append(callback)

    async def connect(self, timeout_s: float = 10.0) -> None:
        manager = Manager(loop=asyncio.get_running_loop(), **self._config)
        for name in QUEUE_EVENTS:
            manager.register_event(name, self._on_event)
        where = f"{self._config['host']}:{self._config['port']}"
        try:
            await asyncio.wait_for(manager.connect(), timeout_s)
            await asyncio.wait_for(self._logged_in(manager), timeout_s)
        except (OSError, TimeoutError) as exc:
            manager.close()
            raise AmiError(f"AMI at {where} unreachable: {exc or 'timeout'}") from exc
        except AmiError:
            manager.close()
            raise
        self._manager = manager

    @staticmethod
    async def _logged_in(manager: Manager) -> None:
        """panoramisk logs in from a callback; wait for its answer instead of assuming success."""
        while True:
            if getattr(manager, "authenticated", False):
                return
            pending = getattr(manager, "authenticated_future", None)
            if pending is not None:
                await asyncio.shield(pending)
                await asyncio.sleep(0)  # let panoramisk's login callback record the answer
                if not getattr(manager, "authenticated", False):
                    raise AmiError("AMI refused the login (wrong user or secret)")
                return
            await asyncio.sleep(0.02)

    async def _on_event(self, _manager: Any, message: Any) -> None:
        # A key can repeat (a UserEvent body naming "Uniqueid" beside the channel's own): panoramisk
        # gives a list then; the last value is the one the event's sender wrote.
        fields = {str(k): str(v[-1] if isinstance(v, list) and v else v) for k, v in dict(message).items()}
        event = AmiEvent(name=fields.get("Event", ""), fields=fields)
        self.events.append(event)
        self._new_event.set()
        for callback in self._callbacks:
            try:
                await callback(event)
            except Exception:
                log.exception("AMI event callback failed")

    async def wait_for_event(self, predicate: Callable[[AmiEvent], bool], timeout_s: float) -> AmiEvent:
        """The first kept or future event matching ``predicate``."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        seen = 0
        while True:
            for event in list(self.events)[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            self._new_event.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("no matching AMI event")
            try:
                await asyncio.wait_for(self._new_event.wait(), remaining)
            except TimeoutError:
                continue

    async def _action(self, action: dict[str, str]) -> list[Any]:
        if self._manager is None:
            raise AmiError("AMI is not connected")
        try:
            result = await asyncio.wait_for(self._manager.send_action(action, as_list=True), ACTION_TIMEOUT_S)
        except TimeoutError as exc:
            raise AmiError(f"{action['Action']}: no answer from AMI") from exc
        messages = list(result) if isinstance(result, list) else [result]
        for msg in messages:
            if _get(msg, "Response") == "Error":
                raise AmiError(f"{action['Action']}: {_get(msg, 'Message')}")
        return messages

    async def queue_states(self, queue: str | None = None) -> list[QueueState]:
        action = {"Action": "QueueStatus"}
        if queue:
            action["Queue"] = queue
        return parse_queue_status(await self._action(action))

    async def user_event(self, name: str, fields: dict[str, str]) -> None:
        """Send an AMI ``UserEvent`` (e.g. the draft summary for operator screens)."""
        action = {"Action": "UserEvent", "UserEvent": name}
        for key, value in fields.items():
            # one header line per field: newlines would end the AMI message early
            action[key] = " ".join(str(value).split())
        if self._manager is None:
            raise AmiError("AMI is not connected")
        try:  # a single response, not an event list: send_action's default mode
            reply = await asyncio.wait_for(self._manager.send_action(action), ACTION_TIMEOUT_S)
        except TimeoutError as exc:
            raise AmiError("UserEvent: no answer from AMI") from exc
        if _get(reply, "Response") == "Error":
            raise AmiError(f"UserEvent: {_get(reply, 'Message')}")

    async def operators_logged_in(self, queue: str = "operators") -> int:
        states = [q for q in await self.queue_states(queue) if q.name == queue]
        return states[0].operators_logged_in if states else 0

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None
