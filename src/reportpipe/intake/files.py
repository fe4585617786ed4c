"""What reading any export shares: the staged table, opening the file safely, the header and cell checks."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

from reportpipe import settings
from reportpipe.contracts import BLANKS
from reportpipe.problems import FILE, FORMAT, Problem, Unreadable
from reportpipe.warehouse.sql import quote

CHUNK = 1 << 20  # bytes read at a time


@dataclass(frozen=True)
class Staged:
    header: list[str]  # the delivered column names, trimmed, in file order
    rows: int
    encoding: str  # utf-8 | gb18030 | xlsx


def unreadable(name: str, message: str, kind: str = FORMAT, row: int | None = None, column: str | None = None):
    return Unreadable([Problem(name, row, column, kind, message)])


def open_export(path: Path):
    """The file, opened without following a symbolic link, checked to be a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as e:
        raise unreadable(path.name, f"cannot be opened: {e.strerror}", FILE) from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise unreadable(path.name, "not a regular file", FILE)
    return handle


def by_fd(handle) -> str:
    """A path DuckDB can open that is this very file, whatever happens to the name meanwhile."""
    proc = f"/proc/self/fd/{handle.fileno()}"
    return proc if os.path.exists(proc) else handle.name


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


def check_cells(con: duckdb.DuckDBPyConnection, name: str, header: list[str]) -> None:
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


