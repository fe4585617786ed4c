"""`reportpipe`: the pipeline from a shell, with the same functions the DAGs call.

Settings come from the environment; run from the project folder, the `.env` that `make`
wrote is read too (a variable already exported wins).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from reportpipe import settings
from reportpipe.offices import deployment


class Terminal:
    """Progress for a person: passing steps overwrite one line on a terminal; results are printed."""

    def __init__(self):
        self.stream = sys.stderr
        self.live = self.stream.isatty()

    def step(self, text: str) -> None:
        if self.live:
            self.stream.write(f"\r\033[K{text[:150]}")
            self.stream.flush()

    def line(self, text: str) -> None:
        if self.live:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)


def _figures_table(warehouse_dir: Path, year: int | None, office_id: str) -> str:
    from reportpipe.statistics.explain import number_text
    from reportpipe.warehouse.publication import open_published

    with open_published(warehouse_dir) as con:
        rows = con.execute(
            "SELECT year, figure_id, label, value, unit, is_provisional FROM report_figures"
            " WHERE (? IS NULL OR year = ?) AND office_id = ? ORDER BY year, source_id, figure_id",
            [year, year, office_id],
        ).fetchall()
    lines = [f"{'year':<5} {'figure_id':<30} {'value':>10} {'unit':<4} label"]
    for y, figure_id, label, value, unit, provisional in rows:
        lines.append(f"{y:<5} {figure_id:<30} {number_text(value):>10} {unit:<4} {label}{' [p]' if provisional else ''}")
    return "\n".join(lines)


def _office(warehouse_dir: Path, office_id: str | None, district_too: bool = False) -> tuple[str, Path]:
    """The office a command is about, and the folder of its warehouse (the district's is the warehouse's)."""
    if district_too and deployment().district and office_id == deployment().district.id:
        return office_id, Path(warehouse_dir)
    if office_id is None and not deployment().single:
        raise LookupError(f"name the office with --office (one of {', '.join(o.id for o in deployment().offices)})")
    office = deployment().office(office_id)
    return office.id, deployment().folder(warehouse_dir, office.id)


def cmd_run(args: argparse.Namespace) -> int:
    from reportpipe.pipeline import Progress, run

    terminal = Terminal()
    report = run(args.inbox, args.warehouse, Progress(line=terminal.line, step=terminal.step))
    terminal.step("")
    print(_figures_table(args.warehouse, None, deployment().publisher_id))
    print(f"\nPublished {args.warehouse / 'report.duckdb'}")
    for index in report.data_docs:
        print(f"Validation results (Data Docs): {index}")
    for office in deployment().offices:
        _print_flags(args.warehouse, office.id)
    for failure in report.failed:
        print(f"reportpipe: {failure}", file=sys.stderr)
    if report.failed:
        return 3
    if report.rejected:
        print(f"\n{len(report.rejected)} file(s) rejected; the months keep their earlier good version:", file=sys.stderr)
        for outcome in report.rejected:
            print(outcome.describe(), file=sys.stderr)
        return 1
    return 0


def _print_flags(warehouse_dir: Path, office_id: str) -> None:
    """An office's months that loaded but that their history flagged: their figures stay provisional until accepted."""
    from reportpipe.statistics.history import open_flags

    office = "" if deployment().single else f" --office {office_id}"
    flags = sorted(open_flags(deployment().folder(warehouse_dir, office_id)))
    if flags:
        print(f"\n{len(flags)} month(s) out of line with their history (figures provisional):", file=sys.stderr)
    for source_id, month, _, reasons in flags:
        print(f"  {reasons} (check with the sending office, then: reportpipe accept {source_id} {month:%Y-%m}{office} "
              f'--note "…")', file=sys.stderr)


def cmd_figures(args: argparse.Namespace) -> int:
    print(_figures_table(args.warehouse, args.year, args.office or deployment().publisher_id))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from reportpipe.contracts import sources
    from reportpipe.intake.inbox import Export, classify
    from reportpipe.loading import check_alone
    from reportpipe.untrusted import printable

    found = [classify(args.file, s) for s in sources(args.office).values()]
    export = next((e for e in found if isinstance(e, Export)), None)
    if export is None:
        print(f"reportpipe: {printable(args.file.name)} matches no source's file name (<prefix>_YYYYMM[_vN].csv|xlsx)",
              file=sys.stderr)
        return 2
    source = sources(args.office)[export.source_id]
    print(f"{printable(export.name)}: {source.title} ({source.source_id}) {export.period} v{export.version}")
    rows, checked = check_alone(args.folder, args.office, source, export)
    if rows is not None:
        print(f"{rows:,} rows")
    if checked.success:
        print(f"valid: {len(checked.expectations)} expectations of the {source.source_id} suite met")
        return 0
    failed = sum(not ok for *_, ok, _ in checked.expectations)
    print(f"REJECTED: {failed} of {len(checked.expectations)} expectations failed" if checked.expectations
          else "REJECTED: the file cannot be read as an export")
    for problem in checked.problems:
        print(f"  {problem}")
    return 1


