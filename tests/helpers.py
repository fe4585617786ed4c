"""What the tests share: the warehouse's files read as analysts read them, `reportpipe` run in this
process, exports written as the source systems write them, and the data several test modules use.

Fixtures are in conftest.py. Nothing of reportpipe is imported before it is used: the fault tests'
process server (tests/faults/commands.py) imports this module.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import duckdb

TEST_PII_KEY = "test-key-0123456789abcdef"
DUCKDB_SHELL = Path(sys.executable).parent / "duckdb"  # PyPI duckdb-cli, in requirements.lock


# ---------------------------------------------------------------- reading the warehouse

def open_read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB file opened read-only, so that reading it can change nothing."""
    return duckdb.connect(str(database), read_only=True)


def query(database: Path, sql: str, params=()) -> list[tuple]:
    """The rows of one query on a DuckDB file, opened read-only."""
    with open_read_only(database) as con:
        return con.execute(sql, list(params)).fetchall()


def open_report(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse's report.duckdb, opened read-only as analysts open it."""
    return open_read_only(warehouse / "report.duckdb")


def read_report(warehouse: Path, sql: str, params=()) -> list[tuple]:
    """The rows of one query on the warehouse's report.duckdb."""
    return query(warehouse / "report.duckdb", sql, params)


def published_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every published table's rows, minus load timestamps: what a re-run must not change."""
    from reportpipe.warehouse.publication import TIMESTAMPS

    with open_report(warehouse) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            cols = [c for c, in con.execute(f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{t}'").fetchall()
                    if c not in (*TIMESTAMPS, "published_at")]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        return out


def parquet_copy(folder: Path, table: str) -> str:
    """The Parquet set's copy of a published table, as DuckDB reads it: a file, or a folder of months."""
    return f"read_parquet('{folder / table}/*.parquet')" if (folder / table).is_dir() else f"read_parquet('{folder / table}.parquet')"


# ---------------------------------------------------------------- the command

@dataclass
class Run:
    """How a `reportpipe` command ended."""

    code: int | None  # the exit code; None when an exception escaped
    out: str
    err: str
    crash: str | None = None  # the traceback of the exception that escaped, if one did

    @property
    def output(self) -> str:
        return self.out + self.err


def cli(*args) -> Run:
    """`reportpipe ARGS` in this process (its imports are paid once per session), its output captured."""
    from reportpipe.cli import main

    out, err = io.StringIO(), io.StringIO()
    crash = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:
            code = e.code
        except Exception:
            code, crash = None, traceback.format_exc()
    return Run(code, out.getvalue(), err.getvalue(), crash)


# ---------------------------------------------------------------- exports

def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV export as a source system would write it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], title: str | None = None, total: bool = False) -> Path:
    """An XLSX export, optionally with a title row above the header and a 合计 row below."""
    import openpyxl

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    if total:
        ws.append(["合计", None, len(rows)])
    wb.save(path)
    return path


LITIGATION_HEADER = ["案号", "收案日期", "案件类型", "案由", "审理结果", "负责人出庭"]
# Two lawsuits received in March 2023: one pending, one withdrawn.
MARCH_LAWSUITS = [["(2023)京0101行初1号", "2023-03-02", "行政诉讼", "拆除牌匾", "未判决", "否"],
                  ["(2023)京0101行初2号", "2023/3/9", "行政诉讼", "罚款", "撤诉", "是"]]


