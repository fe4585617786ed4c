"""Read one export file into Arrow batches of text, whatever its format.

Every reader yields the file's columns as delivered (strings, untrimmed) plus
`source_row`: the row number a person sees when opening the file (header = the
row above the first record). Typing and trimming happen later, in SQL, so that
a bad cell can be reported with its original text.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

BATCH_ROWS = 100_000
TOTAL_ROW_MARK = "合计"


class ExportFormatError(ValueError):
    """The file cannot be read as an export (encoding, layout, header)."""


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when every byte decodes as UTF-8, else GB18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def read_export(path: Path) -> tuple[list[str], pa.RecordBatchReader]:
    """Header and a stream of text batches (first column `source_row`)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise ExportFormatError(f"{path.name}: unsupported file type {suffix!r} (expected .csv or .xlsx)")


def _schema(header: list[str]) -> pa.Schema:
    return pa.schema([("source_row", pa.int64())] + [(name, pa.string()) for name in header])


def _check_header(path: Path, header: list[str]) -> list[str]:
    header = [h.strip(" \t\u3000\ufeff") for h in header]
    seen = set()
    for i, name in enumerate(header, start=1):
        if not name:
            raise ExportFormatError(f"{path.name}: header column {i} is empty")
        if name in seen:
            raise ExportFormatError(f"{path.name}: header column {name!r} appears twice")
        seen.add(name)
    return header


def _read_csv(path: Path) -> tuple[list[str], pa.RecordBatchReader]:
    encoding = detect_encoding(path)
    with path.open("r", encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as f:
        first_line = f.readline()
    if not first_line.strip():
        raise ExportFormatError(f"{path.name}: no header row")
    header = _check_header(path, next(csv.reader([first_line])))
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=encoding, column_names=header, skip_rows=1, block_size=16 << 20
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as e:
        raise ExportFormatError(f"{path.name}: {e}") from e
    schema = _schema(header)

    def batches() -> Iterator[pa.RecordBatch]:
        next_row = 2
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as e:
                raise ExportFormatError(f"{path.name}: near row {next_row}: {e}") from e
            rows = pa.array(range(next_row, next_row + batch.num_rows), pa.int64())
            next_row += batch.num_rows
            yield pa.RecordBatch.from_arrays([rows, *batch.columns], schema=schema)

    return header, pa.RecordBatchReader.from_batches(schema, batches())


def _cell_text(value: object) -> str:
    """Excel cells as the text a CSV export of the same data would carry."""
    # An Excel date cell: ISO with 'T', a form the date and date-time parsers know came typed.
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def _read_xlsx(path: Path) -> tuple[list[str], pa.RecordBatchReader]:
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = [[_cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise ExportFormatError(f"{path.name}: not a readable XLSX workbook ({e})") from e

    def filled(row: list[str]) -> int:
        return sum(1 for v in row if v.strip())

    # Title rows (one filled cell, e.g. 交道口街道…统计（2023年3月）) sit above the header.
    header_at = next((i for i, row in enumerate(rows) if filled(row) > 1), None)
    if header_at is None:
        raise ExportFormatError(f"{path.name}: no header row in the first sheet")
    raw_header = rows[header_at]
    while raw_header and not raw_header[-1].strip():
        raw_header = raw_header[:-1]
    header = _check_header(path, raw_header)
    width = len(header)
    records = rows[header_at + 1 :]
    while records and not filled(records[-1]):
        records.pop()
    if records and records[-1][0].strip(" \t\u3000") == TOTAL_ROW_MARK:
        records.pop()
    first_row = header_at + 2
    for offset, row in enumerate(records):
        if any(v.strip() for v in row[width:]):
            raise ExportFormatError(
                f"{path.name}: row {first_row + offset} has values beyond the {width} header columns"
            )
    schema = _schema(header)

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(records), BATCH_ROWS):
            chunk = records[start : start + BATCH_ROWS]
            columns = [pa.array(range(first_row + start, first_row + start + len(chunk)), pa.int64())]
            columns += [pa.array([(row[i] if i < len(row) else "") for row in chunk], pa.string()) for i in range(width)]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)

    return header, pa.RecordBatchReader.from_batches(schema, batches())