def cmd_status(args: argparse.Namespace) -> int:
    from reportpipe.statistics.status import render, year_status
    from reportpipe.warehouse.publication import open_published

    # By default the year of last month: in January, December's export is the one coming due.
    year = args.year or (dt.date.today().replace(day=1) - dt.timedelta(days=1)).year
    with open_published(args.folder) as con:
        status = year_status(con, year)
    print(json.dumps(status.as_json(), ensure_ascii=False, indent=2) if args.json else render(status))
    return 1 if status.attention else 0


def cmd_accept(args: argparse.Namespace) -> int:
    from reportpipe.pipeline import accept

    if not args.note.strip():
        print("reportpipe: --note must say what was checked, and with whom", file=sys.stderr)
        return 2
    reasons = accept(args.warehouse, args.source_id, args.month, args.note.strip(), on_wait=Terminal().line,
                     office_id=args.office)
    print(f"accepted {args.source_id} {args.month:%Y-%m}: {reasons}\nnote: {args.note.strip()}")
    return 0


def cmd_revisions(args: argparse.Namespace) -> int:
    from reportpipe.statistics.explain import number_text
    from reportpipe.warehouse.publication import open_published

    with open_published(args.folder) as con:
        rows = con.execute(
            "SELECT revised_at, figure_id, old_value, new_value, caused_by FROM figure_revisions"
            " WHERE year = ? ORDER BY revised_at, figure_id",
            [args.year],
        ).fetchall()
    if not rows:
        print(f"no published figure of {args.year} has been revised")
    for revised_at, figure_id, old, new, caused_by in rows:
        print(f"{revised_at:%Y-%m-%d %H:%M}  {figure_id:<30} {number_text(old):>8} → {number_text(new):<8} {caused_by}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from reportpipe.outline import TemplateError
    from reportpipe.outputs.comparison import write_comparison
    from reportpipe.outputs.reports import write_report

    try:
        if deployment().district and args.office == deployment().district.id:  # the district's: the comparison
            written = write_comparison(args.year, args.out, args.folder)
        else:
            written = write_report(args.year, args.out, args.folder, deployment().office(args.office))
    except (LookupError, TemplateError) as e:  # a year never published; a broken template
        print(f"reportpipe: {e}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    from reportpipe.warehouse.dictionary import describe
    from reportpipe.warehouse.publication import open_published

    with open_published(args.warehouse) as con:
        print(describe(con, args.table))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    import difflib

    from reportpipe.contracts import figures
    from reportpipe.statistics.explain import explain, write_contributing_rows
    from reportpipe.warehouse.publication import open_published

    known = {f.figure_id: f for f in figures()}
    if args.figure_id not in known:
        close = difflib.get_close_matches(args.figure_id, known, n=5, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "`reportpipe figures` lists them"
        print(f"reportpipe: no figure {args.figure_id!r}: {hint}", file=sys.stderr)
        return 2
    figure = known[args.figure_id]
    with open_published(args.folder) as con:
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


def cmd_rebuild(args: argparse.Namespace) -> int:
    from reportpipe.pipeline import Progress, rebuild

    terminal = Terminal()
    path = rebuild(args.warehouse, Progress(line=terminal.line, step=terminal.step))
    terminal.step("")
    print(f"rebuilt every stg_ table from the files kept as delivered and published {path}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from reportpipe.contracts import figures, sources
    from reportpipe.statistics.figures import figure_sql
    from reportpipe.warehouse import models

    known = {f"stg_{s}": models.stg_model(src, deployment().office().id) for s, src in sources().items()}
    known |= {f"fct_{s}": models.fct_model(src) for s, src in sources().items()}
    known |= {f.figure_id: figure_sql(f) for f in figures()}
    if args.model not in known:
        print(f"reportpipe: no model {args.model!r}: the models are {', '.join(sorted(known))}", file=sys.stderr)
        return 2
    print(known[args.model].strip())
    return 0


def cmd_suites(args: argparse.Namespace) -> int:
    from reportpipe.contracts import sources
    from reportpipe.validation import suites

    drifted = {s: suites.drift(src) for s, src in sources().items()}
    if args.write:
        for s, src in sources().items():
            if drifted[s] or suites.committed(src) is None:
                print(f"wrote {suites.write(src)}")
        return 0
    for lines in drifted.values():
        for line in lines:
            print(line)
    if any(drifted.values()):
        print("\nthe suites and their contracts disagree: `reportpipe suites --write` regenerates the structural "
              "half and keeps the hand-written rules", file=sys.stderr)
        return 1
    print(f"the {len(drifted)} suites agree with their contracts")
    return 0


def cmd_demo_inbox(args: argparse.Namespace) -> int:
    from reportpipe.demo.inbox import write_district, write_inbox
    from reportpipe.offices import load

    if args.offices:
        district = load(args.offices)
        files = write_district(args.inbox, district, args.year)
        print(f"wrote {len(files)} demo exports for {args.year} of {len(district.offices)} offices to "
              f"{args.inbox}/<office_id>/")
        return 0
    files = write_inbox(args.inbox, args.year)
    print(f"wrote {len(files)} demo exports for {args.year} to {args.inbox}")
    return 0


def _month(text: str) -> dt.date:
    from reportpipe.months import parse_month

    try:
        return parse_month(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reportpipe", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log every file decision; tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)
    warehouse_help = "default: $REPORTPIPE_WAREHOUSE or ./warehouse"

    def command(name: str, func, help: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help, description=help)
        c.set_defaults(func=func)
        if name != "demo-inbox":
            c.add_argument("--warehouse", type=Path, default=None, help=warehouse_help)
        if name not in ("demo-inbox", "run", "rebuild", "sql", "suites", "describe", "figures"):
            c.add_argument("--office", default=None, help="the office (its id in the offices file); needed when "
                                                          "the deployment serves more than one")
        return c

    c = command("run", cmd_run, "ingest every export in the inbox, build and publish the figures")
    c.add_argument("--inbox", type=Path, default=None, help="default: $REPORTPIPE_INBOX or ./inbox")
    c = command("figures", cmd_figures, "print the published report figures")
    c.add_argument("--year", type=int, default=None)
    c.add_argument("--office", default=None, help="an office's or the district's id (default: the district's, "
                                                  "or the one office's)")
    c = command("validate", cmd_validate, "validate one export file against its suite, without loading it")
    c.add_argument("file", type=Path)
    c = command("status", cmd_status, "where each source-month of a year stands; exit 1 when one is overdue or flagged")
    c.add_argument("--year", type=int, default=None, help="default: the year of last month")
    c.add_argument("--json", action="store_true", help="print it for machines")
    c = command("accept", cmd_accept, "accept a month its history flagged, after checking it with the sending office")
    c.add_argument("source_id")
    c.add_argument("month", type=_month, metavar="YYYY-MM")
    c.add_argument("--note", required=True, help="what was checked, with whom")
    c = command("revisions", cmd_revisions, "print published figures that re-delivered months changed")
    c.add_argument("--year", type=int, required=True)
    c = command("report", cmd_report, "write the year's workbook, Markdown and DOCX draft and charts from report.duckdb"
                " (--office <district>: the district's comparison of its offices)")
    c.add_argument("--year", type=int, required=True)
    c.add_argument("--out", type=Path, required=True, help="folder to write into (created if missing)")
    c = command("describe", cmd_describe, "print the data dictionary of report.duckdb: its tables, or one table's columns")
    c.add_argument("table", nargs="?")
    c = command("explain", cmd_explain, "show how a published figure is computed, from which files, and recompute it")
    c.add_argument("figure_id")
    c.add_argument("--year", type=int, required=True)
    c.add_argument("--rows", type=Path, default=None, metavar="FILE.csv",
                   help="write the rows behind the figure, with their files (personal data only hashed)")
    command("rebuild", cmd_rebuild, "rebuild every stg_ table from the files kept as delivered (e.g. after REPORTPIPE_PII_KEY changed), publish")
    c = command("sql", cmd_sql, "print the SQL of a model: stg_<source>, fct_<source> or a figure_id")
    c.add_argument("model")
    c = command("suites", cmd_suites, "check that each GX suite's structural half matches its contract")
    c.add_argument("--write", action="store_true", help="regenerate the structural halves, keeping the rules")
    c = command("demo-inbox", cmd_demo_inbox, "write the deterministic demo exports of a year")
    c.add_argument("inbox", type=Path)
    c.add_argument("--year", type=int, default=2023)
    c.add_argument("--offices", type=Path, default=None, metavar="FILE",
                   help="an offices file: write an inbox per office, each with its own volumes and communities")
    return p


def main(argv: list[str] | None = None) -> int:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    from reportpipe.contracts import ContractError
    from reportpipe.offices import OfficesError
    from reportpipe.statistics.reconcile import ReconciliationError

    try:
        if getattr(args, "inbox", 0) is None:
            args.inbox = settings.inbox_dir()
        if getattr(args, "warehouse", 0) is None:
            args.warehouse = settings.warehouse_dir()
        if hasattr(args, "office") and args.func is not cmd_figures:
            args.office, args.folder = _office(args.warehouse, args.office, district_too=args.func is cmd_report)
        return args.func(args)
    except ReconciliationError as e:
        print(f"reportpipe: {e}", file=sys.stderr)
        return 1
    except (settings.SettingsError, ContractError, OfficesError, FileNotFoundError, LookupError) as e:
        print(f"reportpipe: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        from reportpipe.warehouse.session import WarehouseError

        if isinstance(e, WarehouseError):
            print(f"reportpipe: {e}", file=sys.stderr)
            return 3
        if args.verbose:
            raise
        print(f"reportpipe: unexpected error {type(e).__name__}: {e} (run with -v for the details)", file=sys.stderr)
        return 4


if __name__ == "__main__":
    sys.exit(main())
