"""The number rule, one for every output: how a figure's value and its markers are written.

Integers without separators in running text (2502件), with separators in tables (2,502);
rates to one decimal with % in both (100.0%); other numbers to at most two decimals. The
draft writes the figures the template declares approximate the report's way (90余块); the
workbook keeps the exact value.

Markers (as in the UK Government Statistical Service's spreadsheet guidance):
[p] provisional (a month of the figure's source is missing or in doubt),
[r] revised (a re-delivered month changed the published value),
[x] not available, [z] not applicable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reportpipe.settings import TIMEZONE

PROVISIONAL = "[p]"
REVISED = "[r]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
RATE_UNIT = "%"
APPROXIMATE = "余"


def figure_text(value: float | None, unit: str, markers: list[str] = (), approximate: int | None = None) -> str:
    """A value in running text: 2502件, 100.0%, 90余块, then its markers.

    With `approximate`, the value is rounded down to a multiple of it and written "N余" ("more than
    N"), but only where that is true: 97 with 10 is 90余, 90 stays 90, 2502 with 1 stays 2502.
    """
    if value is None:
        shown = "—"  # a rate with nothing to divide by
    elif unit == RATE_UNIT:
        shown = f"{value:.1f}"
    elif approximate and 0 < (floor := value // approximate * approximate) < value:
        shown = f"{int(floor)}{APPROXIMATE}"
    elif float(value).is_integer():
        shown = f"{int(value)}"
    else:
        shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{shown}{unit}{''.join(markers)}"


@dataclass(frozen=True)
class Number:
    """A numeric workbook cell: the value stays a number; the format shows it by the number rule."""

    value: int | float
    format: str


POINTS = "百分点"  # a rate's change


def table_number(value: float | None, unit: str):
    """A table cell for a value: 2,502 / 100.0% / 12.5 (percentage points), or [x] when there is none."""
    if value is None:
        return NOT_AVAILABLE
    value = int(value) if float(value).is_integer() else float(value)
    if unit == RATE_UNIT:
        return Number(value, '0.0"%"')
    if unit == POINTS:
        return Number(value, "0.0")
    return Number(value, "#,##0" if isinstance(value, int) else "#,##0.0#")


def approximation_rule(multiple: int) -> str:
    """How the draft writes an approximate figure, in words."""
    if multiple == 1:
        return f"写作整数加“{APPROXIMATE}”"
    return f"向下取整到{multiple}的倍数后加“{APPROXIMATE}”"


def local_time(moment: dt.datetime | None) -> str:
    """A timestamp in the subdistrict's time zone, to the minute."""
    if moment is None:
        return NOT_AVAILABLE
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M")
