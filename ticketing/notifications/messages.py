"""Message kinds and their texts. Texts are Jinja2 templates in ``templates/``, one per kind and channel.

Personal data appears only where a template needs it: the context passed in is exactly what the
template may print, and a missing variable is an error (``StrictUndefined``), never an empty hole.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, UndefinedError


class MessageKind(StrEnum):
    TRACKING_CODE = "tracking_code"  # to the citizen, right after the call (HN Art. 7.1)
    ASSIGNMENT = "assignment"  # to the agency's focal officer (CT Art. 9)
    ESCALATION = "escalation"  # to the head of agency / city leadership (CT Art. 9, HP Art. 9.4)
    RESULT = "result"  # to the citizen, with the public lookup reference (CT Art. 10, HP Art. 11)
    CLARIFICATION_ANSWER = "clarification_answer"  # iHN Art. 13
    PROCEDURE_ANSWER = "procedure_answer"  # an answer the caller asked to receive by SMS
    CITIZEN_FOLLOW_UP = "citizen_follow_up"  # to the focal officer: a rating, a clarification request
    URGENT_DUTY = "urgent_duty"  # an urgent report's draft to the competent agency's duty phone (HP Art. 9.1)


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class TemplateError(ValueError):
    """A message template is missing or lacks a variable; the message is not sent."""


@dataclass(frozen=True)
class Rendered:
    subject: str  # empty for SMS
    body: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ticketing.notifications", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # plain text: SMS and text/plain e-mail
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(kind: MessageKind, channel: Channel, context: dict[str, Any]) -> Rendered:
    """Render the ``kind`` message for ``channel``. E-mail templates start with ``Subject: ...``."""
    name = f"{kind.value}.{channel.value}.j2"
    try:
        text = _environment().get_template(name).render(**context).strip()
    except TemplateNotFound:
        raise TemplateError(f"không có mẫu tin / no template {name}") from None
    except UndefinedError as exc:
        raise TemplateError(f"mẫu tin {name} thiếu dữ liệu / template {name}: {exc.message}") from exc
    if channel is Channel.EMAIL:
        first, _, rest = text.partition("\n")
        if not first.startswith("Subject:"):
            raise TemplateError(f"mẫu e-mail {name} phải bắt đầu bằng Subject: / must start with Subject:")
        return Rendered(subject=first.removeprefix("Subject:").strip(), body=rest.strip())
    return Rendered(subject="", body=text)
