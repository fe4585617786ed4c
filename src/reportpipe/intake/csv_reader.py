"""A CSV export into scratch.incoming: UTF-8 (with or without BOM) read by DuckDB itself; GB18030, which
DuckDB cannot read here, transcoded to UTF-8 on the way, streaming; every encoding fault and malformed row
named by row, column and byte."""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from reportpipe.contracts import BLANKS
from reportpipe.intake.files import CHUNK, Staged, by_fd, check_cells, check_header, unreadable
from reportpipe.problems import ENCODING, FORMAT, Problem, Unreadable
from reportpipe.warehouse.sql import literal

MAX_LINE_BYTES = 64 << 20  # DuckDB refuses longer lines itself; shorter oversized cells are named by row and column
# DuckDB's CSV buffer would grow with the file to 16 lines of the longest, 1 GiB, more than the memory
# limit allows: a 10M-row month failed to stage. Two lines' worth reads as fast.
CSV_BUFFER_BYTES = 2 * MAX_LINE_BYTES



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
        raise unreadable(name, "the file is empty (zero bytes): not even a header row")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise unreadable(name, "encoded in UTF-16: SPEC.md allows UTF-8, UTF-8 with BOM or GB18030", ENCODING)
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
        raise unreadable(name, f"neither UTF-8 nor GB18030 (byte 0x{bad:02x}); SPEC.md allows UTF-8, UTF-8 with "
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
            return unreadable(name, f"not valid {encoding.upper()}: byte 0x{e.object[e.start]:02x} at byte offset "
                                     f"{at:,}", ENCODING, row=number, column=column)
        last = (number, offset)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return unreadable(name, f"not valid {encoding.upper()}: the file ends at byte {size:,} in the middle "
                                 "of a character (was it cut off in transfer?)", ENCODING, row=last[0], column=column)
    return unreadable(name, f"not valid {encoding.upper()}", ENCODING, column=column)


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


def stage_csv(con: duckdb.DuckDBPyConnection, handle, name: str) -> Staged:
    encoding, skip = _encoding(handle, name)
    nul = _nul_row(handle)
    if nul is not None:
        raise unreadable(name, "holds a NUL byte (0x00): not a text export", ENCODING, row=nul)
    handle.seek(skip)
    first = handle.readline(MAX_LINE_BYTES)
    try:
        first_line = first.decode(encoding)
    except UnicodeDecodeError:
        raise _invalid_bytes(handle, name, encoding, skip) from None
    if not first_line.strip(BLANKS):
        raise unreadable(name, "no header row (the first line is empty)", row=1)
    header = check_header(name, next(csv.reader([first_line])))
    source = _transcoded(handle, name, con) if encoding == "gb18030" else None
    try:
        columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
        target = str(source) if source else by_fd(handle)
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
        check_cells(con, name, header)
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


