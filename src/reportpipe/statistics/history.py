"""What a schema can't catch: a month that passes every rule but is out of line with its history.

Volume: a loaded month's row count, and its count per category of the columns a contract
names (`history.volume.by`, e.g. 来源渠道), against the trailing 12 loaded months of the
source, once at least 3 exist: below `low` or above `high` × the trailing median, a
category that disappears, or one that appears for the first time. A median below
`min_median` is a handful of rows: one more or one less (or none) is not flagged. Loading
a month checks the later months it is history for again. A flagged month still loads;
its figures are provisional with the reason (and the statistics DAG alerts when it first
publishes the flag) until an operator who checked it with the sending office accepts it
(`reportpipe accept`, the note kept in `acceptances`). A new delivery of the month is
checked again and needs its own acceptance.

Freshness: the export of month M is due by day `history.due_day` of M+1 (default the
10th); `reportpipe status` marks months overdue that have nothing loaded by then.
"""

from __future__ import annotations

import calendar
import datetime as dt
import statistics as stats
from pathlib import Path

import duckdb

from reportpipe.contracts import Source
from reportpipe.warehouse.sql import quote

TRAILING = 12
MIN_HISTORY = 3


def _median_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def check_month(con: duckdb.DuckDBPyConnection, source: Source, month: dt.date) -> None:
    """Check the loaded month against its history, then the later loaded months it is history for.

    Months can arrive in any order (a backfill runs them side by side, a late export comes after
    its successors): what month_checks holds depends on the loaded months, never on their order.
    """
    later = [m for m, in con.execute(
        "SELECT month FROM loaded_months WHERE source_id = ? AND month > ? ORDER BY month LIMIT ?",
        [source.source_id, month, TRAILING]).fetchall()]
    for m in [month, *later]:
        _check(con, source, m)


def _check(con: duckdb.DuckDBPyConnection, source: Source, month: dt.date) -> None:
    """Replace the month's rows in month_checks with what its history says about it."""
    sid, band = source.source_id, source.history.volume
    con.execute("DELETE FROM month_checks WHERE source_id = ? AND month = ?", [sid, month])
    trailing = [m for m, in con.execute(
        "SELECT month FROM loaded_months WHERE source_id = ? AND month < ? ORDER BY month DESC LIMIT ?",
        [sid, month, TRAILING]).fetchall()]
    if len(trailing) < MIN_HISTORY:
        return
    file_id, rows = con.execute("SELECT file_id, rows FROM loaded_months WHERE source_id = ? AND month = ?",
                                [sid, month]).fetchone()
    history = [r for r, in con.execute("SELECT rows FROM loaded_months WHERE source_id = ? AND list_contains(?, month)",
                                       [sid, trailing]).fetchall()]
    checks = [_band(f"{month:%Y-%m} {sid}: {rows:,} rows", None, rows, history, band)]
    for column in band.by:
        counts = con.execute(
            f"SELECT CAST({quote(column)} AS VARCHAR) AS category, month, count(*) FROM stg_{sid}"
            f" WHERE month = ? OR list_contains(?, month) GROUP BY ALL", [month, trailing]).fetchall()
        categories = sorted({c for c, _, _ in counts if c is not None})
        for category in categories:
            now = sum(n for c, m, n in counts if c == category and m == month)
            before = [sum(n for c, m, n in counts if c == category and m == t) for t in trailing]
            subject, median = f"{column}={category}", stats.median(before)
            if now and not any(before):
                checks.append((subject, now, 0.0, True,
                               f"{month:%Y-%m} {sid}: {subject} appears for the first time ({now:,} rows)"))
            elif not now and median > 0 and median >= band.min_median:  # a handful gone is one less, not news
                checks.append((subject, 0, median, True,
                               f"{month:%Y-%m} {sid}: {subject} disappeared (median {_median_text(median)})"))
            else:
                checks.append(_band(f"{month:%Y-%m} {sid}: {subject} {now:,} rows", subject, now, before, band))
    con.executemany("INSERT INTO month_checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                    [[sid, month, file_id, subject, observed, median, flagged, reason]
                     for subject, observed, median, flagged, reason in checks])


def open_flags(warehouse_dir: Path) -> set[tuple[str, dt.date, int, str]]:
    """The published flags nobody has accepted: (source_id, month, loaded version, reasons)."""
    from reportpipe.warehouse.publication import REPORT_DB, open_published

    if not (Path(warehouse_dir) / REPORT_DB).exists():
        return set()
    with open_published(warehouse_dir) as con:
        return set(con.execute("SELECT source_id, month, loaded_version, anomaly FROM month_status"
                               " WHERE anomaly IS NOT NULL AND accepted_note IS NULL").fetchall())


def _band(what: str, subject: str | None, observed: int, history: list[int], band) -> tuple:
    median = float(stats.median(history))
    flagged = median >= band.min_median and not band.low * median <= observed <= band.high * median
    reason = f"{what}, median {_median_text(median)}" if flagged else None
    return subject, observed, median, flagged, reason


def due_date(month: dt.date, source: Source) -> dt.date:
    """The day by which the export of `month` is due: day due_day of the following month."""
    following = month.replace(day=28) + dt.timedelta(days=4)
    return following.replace(day=min(source.history.due_day, calendar.monthrange(following.year, following.month)[1]))


def is_overdue(month: dt.date, source: Source, loaded: bool, today: dt.date) -> bool:
    return not loaded and today > due_date(month, source)
