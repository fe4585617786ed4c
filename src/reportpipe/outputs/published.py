"""What the outputs of a year are made of, read once from the published report.duckdb, read-only:
the outputs show exactly what analysts can query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from reportpipe.offices import Office
from reportpipe.outputs.numbers import PROVISIONAL, RATE_UNIT, REVISED, local_time
from reportpipe.statistics.figures import NO_COMMUNITY
from reportpipe.warehouse.publication import REPORT_DB, open_published


@dataclass(frozen=True)
class FigureRow:
    """One published figure of the year, with its markers and last year's value."""

    figure_id: str
    section: str
    label: str
    value: float | None
    unit: str
    source_id: str
    definition: str
    months_loaded: int
    is_provisional: bool
    is_revised: bool
    has_previous: bool  # the previous year has this figure in report_figures
    previous: float | None
    caliber: str = ""  # the 口径 in plain Chinese (figures.yaml); the definition when the figure has none

    @property
    def marker_list(self) -> list[str]:
        return [m for m, on in ((PROVISIONAL, self.is_provisional), (REVISED, self.is_revised)) if on]

    @property
    def markers(self) -> str:
        return " ".join(self.marker_list)

    @property
    def is_rate(self) -> bool:
        return self.unit == RATE_UNIT


@dataclass(frozen=True)
class Published:
    """What the outputs of one year are made of, read once from report.duckdb."""

    year: int
    office: Office  # whose report it is: its name, title and signature
    figures: tuple[FigureRow, ...]  # in the report's order (report_figures.section_position, figure_position)
    monthly: dict[str, dict[str, float | None]]  # figure_id → YYYY-MM → value, loaded months only
    communities: tuple[str, ...]
    by_community: dict[str, dict[str, float | None]]  # figure_id → community → value
    source_titles: dict[str, str]
    files_loaded: int
    published_at: dt.datetime
    content_sha256: str | None
    report_db: Path

    @property
    def sections(self) -> list[str]:
        return list(dict.fromkeys(f.section for f in self.figures))

    @property
    def months(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in range(1, 13)]

    def in_section(self, section: str) -> list[FigureRow]:
        return [f for f in self.figures if f.section == section]


def publication_time(con) -> tuple[dt.datetime, str]:
    """When report.duckdb's content was published, and its digest (table `publication`)."""
    return con.execute("SELECT published_at, content_sha256 FROM publication").fetchone()


def published(year: int, folder: Path, office: Office) -> Published:
    """Everything the outputs of an office need for `year`, read from its folder's report.duckdb (read-only)."""
    from reportpipe.contracts import figures as contract_figures
    from reportpipe.contracts import sources

    report_db = Path(folder) / REPORT_DB
    calibers = {f.figure_id: f.caliber for f in contract_figures()}
    with open_published(folder) as con:
        rows = con.execute(
            """
            SELECT f.figure_id, f.section, f.label, f.value, f.unit, f.source_id, f.definition,
                   f.months_loaded, f.is_provisional,
                   f.figure_id IN (SELECT figure_id FROM figure_revisions WHERE year = f.year) AS is_revised,
                   p.figure_id IS NOT NULL AS has_previous, p.value AS previous
            FROM report_figures f
            LEFT JOIN report_figures p ON p.year = f.year - 1 AND p.figure_id = f.figure_id AND p.office_id = f.office_id
            WHERE f.year = ? AND f.office_id = ?
            ORDER BY f.section_position, f.figure_position
            """,
            [year, office.id],
        ).fetchall()
        if not rows:
            raise LookupError(f"{report_db} has no figures for {year}")
        figures = [FigureRow(*r[:8], bool(r[8]), bool(r[9]), bool(r[10]), r[11], calibers.get(r[0], r[6])) for r in rows]
        monthly: dict[str, dict[str, float | None]] = {}
        for figure_id, month, value in con.execute(
            "SELECT figure_id, strftime(month, '%Y-%m'), value FROM report_figures_monthly WHERE year = ? AND office_id = ?",
            [year, office.id]
        ).fetchall():
            monthly.setdefault(figure_id, {})[month] = value
        by_community: dict[str, dict[str, float | None]] = {}
        for figure_id, community, value in con.execute(
            "SELECT figure_id, community, value FROM report_figures_by_community WHERE year = ? AND office_id = ?",
            [year, office.id]
        ).fetchall():
            by_community.setdefault(figure_id, {})[community] = value
        (files_loaded,) = con.execute(
            "SELECT count(*) FROM loaded_months WHERE year(month) = ?", [year]
        ).fetchone()
        published_at, content_sha256 = publication_time(con)
    communities = sorted({c for values in by_community.values() for c in values}, key=lambda c: (c == NO_COMMUNITY, c))
    return Published(
        year=year,
        office=office,
        figures=tuple(figures),
        monthly=monthly,
        communities=tuple(communities),
        by_community=by_community,
        source_titles={s.source_id: s.title for s in sources().values()},
        files_loaded=files_loaded,
        published_at=published_at,
        content_sha256=content_sha256,
        report_db=report_db,
    )


def provenance(pub: Published) -> str:
    """Where the numbers come from: the publication's file, time and content digest."""
    digest = f"，内容校验码 SHA-256 {pub.content_sha256[:16]}…" if pub.content_sha256 else ""
    return f"数据仓库 {pub.report_db.name}（发布于北京时间 {local_time(pub.published_at)}{digest}）"
