"""Read one export file into the table `scratch.incoming`: its cells as delivered, as text.

The table has `source_row` (the row a person sees when opening the file: the header is
row 1 of a CSV; an XLSX keeps Excel's numbering) and one VARCHAR column per header
column, untrimmed. Typing and trimming happen later, in SQL (reportpipe.models), so that
a bad cell can be reported with its original text.

Everything a file can do wrong at this level is an `Unreadable` naming the file and,
where there is one, the row, column and byte: the encoding (UTF-8, UTF-8 with BOM or
GB18030 are allowed, SPEC.md), NUL bytes, malformed CSV rows, a broken or hostile XLSX
(refused by its zip directory before anything is inflated), the header, oversized cells.
A CSV in UTF-8 is read by DuckDB itself; GB18030 (which DuckDB cannot read here) is
transcoded to UTF-8 on the way, streaming.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from reportpipe import settings
from reportpipe.problems import ENCODING, FILE, FORMAT, Problem, Unreadable
from reportpipe.sql import literal, quote

BATCH_ROWS = 50_000
CHUNK = 1 << 20
TOTAL_ROW_MARK = "合计"
BLANKS = " \t\r\n\u3000\u00a0\ufeff"
MAX_LINE_BYTES = 64 << 20  # DuckDB refuses longer lines itself; shorter oversized cells are named by row and column
# DuckDB's CSV buffer would grow with the file to 16 lines of the longest, 1 GiB, more than the memory
# limit allows: a 10M-row month failed to stage. Two lines' worth reads as fast.
CSV_BUFFER_BYTES = 2 * MAX_LINE_BYTES
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and the old .xls
MAX_ZIP_MEMBERS = 10_000
XML_PROLOG_BYTES = 1 << 20


@dataclass(frozen=True)
class Staged:
    header: list[str]  # the delivered column names, trimmed, in file order
    rows: int
    encoding: str  # utf-8 | gb18030 | xlsx


def _unreadable(name: str, message: str, kind: str = FORMAT, row: int | None = None, column: str | None = None):
    return Unreadable([Problem(name, row, column, kind, message)])


def open_export(path: Path):
    """The file, opened without following a symbolic link, checked to be a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e:
        raise _unreadable(path.name, f"cannot be opened: {e.strerror}", FILE) from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise _unreadable(path.name, "not a regular file", FILE)
    return handle


def _by_fd(handle) -> str:
    """A path DuckDB can open that is this very file, whatever happens to the name meanwhile."""
    proc = f"/proc/self/fd/{handle.fileno()}"
    return proc if os.path.exists(proc) else handle.name


