"""The SQL models of the warehouse, generated from the contracts and printable (`reportpipe sql`).

    delivered    each loaded month's file, kept as delivered (<office folder>/delivered/)
    typed        `typed_select`: trimmed and typed, under the delivered names
    stg_<s>      `stg_select` over a typed relation: English names, lineage, personal data hashed
    fct_<s>      transforms/<s>/fct_<s>.sql over stg_<s>, or stg_<s> itself
    report_*     reportpipe.statistics.figures, from transforms/<s>/figures.yaml

A month is typed once: the staged file's cells become the validation relation
(`validation_sql`: typed cells plus the evidence the suite checks), which feeds the
load of stg_. `stg_model` composes the same two functions over a kept file's cells, so
stg_ can be rebuilt without the inbox (`reportpipe rebuild`). Personal data is hashed by the
function `pii_hash`, registered on the connection with the key (reportpipe.warehouse.session):
no key material ever appears in SQL text.
"""

from __future__ import annotations

from reportpipe.contracts import BLANKS, Column, Source
from reportpipe.warehouse.sql import literal, quote

_BLANK = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in BLANKS) + "]"
PADDED = f"^{_BLANK}|{_BLANK}$"  # a cell that starts or ends with a blank
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")
EXCEL_FORMAT = "%Y-%m-%dT%H:%M:%S"  # how the XLSX reader writes a typed Excel date or date-time cell
SQL_TYPES = {"text": "VARCHAR", "integer": "BIGINT", "number": "DECIMAL(18, 2)", "date": "DATE",
             "datetime": "TIMESTAMP", "yesno": "BOOLEAN"}
TYPE_LABELS = {"integer": "an integer", "number": "a number", "date": "a date", "datetime": "a date-time",
               "yesno": "是 or 否"}
# Evidence columns of the validation relation, checked by the suite's generated expectations:
# the text of a cell that is not of its type, and the other month an id was loaded for.
UNPARSED = "unparsed:"
LOADED_IN = "loaded_in_month:"
LINEAGE = (("file_id", "BIGINT"), ("month", "DATE"), ("year", "INTEGER"), ("source_row", "BIGINT"))


def trimmed(name: str) -> str:
    # DuckDB's trim over a set of characters is slow and most cells have nothing to trim: a regular
    # expression finds the few that have, half the cost of typing a month.
    text = quote(name)
    return (f"nullif(CASE WHEN regexp_matches({text}, {literal(PADDED)}) THEN trim({text}, {literal(BLANKS)})"
            f" ELSE {text} END, '')")


def typed(column: Column) -> str:
    """The column's text, trimmed already, as its type; NULL where the text is not of the type.

    Each date and date-time format differs from the others in a character (年, T, /, the
    seconds' second colon), so the value's shape picks the one format that can parse it."""
    text = quote(column.name)
    if column.type == "text":
        return text
    if column.type == "integer":  # a plain cast would round '1.5' to 2
        return f"CASE WHEN regexp_full_match({text}, '[+-]?[0-9]+') THEN try_cast({text} AS BIGINT) END"
    if column.type == "number":
        return f"try_cast({text} AS DECIMAL(18, 2))"
    if column.type == "yesno":
        return f"CASE {text} WHEN '是' THEN true WHEN '否' THEN false END"
    parse = lambda fmt: f"try_strptime({text}, {literal(fmt)})"  # noqa: E731
    if column.type == "date":
        dash, slash, chinese = DATE_FORMATS
        return (f"CAST(CASE WHEN contains({text}, '年') THEN {parse(chinese)}"
                f" WHEN {text} LIKE '%T00:00:00' THEN {parse(EXCEL_FORMAT)}"
                f" WHEN contains({text}, '/') THEN {parse(slash)} ELSE {parse(dash)} END AS DATE)")
    dash_m, dash_s, slash_m, slash_s = DATETIME_FORMATS
    seconds = f"{text} LIKE '%:%:%'"
    return (f"CASE WHEN contains({text}, 'T') THEN {parse(EXCEL_FORMAT)}"
            f" WHEN contains({text}, '/') THEN CASE WHEN {seconds} THEN {parse(slash_s)} ELSE {parse(slash_m)} END"
            f" ELSE CASE WHEN {seconds} THEN {parse(dash_s)} ELSE {parse(dash_m)} END END")


