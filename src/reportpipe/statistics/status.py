"""Where every source-month of a year stands: loaded version, rejected deliveries, missing,
overdue, history flags and their acceptance. Read from the published report.duckdb; the
CLI's `reportpipe status` and the operator's page in the Airflow UI show the same cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import duckdb

from reportpipe.contracts import sources
from reportpipe.statistics.history import due_date, is_overdue

# Each state a cell can be in: its mark in the grid and what it means (the page's CSS class too).
LEGEND = {
    "loaded": "vN: version N loaded",
    "newer-rejected": "vN!: loaded, a newer delivery was rejected",
    "anomaly": "vN?: out of line with the source's history (reportpipe accept clears it)",
    "accepted": "vN✓: an operator checked the flag and accepted it",
    "rejected": "✗vN: only rejected deliveries",
    "missing": "·: not delivered yet",
    "overdue": "late: not delivered by the day it was due",
}


@dataclass(frozen=True)
class Delivery:
    """One delivered file of a source-month: the loaded one, or a rejected one with its problems."""

    file: str  # the name as delivered
    version: int
    sha256: str
    rows: int | None
    message: str | None = None  # a rejected file's problems, one a line, personal data masked


@dataclass(frozen=True)
class Cell:
    source_id: str
    month: str  # YYYY-MM
    due: str  # YYYY-MM-DD: the day its export is due
    loaded: Delivery | None = None
    rejected: tuple[Delivery, ...] = ()  # every rejected delivery of the month, newest first
    rejected_version: int | None = None  # the newest rejected delivery, when it came after the loaded one
    anomaly: str | None = None  # what the history checks flagged about the loaded file
    accepted: str | None = None  # the note of the operator who accepted the flag
    overdue: bool = False

    @property
    def loaded_version(self) -> int | None:
        return self.loaded.version if self.loaded else None

    @property
    def states(self) -> list[str]:
        if self.loaded is None:
            return ["rejected" if self.rejected_version else "overdue" if self.overdue else "missing"]
        states = ["loaded"] + (["newer-rejected"] if self.rejected_version else [])
        return states + (["accepted" if self.accepted else "anomaly"] if self.anomaly else [])

    @property
    def label(self) -> str:
        if self.loaded is None:
            return f"✗v{self.rejected_version}" if self.rejected_version else "late" if self.overdue else "·"
        marks = {"newer-rejected": "!", "anomaly": "?", "accepted": "✓"}
        return f"v{self.loaded.version}" + "".join(marks.get(s, "") for s in self.states)

    @property
    def needs_attention(self) -> bool:
        """Overdue, flagged and not accepted, or its latest delivery rejected (v1! and ✗vN): someone must act."""
        return self.overdue or (self.anomaly is not None and self.accepted is None) or self.rejected_version is not None


@dataclass
class YearStatus:
    year: int
    today: str
    grid: dict[str, list[Cell]] = field(default_factory=dict)  # source_id → twelve cells, January first

    @property
    def cells(self) -> list[Cell]:
        return [c for cells in self.grid.values() for c in cells]

    @property
    def attention(self) -> list[Cell]:
        return [c for c in self.cells if c.needs_attention]

    def as_json(self) -> dict:
        return {
            "year": self.year, "today": self.today, "ok": not self.attention,
            "overdue": [f"{c.source_id} {c.month}" for c in self.attention if c.overdue],
            "flagged": [c.anomaly for c in self.attention if c.anomaly and c.accepted is None],
            # A newer delivery rejected while an older one holds the month (v1!), or only rejected ones (✗vN).
            "rejected": [f"{c.source_id} {c.month} v{c.rejected_version}" for c in self.attention if c.rejected_version],
            "sources": {s: [{**asdict(c), "label": c.label, "states": c.states} for c in cells]
                        for s, cells in self.grid.items()},
        }


@dataclass(frozen=True)
class Awaited:
    """An export of the month just ended that has not arrived: its ingest run waits for it (deferred)."""

    source_id: str
    title: str
    month: str  # YYYY-MM
    due: str  # YYYY-MM-DD
    overdue: bool


def awaited(con: duckdb.DuckDBPyConnection, today: dt.date | None = None) -> list[Awaited]:
    """The exports of last month not delivered yet: what the ingest runs of this month wait for."""
    today = today or dt.date.today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    delivered = {s for s, in con.execute("SELECT source_id FROM loaded_months WHERE month = ?", [month]).fetchall()}
    return [Awaited(s, source.title, f"{month:%Y-%m}", f"{due_date(month, source)}", is_overdue(month, source, False, today))
            for s, source in sources().items() if s not in delivered]


def published_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The years anything was delivered for, oldest first."""
    return [y for y, in con.execute("SELECT DISTINCT year FROM month_status ORDER BY year").fetchall()]


