"""Business tables and report tables, built from the staging layer.

A figure's SQL is generated from its declaration in `transforms/<source>/figures.yaml`:
one definition, used for the annual table, the monthly breakdown and `explain`.
"""

from __future__ import annotations

import duckdb

from reportpipe.contracts import Figure, Source, figures, sources
from reportpipe.staging import literal

YEAR_OF_MONTH = "CAST(left(month, 4) AS INTEGER)"


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


def figure_sql(figure: Figure, monthly: bool = False) -> str:
    """SELECT year[, month], value: one figure for every year with data (or every loaded month).

    A period without matching rows gives 0 (a rate NULL) instead of no row.
    """
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
        WHERE {figure.where}
        GROUP BY {keys}
    )
    SELECT {keys}, CAST({value} AS DOUBLE) AS value
    FROM periods LEFT JOIN computed USING ({keys})"""


def build_business_tables(con: duckdb.DuckDBPyConnection, all_sources: dict[str, Source]) -> None:
    for source in all_sources.values():
        body = source.fct_sql or f"SELECT * FROM stg_{source.source_id}"
        con.execute(f"CREATE OR REPLACE VIEW fct_{source.source_id} AS {body}")


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
    completeness = """
        SELECT source_id, year, count(loaded_version) AS months_loaded, count(rejected_version) AS months_rejected
        FROM month_status GROUP BY ALL
    """
    # Provisional: a month of the figure's year is missing, or its latest delivery was rejected.
    con.execute(
        f"""
        CREATE OR REPLACE TABLE report_figures AS
        SELECT f.year, f.figure_id, f.section, f.label, f.value, f.unit, f.source_id, f.definition,
               coalesce(c.months_loaded, 0) AS months_loaded,
               coalesce(c.months_loaded, 0) < 12 OR coalesce(c.months_rejected, 0) > 0 AS is_provisional
        FROM ({" UNION ALL ".join(annual)}) f LEFT JOIN ({completeness}) c USING (source_id, year)
        ORDER BY f.year, f.figure_id
        """
    )
    con.execute(
        f"CREATE OR REPLACE TABLE report_figures_monthly AS {' UNION ALL '.join(monthly)} ORDER BY year, month, figure_id"
    )
