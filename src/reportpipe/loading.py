"""One office's source-month decided and loaded: which delivered file holds its truth, read, typed and
validated where it is staged (`check`), and the month's rows replaced in one transaction.

`decide_month` is what `reportpipe.pipeline.ingest_month` runs under the office's writer lock;
`check` is also `reportpipe validate`'s. Every decision is written to intake_log once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reportpipe import settings
from reportpipe.contracts import Source
from reportpipe.intake import readers
from reportpipe.intake.inbox import Export, sha256
from reportpipe.problems import FILE, FORMAT, VERSION, Problem, Unreadable
from reportpipe.statistics import history
from reportpipe.untrusted import printable
from reportpipe.validation import validator
from reportpipe.warehouse import models
from reportpipe.warehouse.publication import REPORT_DB
from reportpipe.warehouse.session import Writer, configured, ensure_source_tables, is_disk_full, transaction
from reportpipe.warehouse.sql import literal

log = logging.getLogger(__name__)
# <office folder>/delivered/<source_id>/<YYYY-MM>/<sha256>.<csv|xlsx>: each loaded month's file, kept as it
# was delivered. It is the raw layer: `reportpipe rebuild` reads the months again from it.
DELIVERED = "delivered"
MAX_MESSAGE_LINES = 50
# Files at least this big say how far each step has come.
BIG_FILE_ROWS = 100_000


@dataclass
class Progress:
    """Where long work reports to: `step` for a passing state (a terminal line), `line` for a result."""

    line: Callable[[str], None] = log.info
    step: Callable[[str], None] = lambda text: None


@dataclass
class FileOutcome:
    export: Export
    status: str  # loaded | rejected | duplicate | superseded | current
    rows: int | None = None
    problems: list[Problem] = field(default_factory=list)
    evidence: object = None  # key of the stored GX validation result

    def describe(self) -> str:
        e = self.export
        text = f"{e.source_id} {e.period} v{e.version} {printable(e.name)}: {self.status}"
        if self.rows is not None:
            text += f" ({self.rows:,} rows)"
        if self.problems:
            text += "\n" + "\n".join(f"  {p}" for p in self.problems[:MAX_MESSAGE_LINES])
            if len(self.problems) > MAX_MESSAGE_LINES:
                text += f"\n  … {len(self.problems) - MAX_MESSAGE_LINES} more problems"
        return text


def _log(con: duckdb.DuckDBPyConnection, export: Export, digest: str, status: str, rows: int | None,
         message: str | None, file_id: int | None = None) -> None:
    """Write a decision to intake_log, once: deciding the same about the same file again adds nothing."""
    if status != "loaded":
        last = con.execute(
            "SELECT status, message FROM intake_log WHERE path = ? AND sha256 = ? AND month = ?"
            " ORDER BY file_id DESC LIMIT 1", [str(export.path), digest, export.month]).fetchall()
        if last == [(status, message)]:
            return
    if file_id is None:
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchone()[0]
    con.execute(
        "INSERT INTO intake_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
        [file_id, str(export.path), digest, export.source_id, export.month, export.version, rows, status, message],
    )


def _record_validation(con: duckdb.DuckDBPyConnection, export: Export, digest: str, rows: int | None,
                       checked: validator.Validation) -> None:
    if not checked.expectations:  # the file could not be read: no expectation ran
        return
    con.executemany(
        "INSERT INTO validation_runs VALUES (now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[str(export.path), digest, export.source_id, export.month, export.version, export.source_id,
          kind_of, column, kind, success, unexpected, rows]
         for kind_of, kind, column, success, unexpected in checked.expectations],
    )


def check(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, source: Source, export: Export,
          progress: Progress | None = None) -> tuple[int | None, validator.Validation]:
    """Stage the file in the (empty) scratch database, type it once (scratch.typed) and validate that.

    Faults of the file become problems; faults of the warehouse (disk, memory) propagate.
    """
    progress = progress or Progress()
    if export.refused:  # named like an export, but not a regular file inside the inbox: never read
        return None, validator.Validation(success=False, problems=[Problem(export.name, None, None, FILE, export.refused)])
    started = time.monotonic()
    progress.step(f"reading {printable(export.name)} …")
    try:
        staged = readers.stage(con, export.path, export.name)
        read_s = time.monotonic() - started
        progress.step(f"typing {staged.rows:,} rows of {printable(export.name)} …")
        con.execute(models.validation_sql(source, staged.header, export.period))
        typed_at = time.monotonic()
        progress.step(f"validating {staged.rows:,} rows of {printable(export.name)} …")
        checked = validator.validate(con, warehouse_dir, source, export.name, export.month, staged.header)
    except Unreadable as e:
        return None, validator.Validation(success=False, problems=e.problems)
    except (duckdb.IOException, duckdb.OutOfMemoryException, MemoryError, OSError):
        raise
    except Exception as e:  # the file made a reader or the engine fail: its fault, and only its
        if is_disk_full(e):
            raise
        log.exception("reading or validating %s failed", export.path)
        problem = Problem(export.name, None, None, FORMAT, f"cannot be read or validated ({type(e).__name__}: "
                                                           f"{str(e).splitlines()[0] if str(e) else ''})")
        return None, validator.Validation(success=False, problems=[problem])
    if staged.rows >= BIG_FILE_ROWS:
        progress.line(f"{printable(export.name)}: read {staged.rows:,} rows in {read_s:.1f} s, typed in "
                      f"{typed_at - started - read_s:.1f} s, validated {len(checked.expectations)} expectations in "
                      f"{time.monotonic() - typed_at:.1f} s")
    return staged.rows, checked


def check_alone(folder: Path, office_id: str, source: Source, export: Export) -> tuple[int | None, validator.Validation]:
    """`check` without loading (`reportpipe validate`): the ids of other months as the office last published them."""
    con = configured(duckdb.connect(config={"memory_limit": settings.memory_limit()}))
    con.execute("ATTACH ':memory:' AS scratch")
    published, stg = Path(folder) / REPORT_DB, f"stg_{source.source_id}"
    if published.exists():
        con.execute(f"ATTACH {literal(str(published))} AS published (READ_ONLY)")
    if con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = 'published' AND table_name = ?", [stg]).fetchall():
        con.execute(f"CREATE VIEW {stg} AS SELECT * FROM published.{stg}")
    else:
        ensure_source_tables(con, source, office_id)
    try:
        return check(con, folder, source, export)
    finally:
        con.close()


def kept_file(folder: Path, source_id: str, month: dt.date, digest: str, name: str) -> Path:
    """Where a loaded month's file is kept as delivered."""
    return Path(folder) / DELIVERED / source_id / f"{month:%Y-%m}" / f"{digest}{Path(name).suffix.lower()}"


