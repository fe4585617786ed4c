"""The pipeline's operations: the one implementation the CLI, the DAGs and the tests call.

- `ingest_month(source, month, paths, office_id=…)`: decide which delivered file holds
  an office's month and load it (reportpipe.loading), under the office's writer lock.
  Raises RejectedExport when a file was rejected (after loading what was good). The
  ingest DAG's load_month task and `reportpipe run` both call it.
- `refresh_office(office_id=…)`: rebuild the office's business and report tables, check
  them, publish its report.duckdb; `publish_all()`: then `<warehouse>/report.duckdb`, the
  district's (reportpipe.statistics.district); `refresh_statistics()`: both.
- `run()`: every office's source-months found in the inbox, then the statistics.
- `rebuild()`: stg_ again from the files kept as delivered (new typing rules, a rotated
  personal-data key).

Each office has its own warehouse folder and lock (reportpipe.offices): offices load side by
side, and an office's ids, rows and faults stay its own. A file's own faults (unreadable,
hostile, breaking the contract) reject that file and nothing else; faults of an office's
warehouse (busy, corrupt, disk full) stop that office's work with a WarehouseError that says
what to do, and leave its published file as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportpipe import settings
from reportpipe.contracts import Source, sources
from reportpipe.intake import readers
from reportpipe.intake.inbox import Export, Stray, classify, office_inboxes, scan, sha256
from reportpipe.loading import FileOutcome, Progress, decide_month, kept_file, legacy_raw
from reportpipe.offices import deployment
from reportpipe.problems import RejectedExport
from reportpipe.statistics import revisions
from reportpipe.statistics.district import publish_district
from reportpipe.statistics.figures import build_report_tables
from reportpipe.statistics.reconcile import reconcile
from reportpipe.validation.data_docs import build_data_docs
from reportpipe.warehouse import models
from reportpipe.warehouse.personal import use_pii_key
from reportpipe.warehouse.publication import REPORT_DB, publish
from reportpipe.warehouse.session import WarehouseError, Writer, ensure_source_tables, transaction, writer

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    strays: list[Stray] = field(default_factory=list)
    data_docs: list[Path] = field(default_factory=list)  # each office's index page of its validation results
    failed: list[WarehouseError] = field(default_factory=list)  # offices whose warehouse stopped their work

    @property
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]


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
                       wait_s: float = 3600, office_id: str | None = None) -> Path:
    """Rebuild an office's business and report tables and publish its report.duckdb, then the district's
    report.duckdb; the path of `<warehouse>/report.duckdb`."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
    refresh_office(warehouse_dir, office_id, on_wait, wait_s)
    return publish_all(warehouse_dir, wait_s, on_wait)


def refresh_office(warehouse_dir: Path | None = None, office_id: str | None = None,
                   on_wait: Callable[[str], None] | None = None, wait_s: float = 3600,
                   only_if_changed: bool = False) -> bool:
    """Rebuild an office's business and report tables and publish its report.duckdb; whether it did.

    `only_if_changed` (the statistics DAG, run once per burst of loads): not when no file of the office was
    decided since its last refresh (a rebuild and an acceptance refresh themselves)."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
    office = deployment().office(office_id)
    with writer(deployment().folder(warehouse_dir, office.id), wait_s, on_wait=on_wait) as w:
        if only_if_changed and (w.folder / REPORT_DB).exists() and w.con.execute(
                "SELECT coalesce(max(file_id), 0) <= (SELECT coalesce(max(file_id), -1) FROM _refreshed_through)"
                " FROM intake_log").fetchone()[0]:
            return False
        _refresh(w, office.id)
        return True


def publish_all(warehouse_dir: Path | None = None, wait_s: float = 3600,
                on_wait: Callable[[str], None] | None = None) -> Path:
    """`<warehouse>/report.duckdb`: the one office's own file, or every office's and the district's."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
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
    publish_all(warehouse_dir, 3600, progress.line)
    return report


def rebuild(warehouse_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """Rebuild every office's stg_ tables from the files its months were loaded from, kept as delivered
    (typing rules and the personal-data key of today), each office's in one transaction, then publish."""
    warehouse_dir = Path(warehouse_dir or settings.warehouse_dir())
    progress = progress or Progress()
    for office in deployment().offices:
        with writer(deployment().folder(warehouse_dir, office.id), on_wait=progress.line) as w:
            use_pii_key(w.con)
            # The new tables are built beside the old ones (a file is staged in the scratch database,
            # and one transaction writes one database), then swapped in at once.
            w.con.execute("ATTACH ':memory:' AS rebuilt")
            try:
                for source in sources(office.id).values():
                    ensure_source_tables(w.con, source, office.id)
                    sid = source.source_id
                    w.con.execute(f"CREATE TABLE rebuilt.stg_{sid} AS FROM main.stg_{sid} LIMIT 0")
                    for month, file_id, digest, path in w.con.execute(
                            "SELECT month, file_id, sha256, path FROM loaded_months WHERE source_id = ? ORDER BY month",
                            [sid]).fetchall():
                        progress.step(f"rebuilding {office.id} stg_{sid} {month:%Y-%m} …")
                        cells = _delivered_cells(w, source, month, file_id, digest, Path(path).name)
                        w.con.execute(f"INSERT INTO rebuilt.stg_{sid} BY NAME {models.stg_model(source, office.id, cells)}")
                with transaction(w.con):
                    for source in sources(office.id).values():
                        w.con.execute(f"DELETE FROM stg_{source.source_id}")
                        w.con.execute(f"INSERT INTO stg_{source.source_id} BY NAME FROM rebuilt.stg_{source.source_id}")
            finally:
                w.con.execute("DETACH rebuilt")
            _refresh(w, office.id)
    return publish_all(warehouse_dir, 3600, progress.line)


def _delivered_cells(w: Writer, source: Source, month: dt.date, file_id: int, digest: str, name: str) -> str:
    """A loaded month's cells as delivered, with its file_id and month: its kept file staged again (or,
    loaded before files were kept, its rows of raw_)."""
    kept = kept_file(w.folder, source.source_id, month, digest, name)
    if kept.exists():
        if sha256(kept) != digest:
            raise WarehouseError(f"{kept}, the file {source.source_id} {month:%Y-%m} was loaded from, has changed since"
                                 f" (sha256 is not {digest}): deliver the month again")
        readers.stage(w.con, kept, name)
        return f"(SELECT {file_id} AS file_id, DATE '{month:%Y-%m-%d}' AS month, * FROM scratch.incoming)"
    if legacy_raw(w.con, source.source_id):
        return f"(SELECT * FROM main.raw_{source.source_id} WHERE month = DATE '{month:%Y-%m-%d}')"
    raise WarehouseError(f"{kept}, the file {source.source_id} {month:%Y-%m} was loaded from, is missing:"
                         " deliver the month again, then rebuild")


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
    publish_all(Path(warehouse_dir), 3600, on_wait)
    return reasons
