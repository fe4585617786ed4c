"""`reportpipe`: the pipeline from a shell, with the same functions the DAGs call."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from reportpipe import settings


def _figures_table(report_db: Path, year: int | None) -> str:
    import duckdb

    with duckdb.connect(str(report_db), read_only=True) as con:
        rows = con.execute(
            "SELECT year, figure_id, label, value, unit FROM report_figures"
            " WHERE ? IS NULL OR year = ? ORDER BY year, source_id, figure_id",
            [year, year],
        ).fetchall()
    lines = [f"{'year':<5} {'figure_id':<30} {'value':>10} {'unit':<4} label"]
    for y, figure_id, label, value, unit in rows:
        shown = "—" if value is None else f"{value:g}"
        lines.append(f"{y:<5} {figure_id:<30} {shown:>10} {unit:<4} {label}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from reportpipe.pipeline import run
    from reportpipe.reconcile import ReconciliationError

    try:
        report = run(args.inbox, args.warehouse)
    except ReconciliationError as e:
        print(f"reportpipe: {e}", file=sys.stderr)
        return 1
    report_db = args.warehouse / "report.duckdb"
    print(_figures_table(report_db, None))
    print(f"\nPublished {report_db}")
    if report.data_docs:
        print(f"Validation results (Data Docs): {report.data_docs}")
    if report.rejected:
        print(f"\n{len(report.rejected)} file(s) rejected; the months keep their earlier good version:", file=sys.stderr)
        for outcome in report.rejected:
            print(outcome.describe(), file=sys.stderr)
        return 1
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    print(_figures_table(args.warehouse / "report.duckdb", args.year))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    import duckdb

    from reportpipe.contracts import sources
    from reportpipe.inbox import parse_name
    from reportpipe.pipeline import check_export

    candidates = [parse_name(args.file, s) for s in sources().values()]
    export = next((c for c in candidates if not isinstance(c, str)), None)
    if export is None:
        print(f"reportpipe: {args.file.name} matches no source's file name (<prefix>_YYYYMM[_vN].csv|xlsx)", file=sys.stderr)
        return 2
    source = sources()[export.source_id]
    con = duckdb.connect()
    published = args.warehouse / "report.duckdb"
    loaded = None
    if published.exists():  # ids of other months, as last published
        con.execute(f"ATTACH '{published}' AS published (READ_ONLY)")
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'published'").fetchall()
        if (f"stg_{source.source_id}",) in tables:
            loaded = f"published.stg_{source.source_id}"
    rows, checked = check_export(con, export, source, loaded)
    print(f"{export.name}: {source.title} ({source.source_id}) {export.month} v{export.version}, {rows} rows")
    if checked.success:
        print(f"valid: {len(checked.expectations)} expectations of expectations/suites/{source.source_id}.json met")
        return 0
    failed = sum(not ok for _, _, ok, _ in checked.expectations)
    print(f"REJECTED: {failed} of {len(checked.expectations)} expectations failed" if checked.expectations else "REJECTED")
    for problem in checked.problems:
        print(f"  {problem}")
    return 1


def cmd_status(args: argparse.Namespace) -> int:
    from reportpipe import warehouse
    from reportpipe.status import month_grid, render

    # The working database is current even when a rejection published nothing.
    with warehouse.work(args.warehouse, timeout_s=120) as con:
        grid = month_grid(con, args.year)
    print(render(grid, args.year))
    return 0


def cmd_revisions(args: argparse.Namespace) -> int:
    import duckdb

    with duckdb.connect(str(args.warehouse / "report.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT revised_at, figure_id, old_value, new_value, caused_by FROM figure_revisions"
            " WHERE year = ? ORDER BY revised_at, figure_id",
            [args.year],
        ).fetchall()
    if not rows:
        print(f"no published figure of {args.year} has been revised")
    for revised_at, figure_id, old, new, caused_by in rows:
        shown = lambda v: "—" if v is None else f"{v:g}"
        print(f"{revised_at:%Y-%m-%d %H:%M}  {figure_id:<30} {shown(old):>8} → {shown(new):<8} {caused_by}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from reportpipe.report import write_report

    try:
        written = write_report(args.year, args.out, args.warehouse)
    except LookupError as e:  # the year was never published
        print(f"reportpipe: {e}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def _published(warehouse: Path):
    """report.duckdb, read-only (a missing file is an error, not a new empty database)."""
    import duckdb

    report_db = warehouse / "report.duckdb"
    if not report_db.exists():
        raise FileNotFoundError(f"{report_db} does not exist: `reportpipe run` publishes it")
    return duckdb.connect(str(report_db), read_only=True)


def cmd_describe(args: argparse.Namespace) -> int:
    with _published(args.warehouse) as con:
        tables = dict(con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1"
        ).fetchall())
        if args.table is None:
            print(f"{'table':<26} {'rows':>8}  comment")
            for table, comment in tables.items():
                rows = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                print(f"{table:<26} {rows:>8}  {comment or ''}")
            return 0
        if args.table not in tables:
            print(f"reportpipe: report.duckdb has no table {args.table!r}; its tables: {', '.join(tables)}", file=sys.stderr)
            return 2
        columns = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns()"
            " WHERE database_name = current_database() AND table_name = ? ORDER BY column_index",
            [args.table],
        ).fetchall()
    print(f"{args.table}: {tables[args.table] or ''}")
    for name, data_type, comment in columns:
        print(f"  {name:<22} {data_type:<24} {comment or ''}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    import difflib

    from reportpipe.contracts import figures
    from reportpipe.figures import explain, write_contributing_rows

    known = {f.figure_id: f for f in figures()}
    if args.figure_id not in known:
        close = difflib.get_close_matches(args.figure_id, known, n=5, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "`reportpipe figures` lists them"
        print(f"reportpipe: no figure {args.figure_id!r}: {hint}", file=sys.stderr)
        return 2
    figure = known[args.figure_id]
    with _published(args.warehouse) as con:
        try:
            explanation = explain(con, figure, args.year)
        except LookupError as e:
            print(f"reportpipe: {e}", file=sys.stderr)
            return 2
        print(explanation.describe())
        if args.rows:
            written = write_contributing_rows(con, figure, args.year, args.rows)
            print(f"\nwrote the {written} rows behind {figure.figure_id} {args.year} to {args.rows}")
    return 0 if explanation.agrees else 1


def cmd_demo_inbox(args: argparse.Namespace) -> int:
    from reportpipe.demo import write_inbox

    files = write_inbox(args.inbox, args.year)
    print(f"wrote {len(files)} demo exports for {args.year} to {args.inbox}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reportpipe", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every file decision")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="ingest every export in the inbox, build and publish the figures")
    p.add_argument("--inbox", type=Path, default=None, help="default: $REPORTPIPE_INBOX or ./inbox")
    p.add_argument("--warehouse", type=Path, default=None, help="default: $REPORTPIPE_WAREHOUSE or ./warehouse")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("figures", help="print the published report figures")
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--year", type=int, default=None)
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("validate", help="validate one export file against its suite, without loading it")
    p.add_argument("file", type=Path)
    p.add_argument("--warehouse", type=Path, default=None, help="ids of other months are checked against its report.duckdb")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("status", help="print which version holds each source-month of a year")
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--year", type=int, required=True)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("revisions", help="print published figures that re-delivered months changed")
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--year", type=int, required=True)
    p.set_defaults(func=cmd_revisions)

    p = sub.add_parser("report", help="write the year's workbook, Markdown and DOCX draft and charts from report.duckdb")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder to write into (created if missing)")
    p.add_argument("--warehouse", type=Path, default=None, help="default: $REPORTPIPE_WAREHOUSE or ./warehouse")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("describe", help="print the data dictionary of report.duckdb: its tables, or one table's columns")
    p.add_argument("table", nargs="?")
    p.add_argument("--warehouse", type=Path, default=None)
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("explain", help="show how a published figure is computed, from which files, and recompute it")
    p.add_argument("figure_id")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--warehouse", type=Path, default=None)
    p.add_argument("--rows", type=Path, default=None, metavar="FILE.csv",
                   help="write the rows behind the figure, with their files (personal data only hashed)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("demo-inbox", help="write the deterministic demo exports of a year")
    p.add_argument("inbox", type=Path)
    p.add_argument("--year", type=int, default=2023)
    p.set_defaults(func=cmd_demo_inbox)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if getattr(args, "inbox", None) is None and args.command == "run":
        args.inbox = settings.inbox_dir()
    if hasattr(args, "warehouse") and args.warehouse is None:
        args.warehouse = settings.warehouse_dir()
    try:
        return args.func(args)
    except (settings.SettingsError, FileNotFoundError) as e:
        print(f"reportpipe: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