def year_status(con: duckdb.DuckDBPyConnection, year: int, today: dt.date | None = None) -> YearStatus:
    """The year's grid from a published report.duckdb (`con`)."""
    today = today or dt.date.today()
    status = {
        (s, m): row for s, m, *row in con.execute(
            "SELECT source_id, strftime(month, '%Y-%m'), rejected_version, anomaly, accepted_note"
            " FROM month_status WHERE year = ?", [year]).fetchall()
    }
    loaded = {
        (s, m): Delivery(name, version, sha256, rows)
        for s, m, name, version, sha256, rows in con.execute(
            "SELECT source_id, strftime(month, '%Y-%m'), regexp_extract(path, '[^/]+$'), version, sha256, rows"
            " FROM loaded_months WHERE year(month) = ?", [year]).fetchall()
    }
    rejected: dict[tuple[str, str], list[Delivery]] = {}
    for s, m, name, version, sha256, rows, message in con.execute(
        "SELECT source_id, strftime(month, '%Y-%m'), regexp_extract(path, '[^/]+$'), version, sha256,"
        "       arg_max(rows, file_id), arg_max(message, file_id)"
        " FROM intake_log WHERE status = 'rejected' AND year(month) = ? GROUP BY ALL ORDER BY version DESC, 3",
        [year]).fetchall():
        rejected.setdefault((s, m), []).append(Delivery(name, version, sha256, rows, message))
    result = YearStatus(year, f"{today}")
    for source_id, source in sources().items():
        cells = []
        for number in range(1, 13):
            month, key = dt.date(year, number, 1), (source_id, f"{year}-{number:02d}")
            rejected_version, anomaly, accepted = status.get(key, (None, None, None))
            cells.append(Cell(source_id, key[1], f"{due_date(month, source)}", loaded=loaded.get(key), rejected=tuple(rejected.get(key, ())),
                              rejected_version=rejected_version, anomaly=anomaly, accepted=accepted,
                              overdue=is_overdue(month, source, key in loaded, today)))
        result.grid[source_id] = cells
    return result


def render(status: YearStatus) -> str:
    width = max(len(s) for s in status.grid)
    lines = [f"{status.year:<{width}}  " + " ".join(f"{m:>5}" for m in range(1, 13))]
    for source_id, cells in status.grid.items():
        lines.append(f"{source_id:<{width}}  " + " ".join(f"{c.label:>5}" for c in cells))
    lines += ["", "   ".join(LEGEND.values())]
    for c in status.attention:
        if c.overdue:
            lines.append(f"overdue: {c.source_id} {c.month} (due {c.due})")
        if c.rejected_version:
            held = f"v{c.loaded.version} still holds the month" if c.loaded else "nothing holds the month"
            lines.append(f"rejected: {c.source_id} {c.month} v{c.rejected_version} ({held}; deliver a corrected _vN)")
        if c.anomaly and c.accepted is None:
            lines.append(f"flagged: {c.anomaly} (reportpipe accept {c.source_id} {c.month} --note \"…\" clears it)")
    return "\n".join(lines)
