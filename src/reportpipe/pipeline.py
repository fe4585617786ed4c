"""The pipeline's operations: the one implementation the CLI, the DAGs and the tests call.

- `ingest_month(source, month, paths, office_id=…)`: decide which delivered file holds
  an office's month, read, type and validate it where it is staged, and replace the
  month's rows in one transaction. Raises RejectedExport when a file was rejected (after
  loading what was good). The ingest DAG's load_month task and `reportpipe run` both call it.
- `refresh_statistics(office_id=…)`: rebuild the office's business and report tables, check
  them, publish its report.duckdb; then the district's (reportpipe.statistics.district).
- `run()`: every office's source-months found in the inbox, then the statistics.
- `rebuild()`: stg_ again from raw_ (new typing rules, a rotated personal-data key).

Each office has its own warehouse folder and lock (reportpipe.offices): offices load side by
side, and an office's ids, rows and faults stay its own. A file's own faults (unreadable,
hostile, breaking the contract) reject that file and nothing else; faults of an office's
warehouse (busy, corrupt, disk full) stop that office's work with a WarehouseError that says
what to do, and leave its published file as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reportpipe import settings
from reportpipe.contracts import Source, sources
from reportpipe.intake import readers
from reportpipe.intake.inbox import Export, Stray, classify, office_inboxes, scan, sha256
from reportpipe.offices import deployment
from reportpipe.problems import FILE, FORMAT, VERSION, Problem, RejectedExport, Unreadable
from reportpipe.statistics import history, revisions
from reportpipe.statistics.district import publish_district
from reportpipe.statistics.figures import build_report_tables
from reportpipe.statistics.reconcile import reconcile
from reportpipe.untrusted import printable
from reportpipe.validation import validator
from reportpipe.validation.data_docs import build_data_docs
from reportpipe.warehouse import models
from reportpipe.warehouse.personal import use_pii_key
from reportpipe.warehouse.publication import REPORT_DB, publish
from reportpipe.warehouse.session import WarehouseError, Writer, ensure_source_tables, is_disk_full, transaction, writer
from reportpipe.warehouse.sql import quote

log = logging.getLogger(__name__)
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


@dataclass
class RunReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)
    data_docs: list[Path] = field(default_factory=list)  # each office's index page of its validation results
    failed: list[WarehouseError] = field(default_factory=list)  # offices whose warehouse stopped their work

    @property
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]


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


def _replace_month(w: Writer, office_id: str, source: Source, export: Export, digest: str, rows: int,
                   checked: validator.Validation) -> None:
    """The month's rows from the validated file, in one transaction: all of them or none."""
    con, sid = w.con, source.source_id
    with transaction(con):
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchone()[0]
        con.execute(f"DELETE FROM raw_{sid} WHERE month = ?", [export.month])
        delivered = ", ".join(quote(c.name) for c in source.columns)
        con.execute(f"INSERT INTO raw_{sid} BY NAME SELECT {file_id} AS file_id, ?::DATE AS month, source_row, "
                    f"{delivered} FROM scratch.incoming", [export.month])
        con.execute(f"DELETE FROM stg_{sid} WHERE month = ?", [export.month])
        typed = f"SELECT {file_id}::BIGINT AS file_id, DATE '{export.month:%Y-%m-%d}' AS month, * FROM scratch.typed"
        con.execute(f"INSERT INTO stg_{sid} BY NAME {models.stg_select(source, typed, office_id)}")
        _record_validation(con, export, digest, rows, checked)
        _log(con, export, digest, "loaded", rows, None, file_id)
        con.execute("DELETE FROM loaded_months WHERE source_id = ? AND month = ?", [sid, export.month])
        con.execute("INSERT INTO loaded_months VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                    [sid, export.month, file_id, export.version, digest, str(export.path), rows])
        history.check_month(con, source, export.month)


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


def ingest_month(source_id: str, month: dt.date, paths: list[Path], warehouse_dir: Path | None = None,
                 progress: Progress | None = None, wait_s: float = 3600, office_id: str | None = None) -> list[FileOutcome]:
    """Ingest one of an office's source-months from its delivered files; raise RejectedExport when a file
    was rejected."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
    progress = progress or Progress()
    office = deployment().office(office_id)
    source = sources(office.id)[source_id]
    exports = [e for e in (classify(Path(p), source) for p in paths) if isinstance(e, Export) and e.month == month]
    if not exports:
        return []
    with writer(deployment().folder(warehouse_dir, office.id), wait_s, on_wait=progress.line) as w:
        use_pii_key(w.con)  # before any work: without it nothing can load
        outcomes = decide_month(w, office.id, source, exports, progress)
    for o in outcomes:
        log.info(o.describe())
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected:
        raise RejectedExport("\n".join(o.describe() for o in rejected), files=[o.export.name for o in rejected],
                             outcomes=outcomes)
    return outcomes


def refresh_statistics(warehouse_dir: Path | None = None, on_wait: Callable[[str], None] | None = None,
                       wait_s: float = 3600, only_if_changed: bool = False, office_id: str | None = None) -> Path:
    """Rebuild an office's business and report tables and publish its report.duckdb, then the district's
    report.duckdb; the path of `<warehouse>/report.duckdb`.

    `only_if_changed` (the statistics DAG, run once per burst of loads): not when no file was decided
    since the last refresh (a rebuild and an acceptance refresh themselves)."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
    office = deployment().office(office_id)
    with writer(deployment().folder(warehouse_dir, office.id), wait_s, on_wait=on_wait) as w:
        if not (only_if_changed and (w.folder / REPORT_DB).exists() and w.con.execute(
                "SELECT coalesce(max(file_id), 0) <= (SELECT coalesce(max(file_id), -1) FROM _refreshed_through)"
                " FROM intake_log").fetchone()[0]):
            _refresh(w, office.id)
    return _publish_top(warehouse_dir, wait_s, on_wait)


def _publish_top(warehouse_dir: Path, wait_s: float, on_wait: Callable[[str], None] | None) -> Path:
    """`<warehouse>/report.duckdb`: the one office's own file, or every office's and the district's."""
    if deployment().single:
        return warehouse_dir / REPORT_DB
    return publish_district(warehouse_dir, wait_s, on_wait)


def _refresh(w: Writer, office_id: str) -> Path:
    con = w.con
    for source in sources(office_id).values():
        ensure_source_tables(con, source, office_id)
    with transaction(con):  # on failure the last good build stays, and so does the published file
        revisions.previous_figures(con)
        build_report_tables(con, office_id)
        revisions.record(con)
        reconcile(con)
    return publish(con, w.folder, office_id)


def _run_office(inbox: Path, warehouse_dir: Path, office_id: str, progress: Progress, report: RunReport) -> None:
    """Ingest an office's source-months, month by month, then publish its statistics."""
    all_sources = sources(office_id)
    exports, strays = scan(inbox, all_sources)
    report.strays += strays
    for stray in strays:
        progress.line(str(stray))
    by_month: dict[dt.date, dict[str, list[Export]]] = {}
    for e in exports:
        by_month.setdefault(e.month, {}).setdefault(e.source_id, []).append(e)
    named = "" if deployment().single else f"{office_id} "
    for month in sorted(by_month):
        outcomes = []
        for source_id, month_exports in sorted(by_month[month].items()):
            try:
                outcomes += ingest_month(source_id, month, [e.path for e in month_exports], warehouse_dir, progress,
                                         office_id=office_id)
            except RejectedExport as e:
                outcomes += e.outcomes
        loaded = sum(o.status == "loaded" for o in outcomes)
        rejected = [o for o in outcomes if o.status == "rejected"]
        progress.line(f"{named}{month:%Y-%m}: {loaded} loaded, {len(rejected)} rejected, {len(by_month[month])} sources")
        report.outcomes += outcomes
    progress.step(f"building and publishing the report tables of {office_id} …")
    folder = deployment().folder(warehouse_dir, office_id)
    with writer(folder, on_wait=progress.line) as w:
        _refresh(w, office_id)
    report.data_docs.append(build_data_docs(folder))


def run(inbox: Path, warehouse_dir: Path, progress: Progress | None = None) -> RunReport:
    """Ingest every office's source-months in the inbox and publish its statistics, then the district's.

    An office whose warehouse fails (busy, corrupt, disk full) is reported in `failed` and stops no other."""
    progress = progress or Progress()
    warehouse_dir = Path(warehouse_dir)
    report = RunReport()
    for office in deployment().offices:  # a broken contract stops everything before a file is read
        sources(office.id)
    inboxes, report.strays = office_inboxes(inbox, deployment())
    for stray in report.strays:
        progress.line(str(stray))
    for office in deployment().offices:
        try:
            _run_office(inboxes[office.id], warehouse_dir, office.id, progress, report)
        except WarehouseError as e:
            if deployment().single:
                raise
            progress.line(f"{office.id}: {e}")
            report.failed.append(WarehouseError(f"{office.id} ({office.name}): {e}"))
    progress.step("publishing the report tables …")
    _publish_top(warehouse_dir, 3600, progress.line)
    return report


def rebuild(warehouse_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """Rebuild every office's stg_ tables from raw_ (typing rules and the personal-data key of today), then
    publish."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
    progress = progress or Progress()
    for office in deployment().offices:
        with writer(deployment().folder(warehouse_dir, office.id), on_wait=progress.line) as w:
            use_pii_key(w.con)
            with transaction(w.con):
                for source in sources(office.id).values():
                    ensure_source_tables(w.con, source, office.id)
                    progress.step(f"rebuilding {office.id} stg_{source.source_id} …")
                    w.con.execute(f"DELETE FROM stg_{source.source_id}")
                    w.con.execute(f"INSERT INTO stg_{source.source_id} BY NAME {models.stg_model(source, office.id)}")
            _refresh(w, office.id)
    return _publish_top(warehouse_dir, 3600, progress.line)


def accept(warehouse_dir: Path, source_id: str, month: dt.date, note: str,
           on_wait: Callable[[str], None] | None = None, office_id: str | None = None) -> str:
    """Accept the history flags of an office's loaded month (checked with the sending office), then publish;
    the flags."""
    if source_id not in sources():
        raise LookupError(f"no source {source_id!r}: the sources are {', '.join(sources())}")
    office = deployment().office(office_id)
    with writer(deployment().folder(Path(warehouse_dir), office.id), on_wait=on_wait) as w:
        flags = w.con.execute(
            "SELECT file_id, string_agg(reason, '; ' ORDER BY subject NULLS FIRST) FROM month_checks c"
            " JOIN loaded_months l USING (source_id, month, file_id)"
            " WHERE source_id = ? AND month = ? AND flagged GROUP BY ALL", [source_id, month]).fetchall()
        if not flags:
            raise LookupError(f"{source_id} {month:%Y-%m} has no history flag to accept (`reportpipe status` shows them)")
        (file_id, reasons), = flags
        w.con.execute("INSERT INTO acceptances VALUES (?, ?, ?, ?, now())", [source_id, month, file_id, note])
        _refresh(w, office.id)
    _publish_top(Path(warehouse_dir), 3600, on_wait)
    return reasons
