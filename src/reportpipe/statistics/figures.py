"""Business tables and report tables, built from the staging layer.

A figure's SQL is generated from its declaration in `transforms/<source>/figures.yaml`:
one definition, used for the annual table, the monthly breakdown and `explain`.
"""

from __future__ import annotations

import duckdb

from reportpipe.contracts import Figure, Source, figures, sources
from reportpipe.offices import deployment
from reportpipe.outline import outline_order, template_order
from reportpipe.statistics import sql_file
from reportpipe.warehouse.models import fct_model
from reportpipe.warehouse.sql import literal

YEAR_OF_MONTH = "CAST(year(month) AS INTEGER)"
NO_COMMUNITY = "未注明社区"  # the rows of a source that records communities, whose community is empty


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


def community_sql(figure: Figure, year: int | None = None) -> str:
    """SELECT year, community, value: the figure over each community's rows alone (its own aggregate), for a
    source whose rows record a community; rows without one under NO_COMMUNITY."""
    of_year = "" if year is None else f" AND year = {int(year)}"
    return f"""
    SELECT year, coalesce(community, {literal(NO_COMMUNITY)}) AS community,
           CAST({aggregate_sql(figure)} AS DOUBLE) AS value
    FROM fct_{figure.source_id}
    WHERE ({figure.where}){of_year}
    GROUP BY ALL"""


def has_communities(source: Source) -> bool:
    return any(c.column == "community" for c in source.columns)


def build_business_tables(con: duckdb.DuckDBPyConnection, all_sources: dict[str, Source]) -> None:
    for source in all_sources.values():
        con.execute(f"CREATE OR REPLACE VIEW fct_{source.source_id} AS {fct_model(source)}")


def report_positions(all_figures: list[Figure]) -> dict[str, tuple[int, int]]:
    """figure_id → (its section's position in the report's outline, its own position in the section): the
    order of the draft's sentences; a section or figure the outline does not name comes after, by name."""
    sections, sentences = outline_order(), template_order()
    ordered = sorted(all_figures, key=lambda f: (sections.get(f.section, len(sections)), f.section,
                                                 sentences.get(f.figure_id, len(sentences)), f.figure_id))
    positions: dict[str, tuple[int, int]] = {}
    for number, section in enumerate(dict.fromkeys(f.section for f in ordered), start=1):
        in_section = [f for f in ordered if f.section == section]
        positions |= {f.figure_id: (number, i) for i, f in enumerate(in_section, start=1)}
    return positions


def build_report_tables(con: duckdb.DuckDBPyConnection, office_id: str) -> None:
    """report_figures (one row per year and figure), report_figures_monthly and report_figures_by_community
    of the office (or the district) whose rows the connection's fct_ and loaded_months hold."""
    all_sources = sources()
    build_business_tables(con, all_sources)
    # office_id last: the columns before it keep the places they had before there were offices.
    office = f"{literal(office_id)} AS office_id"
    annual, monthly = [], []
    by_community = [f"SELECT year, {literal(f.figure_id)} AS figure_id, community, value, {office} FROM ({community_sql(f)})"
                    for f in figures() if has_communities(all_sources[f.source_id])]
    positions = report_positions(figures())
    for f in figures():
        meta = ", ".join(
            f"{literal(v)} AS {k}"
            for k, v in (("figure_id", f.figure_id), ("section", f.section),
                         ("label", deployment().label(office_id, f.figure_id, f.label)), ("unit", f.unit),
                         ("source_id", f.source_id), ("definition", f.definition))
        ) + f", {positions[f.figure_id][0]} AS section_position, {positions[f.figure_id][1]} AS figure_position"
        annual.append(f"SELECT year, {meta}, value FROM ({figure_sql(f)})")
        monthly.append(f"SELECT year, month, {literal(f.figure_id)} AS figure_id, value, {office}"
                       f" FROM ({figure_sql(f, monthly=True)})")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE report_figures AS
        WITH why AS ({sql_file("provisional")})
        SELECT * EXCLUDE (provisional_reason), provisional_reason IS NOT NULL AS is_provisional, provisional_reason,
               {office}
        FROM (
            SELECT f.year, f.figure_id, f.section, f.label, f.value, f.unit, f.source_id, f.definition,
                   f.section_position, f.figure_position, coalesce(why.months_loaded, 0) AS months_loaded,
                   CASE WHEN why.source_id IS NULL THEN '0 of 12 months loaded' ELSE why.reason END AS provisional_reason
            FROM ({" UNION ALL ".join(annual)}) f LEFT JOIN why USING (source_id, year)
        ) f
        ORDER BY f.year, f.section_position, f.figure_position
        """
    )
    con.execute(
        f"CREATE OR REPLACE TABLE report_figures_monthly AS {' UNION ALL '.join(monthly)} ORDER BY year, month, figure_id"
    )
    none = (f"SELECT NULL::INTEGER AS year, NULL::VARCHAR AS figure_id, NULL::VARCHAR AS community, NULL::DOUBLE AS value,"
            f" {office} LIMIT 0")
    con.execute(
        f"CREATE OR REPLACE TABLE report_figures_by_community AS {' UNION ALL '.join(by_community or [none])}"
        " ORDER BY year, figure_id, community"
    )