def stage(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Staged:
    """Read the export at `path` into scratch.incoming; raise Unreadable with the problems."""
    with open_export(path) as handle:
        suffix = Path(name).suffix.lower()
        if suffix == ".csv":
            return _stage_csv(con, handle, name)
        if suffix == ".xlsx":
            return _stage_xlsx(con, handle, name)
    raise _unreadable(name, f"unsupported file type {suffix!r} (expected .csv or .xlsx)")


def check_header(name: str, header: list[str]) -> list[str]:
    header = [h.strip(BLANKS) for h in header]
    problems = []
    for i, column in enumerate(header, start=1):
        if not column:
            problems.append(Problem(name, 1, None, FORMAT, f"header column {i} is empty"))
        elif header.index(column) != i - 1:
            problems.append(Problem(name, 1, column, FORMAT, f"header column {column!r} appears twice"))
    if problems:
        raise Unreadable(problems)
    return header


def _check_cells(con: duckdb.DuckDBPyConnection, name: str, header: list[str]) -> None:
    """Refuse a cell longer than Excel allows, naming its row and column."""
    lengths = ", ".join(f"max(length({quote(h)}))" for h in header)
    longest = con.execute(f"SELECT {lengths} FROM scratch.incoming").fetchone() if header else ()
    problems = []
    for column, length in zip(header, longest):
        if length is not None and length > settings.MAX_CELL_CHARS:
            row = con.execute(f"SELECT min(source_row) FROM scratch.incoming WHERE length({quote(column)}) > ?",
                              [settings.MAX_CELL_CHARS]).fetchone()[0]
            problems.append(Problem(name, row, column, FORMAT,
                                    f"a cell of {length:,} characters: more than a spreadsheet cell holds "
                                    f"({settings.MAX_CELL_CHARS:,})"))
    if problems:
        raise Unreadable(problems)


# ---------------------------------------------------------------- CSV


def _lines(handle, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, bytes) of the file's lines from `start`, each at most MAX_LINE_BYTES."""
    handle.seek(start)
    number, offset = 1, start
    while piece := handle.readline(MAX_LINE_BYTES):
        yield number, offset, piece
        offset += len(piece)
        number += piece.endswith(b"\n")


def _encoding(handle, name: str) -> tuple[str, int]:
    """(encoding, bytes of BOM to skip), decided by the BOM or the first line with non-ASCII bytes."""
    handle.seek(0)
    head = handle.read(4)
    if not head:
        raise _unreadable(name, "the file is empty (zero bytes): not even a header row")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _unreadable(name, "encoded in UTF-16: SPEC.md allows UTF-8, UTF-8 with BOM or GB18030", ENCODING)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    for number, _, line in _lines(handle):
        if line.isascii():
            if number > 1000:
                break
            continue
        for encoding in ("utf-8", "gb18030"):
            try:
                line.decode(encoding)
                return encoding, 0
            except UnicodeDecodeError:
                continue
        bad = next(b for b in line if b >= 0x80)
        raise _unreadable(name, f"neither UTF-8 nor GB18030 (byte 0x{bad:02x}); SPEC.md allows UTF-8, UTF-8 with "
                                "BOM or GB18030", ENCODING, row=number)
    return "utf-8", 0


def _nul_row(handle) -> int | None:
    handle.seek(0)
    offset = 0
    while chunk := handle.read(CHUNK):
        at = chunk.find(b"\x00")
        if at >= 0:
            return next(n for n, start, line in _lines(handle) if start + len(line) > offset + at)
        offset += len(chunk)
    return None


def _invalid_bytes(handle, name: str, encoding: str, skip: int, column: str | None = None) -> Unreadable:
    """The first bytes that do not decode in `encoding`, by row and byte offset."""
    decoder = codecs.getincrementaldecoder(encoding)()
    size = os.fstat(handle.fileno()).st_size
    last = (1, skip)
    for number, offset, piece in _lines(handle, skip):
        buffered = len(decoder.getstate()[0])
        try:
            decoder.decode(piece)
        except UnicodeDecodeError as e:
            at = offset - buffered + e.start
            return _unreadable(name, f"not valid {encoding.upper()}: byte 0x{e.object[e.start]:02x} at byte offset "
                                     f"{at:,}", ENCODING, row=number, column=column)
        last = (number, offset)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return _unreadable(name, f"not valid {encoding.upper()}: the file ends at byte {size:,} in the middle "
                                 "of a character (was it cut off in transfer?)", ENCODING, row=last[0], column=column)
    return _unreadable(name, f"not valid {encoding.upper()}", ENCODING, column=column)


def _transcoded(handle, name: str, con: duckdb.DuckDBPyConnection) -> Path:
    """A UTF-8 copy of a GB18030 file in the scratch folder (DuckDB reads only UTF-8 here)."""
    # Beside DuckDB's spill files (the writer's are on the warehouse's disk, cleaned with it), or in the temp folder.
    spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    folder = Path(spill) if spill and Path(spill).is_dir() else Path(tempfile.gettempdir())
    target = folder / f"transcoded-{os.getpid()}-{time.monotonic_ns()}.csv"
    decoder = codecs.getincrementaldecoder("gb18030")()
    handle.seek(0)
    with target.open("wb") as out:
        while True:
            chunk = handle.read(CHUNK)
            try:
                out.write(decoder.decode(chunk, final=not chunk).encode("utf-8"))
            except UnicodeDecodeError:
                break
            if not chunk:
                return target
    target.unlink()
    raise _invalid_bytes(handle, name, "gb18030", 0)


def _stage_csv(con: duckdb.DuckDBPyConnection, handle, name: str) -> Staged:
    encoding, skip = _encoding(handle, name)
    nul = _nul_row(handle)
    if nul is not None:
        raise _unreadable(name, "holds a NUL byte (0x00): not a text export", ENCODING, row=nul)
    handle.seek(skip)
    first = handle.readline(MAX_LINE_BYTES)
    try:
        first_line = first.decode(encoding)
    except UnicodeDecodeError:
        raise _invalid_bytes(handle, name, encoding, skip) from None
    if not first_line.strip(BLANKS):
        raise _unreadable(name, "no header row (the first line is empty)", row=1)
    header = check_header(name, next(csv.reader([first_line])))
    source = _transcoded(handle, name, con) if encoding == "gb18030" else None
    try:
        columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
        target = str(source) if source else _by_fd(handle)
        con.execute("DROP TABLE IF EXISTS scratch.incoming")
        con.execute(
            f"""CREATE TABLE scratch.incoming AS
            SELECT CAST(row_number() OVER () + 1 AS BIGINT) AS source_row, *
            FROM read_csv(?, header = false, skip = 1, auto_detect = false, delim = ',', quote = '"',
                          escape = '"', strict_mode = true, null_padding = false, encoding = 'utf-8',
                          max_line_size = {MAX_LINE_BYTES}, buffer_size = {CSV_BUFFER_BYTES},
                          store_rejects = true, columns = {columns})""",
            [target],
        )
        rejects = con.execute(
            "SELECT line, column_idx, error_type, error_message FROM reject_errors ORDER BY line LIMIT 20"
        ).fetchall()
        con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        if rejects:
            _refuse_rejects(handle, name, encoding, skip, header, rejects)
        rows = con.execute("SELECT count(*) FROM scratch.incoming").fetchone()[0]
        _check_cells(con, name, header)
    finally:
        if source:
            source.unlink(missing_ok=True)
    return Staged(header, rows, encoding)


def _refuse_rejects(handle, name: str, encoding: str, skip: int, header: list[str], rejects: list) -> None:
    problems, lines = [], set()
    for line, column_idx, error_type, message in rejects:
        if line in lines:  # DuckDB reports a short row once per missing cell: one problem a row says it
            continue
        lines.add(line)
        column = header[column_idx - 1] if column_idx and 0 < column_idx <= len(header) else None
        if error_type == "INVALID ENCODING":
            raise _invalid_bytes(handle, name, encoding, skip, column)
        what = {
            "MISSING COLUMNS": f"has fewer cells than the {len(header)} header columns ({message})",
            "TOO MANY COLUMNS": f"has more cells than the {len(header)} header columns ({message})",
            "UNQUOTED VALUE": "a quoted cell is not closed (the file may be cut off)",
            "LINE SIZE OVER MAXIMUM": f"a line longer than {MAX_LINE_BYTES >> 20} MiB",
        }.get(error_type, message)
        problems.append(Problem(name, line, column if error_type not in ("MISSING COLUMNS", "TOO MANY COLUMNS") else None,
                                FORMAT, what))
    raise Unreadable(problems)


# ---------------------------------------------------------------- XLSX


def _check_zip(handle, name: str) -> None:
    """Refuse a workbook by its zip directory before anything is inflated (as Apache POI's ZipSecureFile)."""
    handle.seek(0)
    magic = handle.read(8)
    if magic == OLE2_MAGIC:
        raise _unreadable(name, "an encrypted (password-protected) workbook or an old .xls file, not an .xlsx: "
                                "save it again as an unprotected .xlsx")
    if not magic.startswith(b"PK"):
        raise _unreadable(name, "not a zip archive, so not an .xlsx workbook (perhaps a CSV or another format renamed)")
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise _unreadable(name, f"a broken zip archive, so not a readable .xlsx ({e})") from None
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise _unreadable(name, f"{len(members):,} parts in the archive: no workbook has that many")
    max_part, min_ratio = settings.xlsx_max_part_bytes(), settings.xlsx_min_ratio()
    for member in members:
        if member.file_size > max_part:
            raise _unreadable(name, f"part {member.filename} would inflate to {member.file_size / 2**20:,.0f} MiB, "
                                    f"more than REPORTPIPE_XLSX_MAX_PART_MB={max_part / 2**20:g}: refused unread "
                                    "(a zip bomb, or far beyond a month's export)")
        if member.file_size > CHUNK and member.compress_size / member.file_size < min_ratio:
            raise _unreadable(name, f"part {member.filename} inflates {member.file_size / max(member.compress_size, 1):,.0f}"
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
        raise _unreadable(name, f"part {member.filename} cannot be read from the archive ({e})") from None
    root = re.search(rb"<[A-Za-z_]", prolog)
    head = prolog[: root.start()] if root else prolog
    if re.search(rb"<!(DOCTYPE|ENTITY)", head, re.IGNORECASE):
        raise _unreadable(name, f"part {member.filename} declares a DOCTYPE or entities, which no workbook does: "
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


def _stage_xlsx(con: duckdb.DuckDBPyConnection, handle, name: str) -> Staged:
    from python_calamine import CalamineWorkbook

    _check_zip(handle, name)
    handle.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
        if not workbook.sheet_names:
            raise _unreadable(name, "the workbook has no sheet")
        rows = workbook.get_sheet_by_index(0).iter_rows()
        header_at, header = _xlsx_header(rows, name)
    except Unreadable:
        raise
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise _unreadable(name, f"not a readable .xlsx workbook ({type(e).__name__}: {e})") from None
    width = len(header)
    schema = pa.schema([("source_row", pa.int64())] + [(h, pa.string()) for h in header])

    def records() -> Iterator[tuple[int, list[str]]]:
        held: list[tuple[int, list[str]]] = []  # blank rows count only when a filled row follows
        last = None  # the 合计 row is only known at the end: hold the latest filled record back
        for number, row in enumerate(rows, start=header_at + 2):
            cells = [_cell_text(v) for v in row]
            if any(c.strip(BLANKS) for c in cells[width:]):
                raise _unreadable(name, f"has values beyond the {width} header columns", row=number)
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
        raise _unreadable(name, f"not a readable .xlsx workbook ({type(e).__name__}: {e})") from None
    batches.append(_batch(schema, chunk))
    con.execute("DROP TABLE IF EXISTS scratch.incoming")
    table = pa.Table.from_batches(batches, schema=schema)
    con.register("incoming_cells", table)
    try:
        con.execute("CREATE TABLE scratch.incoming AS SELECT * FROM incoming_cells")
    finally:
        con.unregister("incoming_cells")
    _check_cells(con, name, header)
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
    raise _unreadable(name, "no header row in the first sheet")
