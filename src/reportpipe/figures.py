"""Business tables and report tables, built from the staging layer.

A figure's SQL is generated from its declaration in `transforms/<source>/figures.yaml`:
one definition, used for the annual table, the monthly breakdown and `explain`.
"""

from __future__ import annotations

import csv
import textwrap
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reportpipe.contracts import Figure, Source, figures, sources
from reportpipe.models import fct_model
from reportpipe.sql import literal

YEAR_OF_MONTH = "CAST(year(month) AS INTEGER)"
# Characters that make Excel read a text cell as a formula (OWASP: CSV injection), in a CSV and in a
# workbook alike (reportpipe.report).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def aggregate_sql(figure: Figure) -> str:
    """The aggregate that computes a figure over the rows of its fct_ table."""
    if figure.kind == "count":
        return f"count(*) FILTER (WHERE {figure.expression})"
    if figure.kind == "sum":
        return f"sum({figure.expression})"
    return (
        f"round(100.0 * count(*) FILTER (WHERE {figure.expression})"
        f" / nullif(count(*) FILTER (WHERE {figure.denominator}), 0), 1)"
    )


def figure_sql(figure: Figure, monthly: bool = False, year: int | None = None) -> str:
    """SELECT year[, month], value: one figure for every year with data (or every loaded month),
    or for one year only.

    A period without matching rows gives 0 (a rate NULL) instead of no row.
    """
    in_year, of_year = ("", "") if year is None else (f" AND year = {int(year)}", f"\n    WHERE year = {int(year)}")
    if monthly:
        keys = "year, month"
        periods = f"SELECT DISTINCT {YEAR_OF_MONTH} AS year, month FROM loaded_months WHERE source_id = {literal(figure.source_id)}"
    else:
        keys = "year"
        periods = f"SELECT DISTINCT {YEAR_OF_MONTH} AS year FROM loaded_months"
    value = "value" if figure.kind == "rate" else "coalesce(value, 0)"
    return f"""
    WITH periods AS ({periods}),
    computed AS (
        SELECT {keys}, {aggregate_sql(figure)} AS value
        FROM fct_{figure.source_id}
        WHERE ({figure.where}){in_year}
        GROUP BY {keys}
    )
    SELECT {keys}, CAST({value} AS DOUBLE) AS value
    FROM periods LEFT JOIN computed USING ({keys}){of_year}"""


def build_business_tables(con: duckdb.DuckDBPyConnection, all_sources: dict[str, Source]) -> None:
    for source in all_sources.values():
        con.execute(f"CREATE OR REPLACE VIEW fct_{source.source_id} AS {fct_model(source)}")


def build_report_tables(con: duckdb.DuckDBPyConnection) -> None:
    """report_figures (one row per year and figure) and report_figures_monthly."""
    build_business_tables(con, sources())
    annual, monthly = [], []
    for f in figures():
        meta = ", ".join(
            f"{literal(v)} AS {k}"
            for k, v in (("figure_id", f.figure_id), ("section", f.section), ("label", f.label), ("unit", f.unit),
                         ("source_id", f.source_id), ("definition", f.definition))
        )
        annual.append(f"SELECT year, {meta}, value FROM ({figure_sql(f)})")
        monthly.append(f"SELECT year, month, {literal(f.figure_id)} AS figure_id, value FROM ({figure_sql(f, monthly=True)})")
    # Provisional: a month of the figure's year is missing, its latest delivery was rejected,
    # or its history flagged it and nobody has accepted it yet; the reason says which.
    completeness = """
        SELECT source_id, year, count(loaded_version) AS months_loaded,
               list(strftime(month, '%Y-%m') || ' v' || rejected_version ORDER BY month)
                   FILTER (WHERE rejected_version IS NOT NULL) AS rejected,
               list(anomaly ORDER BY month) FILTER (WHERE anomaly IS NOT NULL AND accepted_note IS NULL) AS anomalies
        FROM month_status GROUP BY ALL
    """
    con.execute(
        f"""
        CREATE OR REPLACE TABLE report_figures AS
        WITH c AS ({completeness}),
        why AS (
            SELECT source_id, year, months_loaded, nullif(concat_ws('; ',
                CASE WHEN months_loaded < 12 THEN months_loaded || ' of 12 months loaded' END,
                CASE WHEN len(rejected) > 0 THEN 'latest delivery rejected: ' || array_to_string(rejected, ', ') END,
                CASE WHEN len(anomalies) > 0 THEN array_to_string(anomalies, '; ') END), '') AS reason
            FROM c
        )
        SELECT * EXCLUDE (provisional_reason), provisional_reason IS NOT NULL AS is_provisional, provisional_reason
        FROM (
            SELECT f.year, f.figure_id, f.section, f.label, f.value, f.unit, f.source_id, f.definition,
                   coalesce(why.months_loaded, 0) AS months_loaded,
                   CASE WHEN why.source_id IS NULL THEN '0 of 12 months loaded' ELSE why.reason END AS provisional_reason
            FROM ({" UNION ALL ".join(annual)}) f LEFT JOIN why USING (source_id, year)
        ) f
        ORDER BY f.year, f.figure_id
        """
    )
    con.execute(
        f"CREATE OR REPLACE TABLE report_figures_monthly AS {' UNION ALL '.join(monthly)} ORDER BY year, month, figure_id"
    )


def shown(value: float | None) -> str:
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
            f"value {self.year}  {shown(self.value)} {f.unit}"
            + ("   (recomputed now; report_figures agrees)" if self.agrees
               else f"   DIFFERS from report_figures: {shown(self.published)}"),
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
        return "\n".join(lines)


def explain(con: duckdb.DuckDBPyConnection, figure: Figure, year: int) -> Explanation:
    """Recompute a published figure in report.duckdb and gather what it depends on."""
    published = con.execute(
        "SELECT value, is_provisional, provisional_reason FROM report_figures WHERE figure_id = ? AND year = ?",
        [figure.figure_id, year]
    ).fetchall()
    if not published:
        years = [y for y, in con.execute("SELECT DISTINCT year FROM report_figures ORDER BY 1").fetchall()]
        raise LookupError(f"no published value of {figure.figure_id} for {year} (published years: {years or 'none'})")
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
    found = [c.column for c in source.columns if c.pii == "true" and c.column in names]
    for c in source.columns:
        if c.pii not in (None, "true") and c.column in names:
            if con.execute(f"SELECT count(*) FROM ({sql}) WHERE ({c.pii}) AND {c.column} IS NOT NULL").fetchone()[0]:
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
        writer.writerows([neutralised(v) for v in row] for row in rows)
    return len(rows)


def neutralised(value):
    """A delivered text cell as Excel will show it, never evaluate it: a leading ' (OWASP, CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
