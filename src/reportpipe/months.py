"""Months, as the exports, the runs and the warehouse name them: the file's YYYYMM, an operator's YYYY-MM,
the DATE of the month's first day that every table keys months by."""

from __future__ import annotations

import datetime as dt
import re


def parse_month(text: str) -> dt.date:
    """'2023-03' as the first day of the month; ValueError naming the text for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{text!r} is not a month YYYY-MM")
    return dt.date(int(match[1]), int(match[2]), 1)
