"""The one masking policy for callers' personal data (CCCD, phone, e-mail, confidential identities).

Every front door shows a caller through :func:`caller_view`: the CLI (``--show-personal`` or not), the
staff portal (by the acting user's permissions, see :mod:`ticketing.staff`) and the public pages.
A confidential caller (iHN Art. 5.7) is hidden entirely unless the viewer may see that identity, and
such a view is audited by the service that grants it.

The policy covers every field that can hold personal data, not only the caller block: the call
transcript, the content, attachments' file names, history notes, results and clarifications
(:func:`redact_text`, :func:`masked_ticket`). Phone numbers and citizen IDs in them are masked whether
written as digits or spoken as Vietnamese digit words ("không chín một hai ..."), e-mail addresses
too; a confidential caller's own name and identifiers are removed wherever they appear (with or
without diacritics, in any case). :func:`ticket_view` is the JSON-ready form for the CLI and the API.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ticketing.domain.model import Caller, Ticket

HIDDEN = "(ẩn danh / confidential)"
REDACTED = "(đã ẩn / hidden)"

# Vietnamese digit words as ASR and callers say them (folded: no diacritics, lower case).
_DIGIT_WORDS = "khong|mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin|linh|le|muoi|moi"
# A run of at least 8 digits, possibly grouped with spaces, dots or dashes (phones, CCCD, old ID cards).
_DIGIT_RUN = re.compile(r"(?<!\w)\+?\d(?:[ .\-]?\d){7,}(?!\w)")
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


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    return mask(local) + (at + domain if at else "")


@dataclass(frozen=True)
class CallerView:
    """What a viewer sees of a caller; ``masked``/``hidden`` say what was withheld."""

    name: str
    cccd: str
    phone: str
    address: str
    email: str
    confidential: bool
    masked: bool  # contact data masked
    hidden: bool  # a confidential identity withheld

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cccd": self.cccd,
            "phone": self.phone,
            "address": self.address,
            "email": self.email,
            "confidential": self.confidential,
        }


def view_caller(caller: Caller, *, contact: bool, confidential: bool) -> CallerView:
    """The caller as a viewer sees it: ``contact`` - may see phone/CCCD/e-mail unmasked;
    ``confidential`` - may see a confidential caller's identity at all."""
    c = caller
    if c.confidential and not confidential:
        return CallerView(HIDDEN, "", "", "", "", True, masked=True, hidden=True)
    if contact:
        return CallerView(c.name, c.cccd, c.phone, c.address, c.email, c.confidential, False, False)
    return CallerView(
        c.name, mask(c.cccd), mask(c.phone), c.address, mask_email(c.email), c.confidential, True, False
    )


def caller_view(t: Ticket, show_personal: bool) -> dict[str, Any]:
    """The CLI's view: everything with ``show_personal``, else masked with confidential callers hidden."""
    if show_personal:
        return dataclasses.asdict(t.caller)
    return view_caller(t.caller, contact=False, confidential=False).as_dict()


def reveals_confidential(caller: Caller, view: CallerView) -> bool:
    """Whether showing ``view`` shows a confidential caller's identity (to be audited)."""
    return caller.confidential and not view.hidden


def _fold_char(ch: str) -> str:
    """One character without its diacritics, lower case (``Đ`` -> ``d``); always one character, so
    positions in the folded text are positions in the original."""
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[:1] or ch
    return base.lower() if len(base.lower()) == 1 else ch


class _FoldTable(dict[int, str]):
    """``str.translate`` table filled on first use of each character with :func:`_fold_char`."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    return text.translate(_FOLD_TABLE)


def _replace_spans(text: str, spans: list[tuple[int, int]], by: str) -> str:
    out, last = [], 0
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):  # longest first
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
        pattern = r"\b" + r"[\s,._\-]+".join(re.escape(w) for w in name_words) + r"\b"
        spans += [m.span() for m in re.finditer(pattern, folded)]
        given = name_words[-1]  # "chị Ngọc", "anh Nam": the given name alone names the caller too
        if len(given) >= 2:
            spans += [m.span() for m in re.finditer(rf"\b{re.escape(given)}\b", folded)]
    for value in (caller.phone, caller.cccd, caller.email):
        value = value.strip()
        if len(value) >= 4:
            spans += [m.span() for m in re.finditer(re.escape(_fold(value)), folded)]
    return spans


def redact_text(text: str, caller: Caller, *, contact: bool = False, confidential: bool = False) -> str:
    """Free text as a viewer sees it: a confidential caller's identity removed unless
    ``confidential``; phone numbers, citizen IDs and e-mail addresses masked unless ``contact``."""
    if not text:
        return text
    text = unicodedata.normalize("NFC", text)
    if caller.confidential and not confidential:
        text = _replace_spans(text, _identity_spans(_fold(text), caller), HIDDEN)
    if contact:
        return text
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    text = _DIGIT_RUN.sub(lambda m: mask(m.group()), text)
    spoken = [m.span() for m in _SPOKEN_RUN.finditer(_fold(text))]
    return _replace_spans(text, spoken, REDACTED + " ")


def masked_ticket(t: Ticket, *, contact: bool = False, confidential: bool = False) -> Ticket:
    """A copy of the ticket as a viewer sees it (see :func:`view_caller` for ``contact`` and
    ``confidential``): the caller block and every free text that can hold personal data."""
    caller = t.caller
    view = view_caller(caller, contact=contact, confidential=confidential)

    def red(text: str) -> str:
        return redact_text(text, caller, contact=contact, confidential=confidential)

    return dataclasses.replace(
        t,
        caller=Caller(view.name, view.cccd, view.phone, view.address, view.email, view.confidential),
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
    """The ticket as JSON-ready data (CLI, API); masked (:func:`masked_ticket`) unless ``show_personal``."""
    shown = t if show_personal else masked_ticket(t)
    data: dict[str, Any] = _plain(dataclasses.asdict(shown))
    data["caller"] = caller_view(t, show_personal)
    return data
