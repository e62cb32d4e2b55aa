"""Reading a JSON document given on the command line (a file or ``-``) into one-line errors.

``json.load`` fails in more ways than ``JSONDecodeError``: a file that is not UTF-8, nesting deep
enough to exhaust the recursion limit, an integer longer than Python's 4,300-digit conversion limit.
Each becomes a :class:`UserError` naming the problem, never a traceback.
"""

from __future__ import annotations

import json
from typing import IO, Any

from commands.errors import UserError

MAX_BYTES = 32 * 1024 * 1024  # a report or draft is kilobytes; anything this big is a mistake


def load_json(file: IO[str]) -> Any:
    """The JSON value in ``file`` (opened as UTF-8 text), or a one-line :class:`UserError`."""
    try:
        text = file.read(MAX_BYTES + 1)
    except UnicodeDecodeError as exc:
        raise UserError(
            f"Tệp không phải UTF-8 (byte {exc.start}) / not a UTF-8 file (byte {exc.start}); save it as UTF-8"
        ) from None
    if len(text) > MAX_BYTES:
        raise UserError(f"Tệp JSON quá lớn / JSON file too large (more than {MAX_BYTES // 1048576} MB)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"JSON không hợp lệ / malformed JSON: {exc}") from None
    except RecursionError:
        raise UserError("JSON lồng nhau quá sâu / JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer over the 4,300-digit conversion limit
        raise UserError(f"JSON không hợp lệ / malformed JSON: {str(exc).split(';')[0]}") from None
