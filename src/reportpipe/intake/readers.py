"""Read one export file into the table `scratch.incoming`: its cells as delivered, as text.

The table has `source_row` (the row a person sees when opening the file: the header is
row 1 of a CSV; an XLSX keeps Excel's numbering) and one VARCHAR column per header
column, untrimmed. Typing and trimming happen later, in SQL (reportpipe.warehouse.models), so that
a bad cell can be reported with its original text.

Everything a file can do wrong at this level is an `Unreadable` naming the file and,
where there is one, the row, column and byte: the encoding (UTF-8, UTF-8 with BOM or
GB18030 are allowed, SPEC.md), NUL bytes, malformed CSV rows, a broken or hostile XLSX
(refused by its zip directory before anything is inflated), the header, oversized cells.
A CSV in UTF-8 is read by DuckDB itself; GB18030 (which DuckDB cannot read here) is
transcoded to UTF-8 on the way, streaming.
"""


from __future__ import annotations

from pathlib import Path

import duckdb

from reportpipe.intake.csv_reader import stage_csv
from reportpipe.intake.files import Staged, open_export, unreadable
from reportpipe.intake.xlsx_reader import stage_xlsx


def stage(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Staged:
    """Read the export at `path` into scratch.incoming; raise Unreadable with the problems."""
    with open_export(path) as handle:
        suffix = Path(name).suffix.lower()
        if suffix == ".csv":
            return stage_csv(con, handle, name)
        if suffix == ".xlsx":
            return stage_xlsx(con, handle, name)
    raise unreadable(name, f"unsupported file type {suffix!r} (expected .csv or .xlsx)")