def _trimmed_cells(names: list[str], relation: str, lineage: list[str]) -> str:
    """The relation's cells trimmed once, under their names, for `typed` to read."""
    return f"SELECT {', '.join(lineage + [f'{trimmed(n)} AS {quote(n)}' for n in names])} FROM {relation}"


def typed_select(source: Source, relation: str, lineage: bool = False) -> str:
    """SELECT of a relation of delivered text cells, typed, under the delivered names."""
    columns = (["file_id", "month"] if lineage else []) + ["source_row"]
    cells = _trimmed_cells([c.name for c in source.columns], relation, columns)
    return f"SELECT {', '.join(columns + [f'{typed(c)} AS {quote(c.name)}' for c in source.columns])} FROM ({cells})"


def validation_sql(source: Source, header: list[str], month: str) -> str:
    """The statements that make the relation the suite validates, scratch.typed: a staged file's cells
    (scratch.incoming) typed under their delivered names (unknown columns as text), plus the evidence
    columns. The month an id was loaded for before is set afterwards, only on the file's ids that have one."""
    known = {c.name: c for c in source.columns}
    select = ["source_row"]
    for name in header:
        column = known.get(name)
        select.append(f"{typed(column) if column else quote(name)} AS {quote(name)}")
        if column and column.type != "text":
            select.append(f"CASE WHEN {quote(name)} IS NOT NULL AND ({typed(column)}) IS NULL "
                          f"THEN {quote(name)} END AS {quote(UNPARSED + name)}")
    key = source.key
    if key.name in header:
        select.append(f"NULL::VARCHAR AS {quote(LOADED_IN + key.name)}")
    unknown = [quote(n) for n in header if n not in known]
    cells = _trimmed_cells([n for n in header if n in known], "scratch.incoming", ["source_row", *unknown])
    statements = [f"CREATE TABLE scratch.typed AS SELECT {', '.join(select)} FROM ({cells})"]
    if key.name in header:
        id_ = quote(key.name)
        earlier = (f"SELECT {key.column} AS id, strftime(min(month), '%Y-%m') AS month FROM main.stg_{source.source_id}"
                   f" WHERE month <> DATE {literal(month + '-01')} AND {key.column} IN (SELECT {id_} FROM scratch.typed)"
                   " GROUP BY 1")
        statements.append(f"UPDATE scratch.typed SET {quote(LOADED_IN + key.name)} = earlier.month FROM ({earlier})"
                          f" AS earlier WHERE typed.{id_} = earlier.id")
    return ";\n".join(statements)


def stg_columns(source: Source) -> list[tuple[str, str]]:
    """(name, DuckDB type) of `stg_<source>`, lineage first."""
    out = list(LINEAGE)
    for c in source.columns:
        if c.pii is None:
            out.append((c.column, SQL_TYPES[c.type]))
        elif c.pii == "true":
            out.append((f"{c.column}_hash", "VARCHAR"))
        else:  # personal only under a condition: clear otherwise, always hashed
            out += [(c.column, SQL_TYPES[c.type]), (f"{c.column}_hash", "VARCHAR")]
    return [*out, ("office_id", "VARCHAR")]  # last: where a warehouse from before offices gets it too


def stg_select(source: Source, typed_relation: str, office_id: str) -> str:
    """SELECT of an office's rows of `stg_<source>` from a typed relation with file_id and month."""
    renamed = ", ".join(f"{quote(c.name)} AS {c.column}" for c in source.columns)
    select = ["file_id", "month", "CAST(year(month) AS INTEGER) AS year", "source_row"]
    for c in source.columns:
        if c.pii is None:
            select.append(c.column)
            continue
        if c.pii != "true":  # the condition is written over the typed, English columns
            select.append(f"CASE WHEN NOT coalesce({c.pii}, true) THEN {c.column} END AS {c.column}")
        select.append(f"pii_hash(CAST({c.column} AS VARCHAR)) AS {c.column}_hash")
    select.append(f"{literal(office_id)} AS office_id")
    return (f"SELECT {', '.join(select)}\nFROM (SELECT file_id, month, source_row, {renamed}\n"
            f"      FROM ({typed_relation}))")


def stg_model(source: Source, office_id: str, delivered: str = "delivered") -> str:
    """An office's stg_<source> from the cells of its delivered files (a relation of file_id, month,
    source_row and the delivered columns as text): what `reportpipe rebuild` runs over each kept file."""
    return stg_select(source, typed_select(source, delivered, lineage=True), office_id)


def fct_model(source: Source) -> str:
    return source.fct_sql or f"SELECT * FROM stg_{source.source_id}"
