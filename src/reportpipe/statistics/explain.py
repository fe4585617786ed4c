"""`reportpipe explain`: how one published figure is computed, from which files, recomputed now;
and the rows behind it, as a CSV with personal data refused."""

from __future__ import annotations

import csv
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reportpipe.contracts import Figure, Source, sources
from reportpipe.statistics.figures import community_sql, figure_sql, has_communities
from reportpipe.untrusted import csv_cell


def number_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


@dataclass
class Explanation:
    """How one figure of one year was computed, from what, and how final it is."""

    figure: Figure
    year: int
    sql: str  # runnable against report.duckdb
    value: float | None  # computed now by running sql
    published: float | None  # report_figures.value
    is_provisional: bool
    reason: str | None  # why it is provisional
    missing: list[str]  # months of the year without a loaded file
    rejected: list[str]  # months whose latest delivery was rejected, as "YYYY-MM vN"
    files: list[tuple[str, str, int, str, int]]  # month, file name, version, sha256, rows
    community_sql: str | None = None  # runnable, when the source's rows record a community
    by_community: list[tuple[str, float | None]] = field(default_factory=list)  # report_figures_by_community

    @property
    def agrees(self) -> bool:
        return self.value == self.published

    def describe(self) -> str:
        f = self.figure
        lines = [
            f"{f.figure_id}: {f.label}",
            f"section     {f.section}",
            f"unit        {f.unit}",
            f"definition  {f.definition}",
            f"declared in transforms/{f.source_id}/figures.yaml (computed from fct_{f.source_id})",
            f"value {self.year}  {number_text(self.value)} {f.unit}"
            + ("   (recomputed now; report_figures agrees)" if self.agrees
               else f"   DIFFERS from report_figures: {number_text(self.published)}"),
        ]
        if self.is_provisional:
            why = [self.reason or ""]
            if self.missing:
                why.append(f"missing {', '.join(self.missing)}")
            lines.append(f"status      PROVISIONAL: {'; '.join(w for w in why if w)}")
        else:
            lines.append("status      final: 12 of 12 months loaded, no rejected delivery pending")
        lines += ["", "SQL (run it against report.duckdb):", textwrap.indent(self.sql, "    "), ""]
        lines.append(f"files (loaded_months, {f.source_id} {self.year}):")
        lines.append(f"    {'month':<8} {'version':>7} {'rows':>6}  {'sha256':<64}  file")
        for month, name, version, sha256, rows in self.files:
            lines.append(f"    {month:<8} {version:>7} {rows:>6}  {sha256:<64}  {name}")
        if not self.files:
            lines.append("    none")
        if self.community_sql:
            additive = "they add up to the figure" if f.kind != "rate" else "a rate's communities do not add up"
            lines += ["", f"by community (report_figures_by_community; {additive}):",
                      textwrap.indent(self.community_sql, "    "), ""]
            lines += [f"    {community:<12} {number_text(value):>10}" for community, value in self.by_community]
        return "\n".join(lines)


def explain(con: duckdb.DuckDBPyConnection, figure: Figure, year: int) -> Explanation:
    """Recompute a published figure in report.duckdb and gather what it depends on."""
    published = con.execute(
        "SELECT value, is_provisional, provisional_reason, label FROM report_figures WHERE figure_id = ? AND year = ?",
        [figure.figure_id, year]
    ).fetchall()
    if not published:
        years = [y for y, in con.execute("SELECT DISTINCT year FROM report_figures ORDER BY 1").fetchall()]
        raise LookupError(f"no published value of {figure.figure_id} for {year} (published years: {years or 'none'})")
    figure = figure.model_copy(update={"label": published[0][3]})  # as the office calls it (offices file: labels)
    sql = textwrap.dedent(figure_sql(figure, year=year)).strip()
    computed = con.execute(sql).fetchall()
    months = con.execute(
        "SELECT strftime(month, '%Y-%m'), loaded_version, rejected_version FROM month_status"
        " WHERE source_id = ? AND year = ? ORDER BY month",
        [figure.source_id, year],
    ).fetchall()
    loaded = {m for m, version, _ in months if version is not None}
    files = con.execute(
        "SELECT strftime(month, '%Y-%m'), regexp_extract(path, '[^/]+$'), version, sha256, rows FROM loaded_months"
        " WHERE source_id = ? AND year(month) = ? ORDER BY month",
        [figure.source_id, year],
    ).fetchall()
    community = None
    if has_communities(sources()[figure.source_id]):
        community = textwrap.dedent(community_sql(figure, year=year)).strip()
    by_community = con.execute(
        "SELECT community, value FROM report_figures_by_community WHERE figure_id = ? AND year = ? ORDER BY community",
        [figure.figure_id, year]).fetchall()
    return Explanation(
        figure=figure,
        year=year,
        sql=sql,
        value=computed[0][1] if computed else None,
        published=published[0][0],
        is_provisional=published[0][1],
        reason=published[0][2],
        missing=[m for m in (f"{year}-{n:02d}" for n in range(1, 13)) if m not in loaded],
        rejected=[f"{m} v{r}" for m, _, r in months if r is not None],
        files=files,
        community_sql=community,
        by_community=by_community,
    )


def contributing_rows_sql(figure: Figure, year: int) -> str:
    """The fct_ rows behind a figure in a year, each with the file it came from.

    count: the rows counted; sum: the rows summed; rate: the denominator's rows, with
    `in_numerator` marking those counted above the line.
    """
    condition = {"count": figure.expression, "sum": "true", "rate": figure.denominator}[figure.kind]
    numerator = f"({figure.expression}) AS in_numerator, " if figure.kind == "rate" else ""
    # Filter before the join: the figure's conditions name fct_ columns that loaded_months may share.
    return f"""
        SELECT regexp_extract(l.path, '[^/]+$') AS file, l.version AS file_version, l.sha256 AS file_sha256, r.*
        FROM (
            SELECT {numerator}* FROM fct_{figure.source_id}
            WHERE year = {int(year)} AND ({figure.where}) AND ({condition})
        ) r JOIN loaded_months l ON l.file_id = r.file_id
        ORDER BY r.month, r.source_row"""


def clear_personal_columns(con: duckdb.DuckDBPyConnection, source: Source, sql: str) -> list[str]:
    """Columns of a SELECT over a source's rows that hold personal data in clear (stg_ keeps only hashes)."""
    names = {d[0] for d in con.execute(f"SELECT * FROM ({sql}) LIMIT 0").description}
    found = []
    for c in source.columns:
        if c.pii is None or c.column not in names:
            continue
        # Always personal: in the SELECT at all is in clear. Personal under a condition: where it holds.
        if c.pii == "true" or con.execute(
                f"SELECT count(*) FROM ({sql}) WHERE ({c.pii}) AND {c.column} IS NOT NULL").fetchone()[0]:
            found.append(c.column)
    return found


def write_contributing_rows(con: duckdb.DuckDBPyConnection, figure: Figure, year: int, path: Path) -> int:
    """Write the rows behind a figure to CSV (UTF-8 with BOM, for Excel); how many."""
    sql = contributing_rows_sql(figure, year)
    clear = clear_personal_columns(con, sources()[figure.source_id], sql)
    if clear:
        raise RuntimeError(f"refusing to write {path}: personal data in clear in {', '.join(clear)}")
    result = con.execute(sql)
    rows = result.fetchall()
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(d[0] for d in result.description)
        writer.writerows([csv_cell(v) for v in row] for row in rows)
    return len(rows)