def write_litigation(inbox: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A litigation export (复议诉讼) named `name` in the inbox."""
    return write_csv(inbox / "litigation" / name, LITIGATION_HEADER, rows, encoding)


# ---------------------------------------------------------------- the history scenario (conftest: history_scenario)

HISTORY_YEAR = 2024
HISTORY_CHANNELS = ("政通", "网格", "环保扬尘")
# Work orders per channel and month: three ordinary months, then April at a third of their size,
# May without any 网格 order, June with 环保扬尘 orders for the first time; July is never delivered.
HISTORY_WORK_ORDERS = {1: (40, 30, 0), 2: (42, 28, 0), 3: (40, 30, 0), 4: (12, 10, 0), 5: (45, 0, 0), 6: (40, 30, 25)}
HISTORY_PETITION_FORMS = ("来访", "来信")
# Petitions per 信访形式 and month: a handful, April far below the band and without its 来信, May far above.
HISTORY_PETITIONS = {1: (5, 2), 2: (4, 3), 3: (6, 2), 4: (3, 0), 5: (15, 2)}


def write_work_orders(inbox: Path, month: int, counts: tuple[int, ...], version: str = "") -> Path:
    """A work_orders export of a month of HISTORY_YEAR with counts[i] orders of HISTORY_CHANNELS[i]."""
    from reportpipe.contracts import sources

    rows = []
    for channel, n in zip(HISTORY_CHANNELS, counts):
        for _ in range(n):
            i = len(rows) + 1
            rows.append([f"WO-{HISTORY_YEAR}{month:02d}-{i:04d}", channel,
                         f"{HISTORY_YEAR}/{month}/{1 + i % 28} 09:{i % 60:02d}",
                         "其他", "交东社区", f"交道口南大街{i}号{version}", "", "", "", "办理中"])
    path = inbox / "work_orders" / f"执法工单_{HISTORY_YEAR}{month:02d}{version}.csv"
    return write_csv(path, [c.name for c in sources()["work_orders"].columns], rows)


def write_petitions(inbox: Path, month: int, counts: tuple[int, ...]) -> Path:
    """A petitions export of a month of HISTORY_YEAR with counts[i] petitions of HISTORY_PETITION_FORMS[i]."""
    from reportpipe.contracts import sources

    forms = [form for form, n in zip(HISTORY_PETITION_FORMS, counts) for _ in range(n)]
    rows = [[f"XF-{HISTORY_YEAR}{month:02d}-{i:03d}", f"{HISTORY_YEAR}/{month}/{i}", form, "张三", "", "", "1", "",
             "菊儿社区", "办理中"] for i, form in enumerate(forms, 1)]
    return write_csv(inbox / "petitions" / f"信访件_{HISTORY_YEAR}{month:02d}.csv",
                     [c.name for c in sources()["petitions"].columns], rows)


def anomaly(warehouse: Path, source_id: str, month: int) -> tuple[str | None, str | None]:
    """(anomaly, accepted_note) of a source-month of HISTORY_YEAR in month_status."""
    return read_report(warehouse, "SELECT anomaly, accepted_note FROM month_status WHERE source_id = ? AND month = ?",
                       [source_id, dt.date(HISTORY_YEAR, month, 1)])[0]


# ---------------------------------------------------------------- report outputs

def figures_of(warehouse: Path, year: int = 2023) -> dict[str, dict]:
    """report_figures of a year (the demo's by default) as figure_id → row dict, read directly with SQL."""
    with open_report(warehouse) as con:
        cur = con.execute("SELECT * FROM report_figures WHERE year = ?", [year])
        names = [d[0] for d in cur.description]
        return {row[1]: dict(zip(names, row)) for row in cur.fetchall()}


def output(paths: list[Path], suffix: str) -> Path:
    """The one output file with this suffix."""
    (path,) = [p for p in paths if p.suffix == suffix]
    return path


def table_of(ws) -> tuple[int, list[str], list[dict]]:
    """The sheet's single Excel table: its header row number, header (a heading's line breaks dropped: 报告稿写法)
    and body rows as dicts."""
    (table,) = ws.tables.values()
    first, last = re.fullmatch(r"A(\d+):[A-Z]+(\d+)", table.ref).groups()
    rows = list(ws.iter_rows(min_row=int(first), max_row=int(last), values_only=True))
    header = [h.replace("\n", "") for h in rows[0]]
    return int(first), header, [dict(zip(header, r)) for r in rows[1:]]


def delivered(con: duckdb.DuckDBPyConnection, warehouse, source_id: str) -> None:
    """The temporary table `delivered`: the cells of every month of the source as its kept file holds them,
    staged by the readers a load uses, with the month's file_id (what `reportpipe sql stg_<s>` reads)."""
    from reportpipe.intake import readers
    from reportpipe.loading import kept_file

    con.execute("DROP TABLE IF EXISTS delivered")
    for month, file_id, digest, path in con.execute(
            "SELECT month, file_id, sha256, path FROM loaded_months WHERE source_id = ?", [source_id]).fetchall():
        readers.stage(con, kept_file(warehouse, source_id, month, digest, Path(path).name), Path(path).name)
        cells = f"SELECT {file_id}::BIGINT AS file_id, DATE '{month}' AS month, * FROM scratch.incoming"
        exists = con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'delivered' AND temporary").fetchall()
        con.execute(f"INSERT INTO delivered BY NAME {cells}" if exists else f"CREATE TEMP TABLE delivered AS {cells}")
