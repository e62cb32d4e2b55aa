"""The typed intake contract: a new report as every channel hands it over, parsed and bounded.

:class:`NewReport` (a pydantic model) is what a front door turns its input into — the CLI's JSON, the
dialogue's draft, the web form, Open311 — before the ticket service files it. Every field has a type
and a limit: text is NFC-normalised, stripped, bounded in length and free of control characters (line
breaks only where text runs over lines); phone numbers and citizen IDs have their format;
``complete`` and ``confidential`` are real booleans (``"false"`` is refused, not read as true).
:func:`parse_report` raises :class:`ticketing.domain.errors.ValidationError` with one line naming the
field; :func:`file_report` files a report through the resilient filing path
(:class:`ticketing.filing.ReportFiler`).

The domain still checks what only it knows (known categories and wards, the 12 digits of a CCCD).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic import ValidationError as PydanticError
from pydantic.functional_validators import AfterValidator

from ticketing.domain.errors import ValidationError

if TYPE_CHECKING:
    from ticketing.filing import Filed, ReportFiler

MAX_CONTENT = 5_000
MAX_TRANSCRIPT = 100_000
_MULTILINE_OK = frozenset("\n\t")
_PHONE = re.compile(r"\+?\d{3,15}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_CCCD = re.compile(r"\d{9}|\d{12}")  # the 12-digit CCCD, or a 9-digit ID card still in use
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_WARD_CODE = re.compile(r"\d{5}")


def _text_in(value: Any) -> Any:
    """JSON null is empty text; a number is taken as its digits (a phone typed as a number)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _clean(value: str, multiline: bool) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs", "Co") and not (multiline and ch in _MULTILINE_OK):
            raise ValueError(f"ký tự điều khiển không được phép / control character U+{ord(ch):04X}")
    return value


def _line(value: str) -> str:
    return _clean(value, multiline=False)


def _lines(value: str) -> str:
    return _clean(value, multiline=True)


def _phone(value: str) -> str:
    if not value:
        return value
    compact = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE.fullmatch(compact):
        raise ValueError("số điện thoại chỉ gồm 3-15 chữ số / a phone number has 3 to 15 digits")
    return compact


def _cccd(value: str) -> str:
    if value and not _CCCD.fullmatch(value.replace(" ", "")):
        raise ValueError("số CCCD gồm 12 chữ số / a citizen ID has 12 digits")
    return value.replace(" ", "")


def _email(value: str) -> str:
    if value and not _EMAIL.fullmatch(value):
        raise ValueError("địa chỉ e-mail không hợp lệ / not an e-mail address")
    return value


def _ward_code(value: str) -> str:
    if value and not _WARD_CODE.fullmatch(value):
        raise ValueError("mã phường/xã gồm 5 chữ số / a ward code has 5 digits")
    return value


