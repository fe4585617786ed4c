"""From an export's text cells to typed, checked rows: the SQL of the staging layer.

`stage()` puts a file's cells into the temp table `incoming` (as delivered);
`typed_sql()` is the SELECT that trims, types, renames and hashes them into the
shape of `stg_<source>`; `problems()` lists every broken rule with file, row,
column and value. The same code validates a file alone (`reportpipe validate`)
and before a load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from reportpipe.contracts import Column, Source
from reportpipe.inbox import Export
from reportpipe.readers import ExportFormatError, read_export

# Spaces a cell may carry around its value (SPEC: leading/trailing, incl. full-width).
_BLANKS = " \t\r\n\u3000\u00a0\ufeff"
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")
# How the XLSX reader writes a typed Excel date or date-time cell.
EXCEL_FORMAT = "%Y-%m-%dT%H:%M:%S"
TYPE_LABELS = {
    "integer": "an integer",
    "number": "a number",
    "date": "a date",
    "datetime": "a date-time",
    "yesno": "是 or 否",
}
MAX_EXAMPLES = 20


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # None: the whole file
    column: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message} [{self.rule}]"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mask(value: str) -> str:
    """Enough of a personal value to find it in the file, not enough to read it."""
    if len(value) <= 2:
        return "*" * len(value)
    keep = max(1, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def _trimmed(column: Column) -> str:
    return f"nullif(trim({quote(column.name)}, {literal(_BLANKS)}), '')"


def _typed(column: Column) -> str:
    """SQL that types a column's trimmed text; NULL where the text does not parse."""
    text = _trimmed(column)
    if column.type == "text":
        return text
    if column.type == "integer":
        return f"try_cast({text} AS BIGINT)"
    if column.type == "number":
        return f"try_cast({text} AS DECIMAL(18, 2))"
    if column.type == "yesno":
        return f"CASE {text} WHEN '是' THEN true WHEN '否' THEN false END"
    if column.type == "date":
        parsed = ", ".join(f"try_strptime({text}, {literal(f)})" for f in DATE_FORMATS)
        excel = f"CASE WHEN {text} LIKE '%T00:00:00' THEN try_strptime({text}, {literal(EXCEL_FORMAT)}) END"
        return f"CAST(coalesce({parsed}, {excel}) AS DATE)"
    formats = (*DATETIME_FORMATS, EXCEL_FORMAT)
    return "coalesce(" + ", ".join(f"try_strptime({text}, {literal(f)})" for f in formats) + ")"


def _hmac_sql(value_sql: str, key: bytes) -> str:
    """HMAC-SHA256 (RFC 2104) in DuckDB SQL, so hashing streams with the load."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in key).hex()
    outer = bytes(b ^ 0x5C for b in key).hex()
    return f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(upper({value_sql})))))"


def stg_columns(source: Source) -> list[tuple[str, str]]:
    """(name, DuckDB type) of `stg_<source>` after the lineage columns."""
    sql_types = {
        "text": "VARCHAR",
        "integer": "BIGINT",
        "number": "DECIMAL(18, 2)",
        "date": "DATE",
        "datetime": "TIMESTAMP",
        "yesno": "BOOLEAN",
    }
    out = []
    for c in source.columns:
        if c.pii is None:
            out.append((c.column, sql_types[c.type]))
        elif c.pii == "true":
            out.append((f"{c.column}_hash", "VARCHAR"))
        else:  # personal only under a condition: clear otherwise, always hashed
            out += [(c.column, "VARCHAR"), (f"{c.column}_hash", "VARCHAR")]
    return out


def typed_sql(source: Source, pii_key: bytes, month: str, file_id: int, relation: str = "incoming") -> str:
    """SELECT producing the rows of `stg_<source>` from the text cells in `relation`."""
    inner = ", ".join(f"{_typed(c)} AS {c.column}" for c in source.columns)
    select = [f"{file_id}::BIGINT AS file_id", f"{literal(month)} AS month", f"{int(month[:4])} AS year", "source_row"]
    for c in source.columns:
        if c.pii is None:
            select.append(c.column)
            continue
        if c.pii != "true":  # personal only under a condition (written over the typed columns)
            select.append(f"CASE WHEN NOT coalesce({c.pii}, true) THEN {c.column} END AS {c.column}")
        select.append(f"{_hmac_sql(c.column, pii_key)} AS {c.column}_hash")
    return f"SELECT {', '.join(select)} FROM (SELECT source_row, {inner} FROM {relation})"


def stage(con: duckdb.DuckDBPyConnection, export: Export, source: Source) -> int:
    """Read the file into the temp table `incoming`; the number of records."""
    header, reader = read_export(export.path)
    expected = [c.name for c in source.columns]
    missing = [n for n in expected if n not in header]
    extra = [n for n in header if n not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        raise ExportFormatError(f"{export.name}: header does not match the {source.title} contract: {'; '.join(parts)}")
    con.register("incoming_stream", reader)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming_stream")
    finally:
        con.unregister("incoming_stream")
    return con.execute("SELECT count(*) FROM incoming").fetchone()[0]


def _rules(source: Source, export: Export, others: str | None) -> list[tuple[Column, str, str, str]]:
    """(column, rule, SQL condition over `incoming` that marks a broken row, message)."""
    rules = []
    for c in source.columns:
        text = _trimmed(c)
        if c.required:
            rules.append((c, "required", f"{text} IS NULL", "is empty"))
        if c.type != "text":
            rules.append((c, "type", f"{text} IS NOT NULL AND ({_typed(c)}) IS NULL", f"is not {TYPE_LABELS[c.type]}"))
        if c.values:
            allowed = ", ".join(literal(v) for v in c.values)
            rules.append((c, "values", f"{text} NOT IN ({allowed})", "is not one of " + "、".join(c.values)))
    key = source.key
    key_text = _trimmed(key)
    rules.append(
        (key, "unique", f"count(*) OVER (PARTITION BY {key_text}) > 1 AND {key_text} IS NOT NULL", "appears more than once in the file")
    )
    if others:
        rules.append(
            (
                key,
                "unique_across_months",
                f"{key_text} IN (SELECT {key.column} FROM {others} WHERE month <> {literal(export.month)})",
                "was already loaded for another month",
            )
        )
    ref = source.column(source.reference_date)
    rules.append(
        (
            ref,
            "month",
            f"strftime({_typed(ref)}, '%Y-%m') <> {literal(export.month)}",
            f"is outside the file's month {export.month}",
        )
    )
    return rules


def problems(con: duckdb.DuckDBPyConnection, export: Export, source: Source, others: str | None) -> list[Problem]:
    """Every broken rule of the staged file: up to MAX_EXAMPLES rows each, with the count."""
    found: list[Problem] = []
    for column, rule, condition, message in _rules(source, export, others):
        value = f"CAST({quote(column.name)} AS VARCHAR)"
        rows = con.execute(
            f"""
            WITH checked AS (SELECT source_row, {value} AS value, ({condition}) AS broken FROM incoming)
            SELECT source_row, value, count(*) OVER () FROM checked WHERE broken ORDER BY source_row LIMIT {MAX_EXAMPLES}
            """
        ).fetchall()
        for source_row, cell, total in rows:
            shown = "empty" if cell is None or not cell.strip(_BLANKS) else repr(mask(cell) if column.pii else cell)
            text = f"{shown} {message}" if rule != "required" else message
            found.append(Problem(export.name, source_row, column.name, rule, text))
        if rows and rows[0][2] > len(rows):
            found.append(
                Problem(export.name, None, column.name, rule, f"{rows[0][2] - len(rows)} more rows break this rule")
            )
    return found
