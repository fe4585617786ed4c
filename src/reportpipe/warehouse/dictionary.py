"""The data dictionary: the COMMENT of every published table and column.

Delivered columns are described in transforms/<source>/source.yaml, the rest in
warehouse/dictionary.yaml.
"""

from __future__ import annotations

import duckdb
import yaml

from reportpipe.contracts import Source, sources
from reportpipe.settings import WAREHOUSE_SCHEMA
from reportpipe.warehouse.session import transaction
from reportpipe.warehouse.sql import literal, quote

DICTIONARY = WAREHOUSE_SCHEMA.with_name("dictionary.yaml")


def _comment(label: str, description: str, unit: str | None = None) -> str | None:
    """`<中文标签> | <English meaning>[ | unit: <unit>]`; None without a meaning (left undocumented)."""
    if not description:
        return None
    return " | ".join([label, description] + ([f"unit: {unit}"] if unit else []))


def data_dictionary(all_sources: dict[str, Source] | None = None) -> dict[str, dict[str | None, str]]:
    """The comment of every documented table (key None) and of its columns, by table.

    Delivered columns are described in transforms/<source>/source.yaml, the rest in
    warehouse/dictionary.yaml.
    """
    raw = yaml.safe_load(DICTIONARY.read_text(encoding="utf-8"))
    office = {"office_id": _comment(**raw["office_id"])}
    lineage = {name: _comment(**e) for name, e in raw["lineage"].items()}
    found: dict[str, dict[str | None, str | None]] = {}
    for source in (all_sources or sources()).values():
        delivered = {}
        for c in source.columns:
            if not c.description:
                continue  # undocumented: tests/test_analysts.py names it
            if c.pii is None:
                delivered[c.column] = _comment(c.name, c.description, c.unit)
                continue
            if c.pii != "true":
                clear = f"{c.description}; NULL where personal ({c.pii}): see {c.column}_hash"
                delivered[c.column] = _comment(c.name, clear, c.unit)
            hashed = f"keyed hash (HMAC-SHA256) of: {c.description}; personal data, never published in clear"
            delivered[f"{c.column}_hash"] = _comment(c.name, hashed)
        for layer, what in (("stg", "the delivered rows, typed (staging layer)"), ("fct", "its business rows")):
            found[f"{layer}_{source.source_id}"] = {
                None: _comment(source.title, f"{source.description}: {what}"), **lineage, **delivered}
    for table, e in raw["tables"].items():
        documented = found.setdefault(table, {})
        if "label" in e:
            documented[None] = _comment(e["label"], e["description"], e.get("unit"))
        documented.update({name: _comment(**c) for name, c in e.get("columns", {}).items()})
    return {t: {k: v for k, v in (office | entries).items() if v} for t, entries in found.items()}


def set_comments(con: duckdb.DuckDBPyConnection, database: str, tables: list[str]) -> None:
    dictionary = data_dictionary()
    views = {v for v, in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = ?", [database]).fetchall()}
    columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?",
                          [database]).fetchall()
    statements = [f"COMMENT ON {'VIEW' if table in views else 'TABLE'} {database}.{table} IS {literal(dictionary[table][None])}"
                  for table in tables if None in dictionary.get(table, {})]
    statements += [f"COMMENT ON COLUMN {database}.{table}.{quote(column)} IS {literal(dictionary[table][column])}"
                   for table, column in columns if table in tables and column in dictionary.get(table, {})]
    with transaction(con):  # committed one by one, the hundreds of comments took a second
        for statement in statements:
            con.execute(statement)




def describe(con: duckdb.DuckDBPyConnection, table: str | None = None) -> str:
    """The published tables with their rows and comments, or one table's columns (`reportpipe describe`)."""
    tables = dict(con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database() UNION ALL"
        " SELECT view_name, comment FROM duckdb_views() WHERE database_name = current_database() AND NOT internal"
        " ORDER BY 1").fetchall())
    if table is None:
        return "\n".join([f"{'table':<26} {'rows':>8}  comment"] + [
            f"{t:<26} {con.execute(f'SELECT count(*) FROM {quote(t)}').fetchone()[0]:>8}  {comment or ''}"
            for t, comment in tables.items()])
    if table not in tables:
        raise LookupError(f"report.duckdb has no table {table!r}; its tables: {', '.join(tables)}")
    columns = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns()"
                          " WHERE database_name = current_database() AND table_name = ? ORDER BY column_index",
                          [table]).fetchall()
    return "\n".join([f"{table}: {tables[table] or ''}"] + [f"  {name:<22} {data_type:<24} {comment or ''}"
                                                           for name, data_type, comment in columns])
