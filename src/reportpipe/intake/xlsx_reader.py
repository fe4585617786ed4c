"""An XLSX export into scratch.incoming: the first sheet, a title row above the header and a 合计 row below
skipped; a broken or hostile workbook (encrypted, entities, a zip bomb) refused by its zip directory before
anything is inflated."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from reportpipe import settings
from reportpipe.contracts import BLANKS
from reportpipe.intake.files import CHUNK, Staged, check_cells, check_header, unreadable
from reportpipe.problems import Unreadable

BATCH_ROWS = 50_000
TOTAL_ROW_MARK = "合计"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and the old .xls
MAX_ZIP_MEMBERS = 10_000
XML_PROLOG_BYTES = 1 << 20



def _check_zip(handle, name: str) -> None:
    """Refuse a workbook by its zip directory before anything is inflated (as Apache POI's ZipSecureFile)."""
    handle.seek(0)
    magic = handle.read(8)
    if magic == OLE2_MAGIC:
        raise unreadable(name, "an encrypted (password-protected) workbook or an old .xls file, not an .xlsx: "
                                "save it again as an unprotected .xlsx")
    if not magic.startswith(b"PK"):
        raise unreadable(name, "not a zip archive, so not an .xlsx workbook (perhaps a CSV or another format renamed)")
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise unreadable(name, f"a broken zip archive, so not a readable .xlsx ({e})") from None
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise unreadable(name, f"{len(members):,} parts in the archive: no workbook has that many")
    max_part, min_ratio = settings.xlsx_max_part_bytes(), settings.xlsx_min_ratio()
    for member in members:
        if member.file_size > max_part:
            raise unreadable(name, f"part {member.filename} would inflate to {member.file_size / 2**20:,.0f} MiB, "
                                    f"more than REPORTPIPE_XLSX_MAX_PART_MB={max_part / 2**20:g}: refused unread "
                                    "(a zip bomb, or far beyond a month's export)")
        if member.file_size > CHUNK and member.compress_size / member.file_size < min_ratio:
            raise unreadable(name, f"part {member.filename} inflates {member.file_size / max(member.compress_size, 1):,.0f}"
                                    f" times, beyond REPORTPIPE_XLSX_MIN_RATIO={min_ratio:g}: refused unread (a zip bomb)")
    for member in members:
        if member.filename.endswith((".xml", ".rels", ".vml")):
            _check_xml_prolog(archive, member, name)


def _check_xml_prolog(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> None:
    """OOXML never declares a DOCTYPE; one in a part is an entity payload (billion laughs, external entities)."""
    try:
        with archive.open(member) as part:
            prolog = part.read(XML_PROLOG_BYTES)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
        raise unreadable(name, f"part {member.filename} cannot be read from the archive ({e})") from None
    root = re.search(rb"<[A-Za-z_]", prolog)
    head = prolog[: root.start()] if root else prolog
    if re.search(rb"<!(DOCTYPE|ENTITY)", head, re.IGNORECASE):
        raise unreadable(name, f"part {member.filename} declares a DOCTYPE or entities, which no workbook does: "
                                "refused unread (an XML entity payload)")


def _cell_text(value: object) -> str:
    """Excel cells as the text a CSV export of the same data would carry."""
    if type(value) is str:  # most cells: no other test needed
        return value
    # An Excel date cell: ISO with 'T', a form the date and date-time parsers know came typed.
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def stage_xlsx(con: duckdb.DuckDBPyConnection, handle, name: str) -> Staged:
    from python_calamine import CalamineWorkbook

    _check_zip(handle, name)
    handle.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
        if not workbook.sheet_names:
            raise unreadable(name, "the workbook has no sheet")
        rows = workbook.get_sheet_by_index(0).iter_rows()
        header_at, header = _xlsx_header(rows, name)
    except Unreadable:
        raise
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise unreadable(name, f"not a readable .xlsx workbook ({type(e).__name__}: {e})") from None
    width = len(header)
    schema = pa.schema([("source_row", pa.int64())] + [(h, pa.string()) for h in header])

    def records() -> Iterator[tuple[int, list[str]]]:
        held: list[tuple[int, list[str]]] = []  # blank rows count only when a filled row follows
        last = None  # the 合计 row is only known at the end: hold the latest filled record back
        for number, row in enumerate(rows, start=header_at + 2):
            cells = [_cell_text(v) for v in row]
            if any(c.strip(BLANKS) for c in cells[width:]):
                raise unreadable(name, f"has values beyond the {width} header columns", row=number)
            cells = (cells + [""] * width)[:width]
            if not any(c.strip(BLANKS) for c in cells):
                held.append((number, cells))
                continue
            if last:
                yield last
            yield from held
            held, last = [], (number, cells)
        if last and last[1][0].strip(BLANKS) != TOTAL_ROW_MARK:
            yield last

    # The sheet is in memory already (calamine reads it whole); batches of it go to DuckDB.
    batches, chunk = [], []
    try:
        for record in records():
            chunk.append(record)
            if len(chunk) == BATCH_ROWS:
                batches.append(_batch(schema, chunk))
                chunk = []
    except Unreadable:
        raise
    except Exception as e:
        raise unreadable(name, f"not a readable .xlsx workbook ({type(e).__name__}: {e})") from None
    batches.append(_batch(schema, chunk))
    con.execute("DROP TABLE IF EXISTS scratch.incoming")
    table = pa.Table.from_batches(batches, schema=schema)
    con.register("incoming_cells", table)
    try:
        con.execute("CREATE TABLE scratch.incoming AS SELECT * FROM incoming_cells")
    finally:
        con.unregister("incoming_cells")
    check_cells(con, name, header)
    return Staged(header, table.num_rows, "xlsx")


def _batch(schema: pa.Schema, chunk: list[tuple[int, list[str]]]) -> pa.RecordBatch:
    columns = [pa.array([n for n, _ in chunk], pa.int64())]
    columns += [pa.array([cells[i] for _, cells in chunk], pa.string()) for i in range(len(schema) - 1)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _xlsx_header(rows, name: str) -> tuple[int, list[str]]:
    """(0-based row index, header): title rows (one filled cell, e.g. 交道口街道…统计（2023年3月）) sit above it."""
    for index, row in enumerate(rows):
        cells = [_cell_text(v) for v in row]
        if sum(1 for c in cells if c.strip(BLANKS)) > 1:
            while cells and not cells[-1].strip(BLANKS):
                cells.pop()
            return index, check_header(name, cells)
        if index > 20:
            break
    raise unreadable(name, "no header row in the first sheet")
