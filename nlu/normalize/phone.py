"""Vietnamese phone numbers from spoken or keyed input, validated with ``phonenumbers`` (region VN).

Output is the national form with its leading 0: "0912345678" (mobile, 10 digits) or "02438253536"
(landline, 11 digits). "+84"/"84" (spoken "cộng tám tư") becomes 0. Old 11-digit mobile numbers
(before the 2018 conversion, /work/shared/domain/ids.md §3) are mapped to their 10-digit form.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from nlu.normalize.numbers import DigitRun, bridge_hesitations, digit_runs_in_tokens
from nlu.normalize.text import fold, tokens

_ACCEPTED_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}

# 11 -> 10 digit mobile conversion of 2018 (ids.md §3): old prefix -> new prefix, last 7 digits kept.
OLD_MOBILE_PREFIXES = {
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",
    "0167": "037", "0168": "038", "0169": "039",
    "0186": "056", "0188": "058", "0199": "059",
}  # fmt: skip


def is_valid_vn_number(national: str) -> bool:
    """True when ``national`` (0 + subscriber digits) is a valid VN mobile or landline number."""
    if not national.isascii() or not national.isdigit() or not national.startswith("0"):
        return False
    try:
        parsed = phonenumbers.parse(national, "VN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in _ACCEPTED_TYPES


def _national_candidates(digits: str) -> list[str]:
    out = []
    if digits.startswith("84") and len(digits) in (11, 12):
        out.append("0" + digits[2:])
    if digits.startswith("0084") and len(digits) in (13, 14):
        out.append("0" + digits[4:])
    out.append(digits)
    if len(digits) == 11 and digits[:4] in OLD_MOBILE_PREFIXES:
        out.append(OLD_MOBILE_PREFIXES[digits[:4]] + digits[4:])
    return out


def phone_from_digits(digits: str) -> str | None:
    """The valid national number spelt by a digit string, or None."""
    for candidate in _national_candidates(digits):
        if is_valid_vn_number(candidate):
            return candidate
    return None


def _phone_in_runs(runs: list[DigitRun]) -> str | None:
    for run in runs:
        found = phone_from_digits(run.digits)
        if found is not None:
            return found
    return None


def normalize_phone(text: str) -> str | None:
    """A VN phone number said or keyed anywhere in ``text`` -> "0912345678", or None.

    >>> normalize_phone("không chín một hai ba bốn năm sáu bảy tám")
    '0912345678'
    >>> normalize_phone("+84 912 345 678")
    '0912345678'
    """
    return find_phone_in_tokens([fold(t) for t in tokens(text)])


def find_phone_in_tokens(folded: list[str]) -> str | None:
    return _phone_in_runs(digit_runs_in_tokens(bridge_hesitations(folded)))