def _incident(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return _text_in(value)


_In = BeforeValidator(_text_in)
Text20 = Annotated[str, _In, Field(max_length=20), AfterValidator(_line)]
Text40 = Annotated[str, _In, Field(max_length=40), AfterValidator(_line)]
Text100 = Annotated[str, _In, Field(max_length=100), AfterValidator(_line)]
Text120 = Annotated[str, _In, Field(max_length=120), AfterValidator(_line)]
Text300 = Annotated[str, _In, Field(max_length=300), AfterValidator(_line)]
Content = Annotated[str, _In, Field(max_length=MAX_CONTENT), AfterValidator(_lines)]
Transcript = Annotated[str, _In, Field(max_length=MAX_TRANSCRIPT), AfterValidator(_lines)]
When = Annotated[str, BeforeValidator(_incident), Field(max_length=40), AfterValidator(_line)]
Phone = Annotated[str, _In, Field(max_length=32), AfterValidator(_line), AfterValidator(_phone)]
Cccd = Annotated[str, _In, Field(max_length=16), AfterValidator(_line), AfterValidator(_cccd)]
Email = Annotated[str, _In, Field(max_length=254), AfterValidator(_line), AfterValidator(_email)]
WardCode = Annotated[str, _In, Field(max_length=5), AfterValidator(_line), AfterValidator(_ward_code)]
Flag = Annotated[StrictBool, BeforeValidator(lambda v: False if v is None else v)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CallerIn(_Model):
    name: Text100 = ""
    cccd: Cccd = ""
    phone: Phone = ""
    address: Text300 = ""
    email: Email = ""
    confidential: Flag = False


class PlaceIn(_Model):
    address: Text300 = ""
    ward_code: WardCode = ""
    ward_name: Text120 = ""
    city: Text20 = ""
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None


class NewReport(_Model):
    """A report to file, as any channel hands it over (the shape of ``hotline tickets create``)."""

    channel: Text20 = "phone"
    kind: Text40 = "field_report"
    category: Text20 = ""
    priority: Text20 = "normal"
    caller: CallerIn = CallerIn()
    place: PlaceIn = PlaceIn()
    content: Content = ""
    incident_time: Annotated[Text40, BeforeValidator(_incident)] = ""
    transcript: Transcript = ""
    city: Text20 = ""
    complete: StrictBool = True
    lead_agency: Text40 = ""

    def as_data(self) -> dict[str, Any]:
        """The ticket service's creation mapping (empty optional fields left out)."""
        data = self.model_dump()
        for key in ("incident_time", "city", "lead_agency"):
            if not data[key]:
                del data[key]
        for key in ("lat", "lon"):
            if data["place"][key] is None:
                del data["place"][key]
        return data


class ReportChanges(_Model):
    """The fields a call-back fills into a draft (``TicketService.complete_draft``); all optional."""

    channel: Text20 | None = None
    kind: Text40 | None = None
    category: Text20 | None = None
    priority: Text20 | None = None
    caller: CallerIn | None = None
    place: PlaceIn | None = None
    content: Content | None = None
    incident_time: Annotated[Text40, BeforeValidator(_incident)] | None = None
    transcript: Transcript | None = None

    def as_data(self) -> dict[str, Any]:
        """Only the fields given (in nested objects too)."""
        return self.model_dump(exclude_unset=True)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _message(exc: PydanticError) -> str:
    """The first error as one line, Vietnamese / English."""
    unknown = [e for e in exc.errors() if e["type"] == "extra_forbidden"]
    if unknown:
        parent = _where(unknown[0]["loc"][:-1])
        names = ", ".join(sorted(str(e["loc"][-1]) for e in unknown if _where(e["loc"][:-1]) == parent))
        if parent:
            return f"Trường không hợp lệ trong {parent}: {names} / unknown fields in {parent}: {names}"
        return f"Trường không hợp lệ: {names} / unknown fields: {names}"
    err = exc.errors()[0]
    where, kind = _where(err["loc"]), err["type"]
    if kind == "model_type" or kind == "model_attributes_type":
        if not where:
            return "Dữ liệu phiếu phải là một đối tượng JSON / ticket data must be a JSON object"
        return f"Trường {where} phải là một đối tượng / {where} must be an object"
    if kind.startswith("bool"):
        return f"Trường {where} phải là true hoặc false / {where} must be true or false"
    if kind == "string_type":
        return f"Trường {where} phải là chuỗi / {where} must be a string"
    if kind in ("string_too_long", "too_long"):
        most = (err.get("ctx") or {}).get("max_length")
        return f"Trường {where} quá dài (tối đa {most} ký tự) / {where} is longer than {most} characters"
    if kind == "value_error":
        cause = str((err.get("ctx") or {}).get("error", err["msg"]))
        return f"Trường {where} không hợp lệ: {cause} / invalid {where}"
    return f"Trường {where} không hợp lệ / invalid {where}: {err['msg']}"


def parse_report(data: Any) -> NewReport:
    """A :class:`NewReport` from JSON-like data (or as it is); one-line ValidationError otherwise."""
    if isinstance(data, NewReport):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError("Dữ liệu phiếu phải là một đối tượng JSON / ticket data must be a JSON object")
    try:
        return NewReport.model_validate(dict(data))
    except PydanticError as exc:
        raise ValidationError(_message(exc)) from None


def parse_changes(data: Any) -> ReportChanges:
    """The fields of a draft's completion, checked as :func:`parse_report` checks a new report."""
    if not isinstance(data, Mapping):
        raise ValidationError("Dữ liệu phiếu phải là một đối tượng JSON / ticket data must be a JSON object")
    try:
        return ReportChanges.model_validate(dict(data))
    except PydanticError as exc:
        message = _message(exc).replace("Trường không hợp lệ:", "Trường không sửa được:")
        raise ValidationError(message.replace("unknown fields:", "fields that cannot be set:")) from None


def file_report(filer: ReportFiler, report: NewReport | Mapping[str, Any], actor: str) -> Filed:
    """File a report from any channel: a ticket; else kept as a draft; else journaled for replay."""
    return filer.file(parse_report(report), actor)


_NOTED = {"phone": "số điện thoại", "cccd": "CCCD", "email": "e-mail", "ward_code": "mã phường"}


def bounded(data: Mapping[str, Any]) -> dict[str, Any]:
    """A report a program composed (a call's draft) made to fit the contract rather than lost: text
    over its limit is cut, control characters are dropped, and a malformed phone, CCCD, e-mail or
    ward code is moved into the content as a note for the operator. Unknown fields still fail."""
    fixed: dict[str, Any] = {k: dict(v) if isinstance(v, Mapping) else v for k, v in data.items()}
    for _ in range(20):  # each round fixes every field reported; nested fields take a second round
        try:
            NewReport.model_validate(fixed)
        except PydanticError as exc:
            changed = False
            for err in exc.errors():
                loc = err["loc"]
                holder: Any = fixed
                for part in loc[:-1]:
                    holder = holder.get(part) if isinstance(holder, dict) else None
                key = loc[-1] if loc else None
                if not isinstance(holder, dict) or not isinstance(key, str) or key not in holder:
                    continue
                value = str(_text_in(holder[key]))
                if err["type"] in ("string_too_long", "too_long"):
                    most = int((err.get("ctx") or {}).get("max_length") or 0)
                    holder[key] = value[: max(0, most - 1)] + "…"
                elif err["type"] == "value_error" and key in _NOTED:
                    holder[key] = ""
                    said = "".join(ch for ch in value if ch.isprintable())
                    note = f"({_NOTED[key]} theo người gọi: {said})"
                    fixed["content"] = f"{note} {fixed.get('content') or ''}".strip()  # first: kept if cut
                elif err["type"] == "value_error":
                    holder[key] = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
                else:
                    continue
                changed = True
            if not changed:
                return fixed
        else:
            return fixed
    return fixed
