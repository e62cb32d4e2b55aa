"""Vietnamese vocabulary shared by the training-data generator and the evaluation-set builder.

Only value pools and spoken-form helpers live here (names, digits as words, ward mentions); the
phrasings (templates) are separate in each script so the evaluation set stays disjoint from training.
"""

from __future__ import annotations

import random

import reference
from reference import units

DIGIT_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
FAMILY: tuple[str, ...] = (
    "nguyễn",
    "trần",
    "lê",
    "phạm",
    "hoàng",
    "huỳnh",
    "phan",
    "vũ",
    "võ",
    "đặng",
    "bùi",
    "đỗ",
    "hồ",
    "ngô",
)
FAMILY += ("dương", "lý", "đinh", "trịnh", "mai", "lương", "tạ", "cao", "đoàn", "vương")
MIDDLE: tuple[str, ...] = (
    "văn",
    "thị",
    "hữu",
    "đức",
    "minh",
    "thanh",
    "ngọc",
    "quốc",
    "xuân",
    "thu",
    "hồng",
    "đình",
    "công",
)
GIVEN: tuple[str, ...] = (
    "an",
    "bình",
    "cường",
    "dũng",
    "giang",
    "hà",
    "hải",
    "hạnh",
    "hiếu",
    "hoa",
    "hùng",
    "hương",
    "khánh",
)
GIVEN += (
    "lan",
    "linh",
    "long",
    "mai",
    "minh",
    "nam",
    "nga",
    "ngọc",
    "phong",
    "phương",
    "quang",
    "quân",
    "sơn",
)
GIVEN += ("tâm", "thảo", "thắng", "thủy", "trang", "trung", "tuấn", "vân", "việt", "yến", "hiền", "lộc")
MOBILE_PREFIXES: tuple[str, ...] = (
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "086",
    "088",
    "032",
    "033",
    "035",
    "070",
    "077",
)
MOBILE_PREFIXES += ("079", "081", "083", "084", "085", "039", "089")
CITIES = reference.CITIES


def spoken_digits(digits: str, rng: random.Random) -> str:
    """Digits read one by one, as Vosk writes them; sometimes "linh" for zero."""
    zero = "linh" if rng.random() < 0.08 else "không"
    return " ".join(zero if d == "0" else DIGIT_WORDS[int(d)] for d in digits)


def random_name(rng: random.Random) -> str:
    parts = [rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)]
    if rng.random() < 0.2:
        parts.insert(2, rng.choice(GIVEN))
    return " ".join(parts)


def random_phone(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(7))


def random_cccd(rng: random.Random) -> str:
    province = rng.choice(("001", "031", "092", "036", "034", "038", "079", "040"))
    return province + rng.choice("0123") + f"{rng.randint(0, 99):02d}" + f"{rng.randint(0, 999999):06d}"


def random_dossier_tail(rng: random.Random) -> str:
    return (
        f"{rng.randint(24, 26):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(1, 999):04d}"
    )


def ward_mention(rng: random.Random, city: str = "hanoi") -> tuple[str, str]:
    """(spoken mention, official name) of a random unit; the unit type word is sometimes dropped."""
    unit = rng.choice(units(city))
    short = unit.short_name.lower()
    style = rng.random()
    if style < 0.6:
        spoken = f"{unit.unit_type} {short}"
    elif style < 0.85:
        spoken = short
    else:
        spoken = f"{unit.unit_type} {short}" if unit.unit_type != "phường" else f"phuong {short}"
    return spoken, unit.name