def _keep(folder: Path, export: Export, digest: str) -> Path:
    """The file, copied whole beside the others of its month before its rows are loaded (a crash leaves at
    most a file nobody refers to, which the month's next load removes)."""
    kept = kept_file(folder, export.source_id, export.month, digest, export.name)
    kept.parent.mkdir(parents=True, exist_ok=True)
    if not kept.exists():
        part = kept.with_name(kept.name + ".part")
        try:
            shutil.copyfile(export.path, part)
            with part.open("rb") as f:
                os.fsync(f.fileno())
        except BaseException:  # a full disk: give its space back
            part.unlink(missing_ok=True)
            raise
        os.replace(part, kept)
    return kept


def _replace_month(w: Writer, office_id: str, source: Source, export: Export, digest: str, rows: int,
                   checked: validator.Validation) -> None:
    """The month's rows from the validated file, in one transaction: all of them or none; the file kept."""
    kept = _keep(w.folder, export, digest)
    try:
        _replace_rows(w, office_id, source, export, digest, rows, checked)
    except BaseException:  # rolled back: the file is not the month's
        kept.unlink(missing_ok=True)
        raise
    for other in kept.parent.iterdir():  # the month's earlier files, and what a killed load left
        if other != kept:
            other.unlink()


def _replace_rows(w: Writer, office_id: str, source: Source, export: Export, digest: str, rows: int,
                  checked: validator.Validation) -> None:
    con, sid = w.con, source.source_id
    with transaction(con):
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchone()[0]
        if legacy_raw(con, sid):  # a warehouse from before the files were kept held the cells in raw_
            con.execute(f"DELETE FROM raw_{sid} WHERE month = ?", [export.month])
        con.execute(f"DELETE FROM stg_{sid} WHERE month = ?", [export.month])
        typed = f"SELECT {file_id}::BIGINT AS file_id, DATE '{export.month:%Y-%m-%d}' AS month, * FROM scratch.typed"
        con.execute(f"INSERT INTO stg_{sid} BY NAME {models.stg_select(source, typed, office_id)}")
        _record_validation(con, export, digest, rows, checked)
        _log(con, export, digest, "loaded", rows, None, file_id)
        con.execute("DELETE FROM loaded_months WHERE source_id = ? AND month = ?", [sid, export.month])
        con.execute("INSERT INTO loaded_months VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                    [sid, export.month, file_id, export.version, digest, str(export.path), rows])
        history.check_month(con, source, export.month)


def legacy_raw(con: duckdb.DuckDBPyConnection, source_id: str) -> bool:
    """Whether the warehouse still has the raw_ table a version before the kept files wrote."""
    return bool(con.execute("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database()"
                            " AND table_name = ?", [f"raw_{source_id}"]).fetchall())


def _load(w: Writer, office_id: str, source: Source, export: Export, digest: str, progress: Progress) -> FileOutcome:
    w.fresh_scratch()
    rows, checked = check(w.con, w.folder, source, export, progress)
    evidence = None
    if checked.result is not None:
        evidence = validator.store(checked, source, w.folder, export.name, export.month, digest)
    if not checked.success:
        _record_validation(w.con, export, digest, rows, checked)
        _log(w.con, export, digest, "rejected", rows, "\n".join(map(str, checked.problems[:MAX_MESSAGE_LINES])))
        return FileOutcome(export, "rejected", rows, checked.problems, evidence)
    progress.step(f"loading {rows:,} rows of {printable(export.name)} …")
    _replace_month(w, office_id, source, export, digest, rows, checked)
    return FileOutcome(export, "loaded", rows, evidence=evidence)


def decide_month(w: Writer, office_id: str, source: Source, exports: list[Export],
                 progress: Progress) -> list[FileOutcome]:
    """Load the highest valid version of one of an office's source-months, unless it is loaded already."""
    con = w.con
    ensure_source_tables(con, source, office_id)
    current = con.execute("SELECT version, sha256 FROM loaded_months WHERE source_id = ? AND month = ?",
                          [source.source_id, exports[0].month]).fetchall()
    current = current[0] if current else None
    outcomes = []
    for e in exports:
        if e.refused:
            _, checked = check(con, w.folder, source, e)
            _log(con, e, "", "rejected", None, str(checked.problems[0]))
            outcomes.append(FileOutcome(e, "rejected", problems=checked.problems))
    ordered = sorted((e for e in exports if not e.refused), key=lambda e: (-e.version, e.name))
    digests = {e: sha256(e.path) for e in ordered}
    tried = []
    for e in ordered:
        rivals = {digests[o] for o in ordered if o.version == e.version}
        if len(rivals) > 1:
            message = f"{len(rivals)} different files claim {e.period} version {e.version}: deliver a higher _vN"
            problem = Problem(e.name, None, None, VERSION, message)
            _log(con, e, digests[e], "rejected", None, str(problem))
            outcomes.append(FileOutcome(e, "rejected", problems=[problem]))
            tried.append(e)
            continue
        if current and digests[e] == current[1]:
            outcomes.append(FileOutcome(e, "current"))
            tried.append(e)
            break
        if current and e.version < current[0]:
            break
        outcome = _load(w, office_id, source, e, digests[e], progress)
        outcomes.append(outcome)
        tried.append(e)
        if outcome.status == "loaded":
            current = (e.version, digests[e])
            break
    # Files below the one that holds the month are not read: they change nothing.
    for e in ordered:
        if e in tried:
            continue
        if current and digests[e] == current[1]:
            _log(con, e, digests[e], "duplicate", None, "same bytes as the loaded file")
            outcomes.append(FileOutcome(e, "duplicate"))
        elif current:
            _log(con, e, digests[e], "superseded", None, f"version {current[0]} holds {e.period}")
            outcomes.append(FileOutcome(e, "superseded"))
    return outcomes
