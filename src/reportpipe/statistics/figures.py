"""Business tables and report tables, built from the staging layer.

A figure's SQL is generated from its declaration in `transforms/<source>/figures.yaml`:
one definition, used for the annual table, the monthly breakdown and `explain`.
"""

from __future__ import annotations

import duckdb

from reportpipe.contracts import Figure, Source, figures, sources
from reportpipe.warehouse.models import fct_model
from reportpipe.warehouse.sql import literal

YEAR_OF_MONTH = "CAST(year(month) AS INTEGER)"


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
