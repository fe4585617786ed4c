"""From an export's text cells to typed rows: the SQL of the staging layer.

`stage()` puts a file's cells into the temp table `incoming` (as delivered);
`frame_sql()` types them for validation (reportpipe.validation, with the GX
suite); `typed_sql()` trims, types, renames and hashes them into the shape of
`stg_<source>`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from reportpipe.contracts import Column, Source
from reportpipe.inbox import Export
from reportpipe.readers import read_export

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
# Evidence columns of the validation frame: the text of a cell that did not parse
# as its type, and the other month an id was already loaded for (else null).
UNPARSED = "unparsed:"
LOADED_IN = "loaded_in_month:"


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
    if column.type == "integer":  # a plain cast would round '1.5' to 2
        return f"CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') THEN try_cast({text} AS BIGINT) END"
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


def typed_sql(source: Source, pii_key: bytes, month: str, file_id: int) -> str:
    """SELECT producing the rows of `stg_<source>` from the text cells in `incoming`."""
    inner = ", ".join(f"{_typed(c)} AS {c.column}" for c in source.columns)
    select = [f"{file_id}::BIGINT AS file_id", f"{literal(month)} AS month", f"{int(month[:4])} AS year", "source_row"]
    for c in source.columns:
        if c.pii is None:
            select.append(c.column)
            continue
        if c.pii != "true":  # personal only under a condition (written over the typed columns)
            select.append(f"CASE WHEN NOT coalesce({c.pii}, true) THEN {c.column} END AS {c.column}")
        select.append(f"{_hmac_sql(c.column, pii_key)} AS {c.column}_hash")
    return f"SELECT {', '.join(select)} FROM (SELECT source_row, {inner} FROM incoming)"


def stage(con: duckdb.DuckDBPyConnection, export: Export) -> tuple[list[str], int]:
    """Read the file into the temp table `incoming`; its header and number of records."""
    header, reader = read_export(export.path)
    con.register("incoming_stream", reader)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming_stream")
    finally:
        con.unregister("incoming_stream")
    return header, con.execute("SELECT count(*) FROM incoming").fetchall()[0][0]


def frame_sql(source: Source, export: Export, header: list[str], loaded: str | None) -> str:
    """SELECT of the frame the GX suite validates: typed cells under their delivered names,
    plus evidence columns (cells that did not parse; ids loaded for another month).

    `loaded` is the table of earlier loads (stg_<source>), or None when there is none.
    """
    known = {c.name: c for c in source.columns}
    select = ["incoming.source_row"]
    for name in header:
        column = known.get(name)
        if column is None:
            select.append(quote(name))
            continue
        typed = _typed(column)
        if column.type == "number":  # GX compares floats fast, decimals row by row
            typed = f"CAST({typed} AS DOUBLE)"
        select.append(f"{typed} AS {quote(name)}")
        if column.type != "text":
            unparsed = f"CASE WHEN {_trimmed(column)} IS NOT NULL AND ({_typed(column)}) IS NULL THEN {_trimmed(column)} END"
            select.append(f"{unparsed} AS {quote(UNPARSED + name)}")
    key = source.key
    join = ""
    if key.name in header:
        if loaded:
            join = (
                f" LEFT JOIN (SELECT {key.column} AS id, min(month) AS month FROM {loaded}"
                f" WHERE month <> {literal(export.month)} GROUP BY 1) AS earlier ON earlier.id = {_trimmed(key)}"
            )
            select.append(f"earlier.month AS {quote(LOADED_IN + key.name)}")
        else:
            select.append(f"CAST(NULL AS VARCHAR) AS {quote(LOADED_IN + key.name)}")
    return f"SELECT {', '.join(select)} FROM incoming{join} ORDER BY incoming.source_row"
