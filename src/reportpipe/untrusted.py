"""A value that came from a delivered file (a cell, a header or file name), shown anywhere.

Whoever can put a file into an inbox controls it, so it is never shown as it is: in a
terminal or log its control characters are escaped (`printable`), in a message it is
quoted and cut (`quoted`), personal data is masked (`masked`), and in a CSV or a
workbook it can never become a formula (`FORMULA_TRIGGERS`, `csv_cell`). HTML escapes it
where HTML is written (Jinja's autoescape, `html.escape`, reportpipe.validation.validator).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

MAX_QUOTED = 100  # characters of a delivered value a message quotes
# Characters that make Excel read a text cell as a formula (OWASP: CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def printable(text: str) -> str:
    """The text with control and format characters escaped, so that it cannot fake a line or move the cursor."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch == "\\":
            out.append(ch.encode("unicode_escape").decode("ascii") if ch != "\\" else "\\\\")
        else:
            out.append(ch)
    return "".join(out)


def quoted(value: object) -> str:
    """A value as a message quotes it: 'text' (escaped as Python does), a date, a long text cut, `empty`."""
    if value is None:
        return "empty"
    if isinstance(value, dt.datetime):
        return repr(f"{value:%Y-%m-%d %H:%M:%S}")
    if isinstance(value, dt.date):
        return repr(f"{value:%Y-%m-%d}")
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return f"{value[:MAX_QUOTED]!r}… ({len(value):,} characters)"
    return repr(value)


def masked(value: str) -> str:
    """Enough of a personal value to find it in the file, not enough to read it."""
    if len(value) <= 2:
        return "*" * len(value)
    keep = max(1, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def csv_cell(value):
    """A value for a CSV that Excel shows and never evaluates: a leading ' before a formula character."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
