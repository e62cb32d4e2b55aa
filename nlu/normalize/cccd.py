"""The 12-digit personal ID number (số định danh cá nhân, printed on CCCD / thẻ Căn cước).

Structure ``PPP G YY RRRRRR`` (/work/shared/domain/ids.md §1): PPP = birth-registration province code
(one of 63, table in nlu/data/cccd_provinces.tsv), G = century and sex, YY = birth year. There is no
public checksum, so none is checked. The birth year must not be in the future nor before 1900.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from nlu.normalize.numbers import bridge_hesitations, digit_runs_in_tokens
from nlu.normalize.text import fold, tokens


@lru_cache(maxsize=1)
def province_codes() -> dict[str, str]:
    """Birth-registration province code (3 digits) -> province name."""
    text = resources.files("nlu").joinpath("data/cccd_provinces.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {code: name for code, name in rows}


@dataclass(frozen=True)
class CccdInfo:
    number: str
    province: str
    sex: str  # "nam" | "nữ"
    birth_year: int


def decode_cccd(number: str, current_year: int | None = None) -> CccdInfo | None:
    """Decode and sanity-check a 12-digit number; None when it cannot be a personal ID number."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return None
    province = province_codes().get(number[:3])
    if province is None:
        return None
    g = int(number[3])
    birth_year = (19 + g // 2) * 100 + int(number[4:6])
    year_now = current_year if current_year is not None else date.today().year
    if not 1900 <= birth_year <= year_now:
        return None
    return CccdInfo(number, province, "nam" if g % 2 == 0 else "nữ", birth_year)


def normalize_cccd(text: str, current_year: int | None = None) -> str | None:
    """A personal ID number said or keyed in ``text`` -> its 12 digits, or None.

    >>> normalize_cccd("không không một không tám chín không không một hai ba bốn", current_year=2026)
    '001089001234'
    """
    return find_cccd_in_tokens([fold(t) for t in tokens(text)], current_year)


def find_cccd_in_tokens(folded: list[str], current_year: int | None = None) -> str | None:
    for run in digit_runs_in_tokens(bridge_hesitations(folded)):
        if decode_cccd(run.digits, current_year) is not None:
            return run.digits
    return None
