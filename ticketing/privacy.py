"""The personal-data masking policy: what a viewer without the right to personal data sees of a ticket.

One policy for every output (CLI listings and JSON, reports, the portal and the API):

* the caller block: citizen ID (CCCD), phone and e-mail masked (``09******78``); a confidential
  caller's identity hidden altogether;
* every free text that can hold personal data — the call transcript, the content, attachments' file
  names, history notes, the result, clarifications — has phone numbers and citizen IDs masked, written
  as digits or spoken as Vietnamese digit words ("không chín một hai ..."), and e-mail addresses
  masked; for a confidential caller the caller's name, phone, CCCD and e-mail are removed from them
  wherever they appear (with or without diacritics, in any case).

:func:`masked_ticket` returns a copy of the ticket with the policy applied (for templates);
:func:`ticket_view` is the JSON-ready form (for the CLI and the API).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import datetime
from typing import Any

from ticketing.domain.model import Caller, Ticket

HIDDEN = "(ẩn danh / confidential)"
REDACTED = "(đã ẩn / hidden)"

# Vietnamese digit words as ASR and callers say them (folded: no diacritics, lower case).
_DIGIT_WORDS = "khong|mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin|linh|le|muoi|moi"
# A run of at least 6 digits, possibly grouped with spaces, dots or dashes (phones, CCCD, codes).
_DIGIT_RUN = re.compile(r"(?<!\w)\+?\d(?:[ .\-]?\d){5,}(?!\w)")
# At least 4 spoken digit words in a row (a phone number or an ID read out), on folded text.
_SPOKEN_RUN = re.compile(rf"\b(?:(?:{_DIGIT_WORDS})\b[ ,.\-]*){{4,}}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask(value: str, keep: int = 2) -> str:
    """``0912345678`` -> ``09******78``; short values are fully masked."""
    value = value.strip()
    if not value:
        return ""
    if len(value) <= 2 * keep + 1:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_email(email: str) -> str:
    local, at, domain = email.strip().partition("@")
    return mask(local) + (at + domain if at else "")


def caller_view(caller: Caller, show_personal: bool) -> dict[str, Any]:
    """The caller block as a viewer may see it."""
    if show_personal:
        return dataclasses.asdict(caller)
    if caller.confidential:
        return {"name": HIDDEN, "cccd": "", "phone": "", "address": "", "email": "", "confidential": True}
    return {
        "name": caller.name,
        "cccd": mask(caller.cccd),
        "phone": mask(caller.phone),
        "address": caller.address,
        "email": mask_email(caller.email),
        "confidential": False,
    }


def _fold_char(ch: str) -> str:
    """One character without its diacritics, lower case (``Đ`` -> ``d``); always one character, so
    positions in the folded text are positions in the original."""
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[:1] or ch
    return base.lower() if len(base.lower()) == 1 else ch


def _fold(text: str) -> str:
    return "".join(_fold_char(ch) for ch in text)


def _replace_spans(text: str, spans: list[tuple[int, int]], by: str) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(by)
        last = end
    out.append(text[last:])
    return "".join(out)


def _identity_spans(folded: str, caller: Caller) -> list[tuple[int, int]]:
    """Where the confidential caller's own name and identifiers appear in the folded text."""
    spans: list[tuple[int, int]] = []
    name_words = _fold(unicodedata.normalize("NFC", caller.name)).split()
    if name_words:
        pattern = r"\b" + r"[\s,.]+".join(re.escape(w) for w in name_words) + r"\b"
        spans += [m.span() for m in re.finditer(pattern, folded)]
        given = name_words[-1]  # "chị Ngọc", "anh Nam": the given name alone names the caller too
        if len(given) >= 2:
            spans += [m.span() for m in re.finditer(rf"\b{re.escape(given)}\b", folded)]
    for value in (caller.phone, caller.cccd, caller.email):
        value = value.strip()
        if len(value) >= 4:
            spans += [m.span() for m in re.finditer(re.escape(_fold(value)), folded)]
    return spans


def redact_text(text: str, caller: Caller) -> str:
    """Free text with personal data masked (see the module docstring)."""
    if not text:
        return text
    text = unicodedata.normalize("NFC", text)
    if caller.confidential:
        folded = _fold(text)
        text = _replace_spans(text, _identity_spans(folded, caller), HIDDEN)
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    text = _DIGIT_RUN.sub(lambda m: mask(m.group()), text)
    folded = _fold(text)
    spoken = [(m.start(), m.end()) for m in _SPOKEN_RUN.finditer(folded)]
    return _replace_spans(text, [(s, e) for s, e in spoken if e > s], REDACTED + " ")


def masked_ticket(t: Ticket) -> Ticket:
    """A copy of the ticket with the masking policy applied to every field that can hold personal
    data (the caller block, the transcript, the content, attachments' names, notes and results)."""
    caller = t.caller
    view = caller_view(caller, show_personal=False)

    def red(text: str) -> str:
        return redact_text(text, caller)

    return dataclasses.replace(
        t,
        caller=Caller(**view),
        content=red(t.content),
        transcript=red(t.transcript),
        attachments=[dataclasses.replace(a, filename=red(a.filename)) for a in t.attachments],
        history=[dataclasses.replace(e, note=red(e.note)) for e in t.history],
        coordinators=[dataclasses.replace(p, text=red(p.text)) for p in t.coordinators],
        draft_result=red(t.draft_result),
        result=red(t.result),
        rejection_reason=red(t.rejection_reason),
        clarification_request=red(t.clarification_request),
        clarification_answer=red(t.clarification_answer),
    )


def _plain(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if hasattr(v, "value"):
        return v.value
    return v


def ticket_view(t: Ticket, show_personal: bool) -> dict[str, Any]:
    """The ticket as JSON-ready data; masked (:func:`masked_ticket`) unless ``show_personal``."""
    shown = t if show_personal else masked_ticket(t)
    data: dict[str, Any] = _plain(dataclasses.asdict(shown))
    data["caller"] = caller_view(t.caller, show_personal)
    return data
