"""The engine's Vietnamese prompts: Jinja2 templates in ``templates/*.j2``, rendered to one line of text.

Filters read numbers the way an operator does on the phone: digits one by one, phone numbers in 4-3-3
groups, times as "21 giờ 00 ngày 22 tháng 11 năm 2026".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from nlu.dialogue.slots import code_vi, digits_vi, phone_vi


def time_vi(value: str) -> str:
    """ISO date or datetime -> spoken Vietnamese; anything else is returned as is."""
    try:
        if "T" in value:
            dt = datetime.fromisoformat(value)
            return f"{dt.hour} giờ {dt.minute:02d} ngày {dt.day} tháng {dt.month} năm {dt.year}"
        d = date.fromisoformat(value)
    except ValueError:
        return value
    return f"ngày {d.day} tháng {d.month} năm {d.year}"


def date_vi(value: str) -> str:
    return time_vi(value[:10]) if len(value) >= 10 else value


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("nlu.dialogue", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # plain text for speech, never HTML
        keep_trailing_newline=False,
    )
    env.filters.update(
        code_vi=code_vi, digits_vi=digits_vi, phone_vi=phone_vi, time_vi=time_vi, date_vi=date_vi
    )
    return env


def render(name: str, **context: Any) -> str:
    """Render prompt ``name`` (``templates/<name>.j2``) as one line of text."""
    text = _environment().get_template(f"{name}.j2").render(**context)
    return re.sub(r"\s+", " ", text).strip()


def template_names() -> list[str]:
    return sorted(n.removesuffix(".j2") for n in _environment().list_templates(extensions=["j2"]))
