"""City scale (issue 13): how long and how much memory a month's intake takes, beside DuckDB's own read.

Generates deterministic valid months (fixed seed), then measures in the same run, on the
same files: a 2M-row work_orders month in UTF-8 and in GB18030, a 10M-row month, a 200k-row
XLSX penalty_cases month. For each, `reportpipe run` is a fresh process alone with the file
in a fresh inbox and warehouse, timed from process start to exit under /usr/bin/time -v
(peak RSS); a 10-row month of the same source and format gives the fixed cost, and the
difference, the month's own cost, is set against DuckDB reading the file into a table.
Then: all figures of a 24M-row year (12 copies of the 2M month in stg_work_orders)
rebuilt by `pipeline.refresh_statistics` as a monthly refresh (December arrives), after a
re-delivery and with nothing changed; `make demo` after set-up, each DAG file's parse.
A script that prints numbers, not a test:

    make bench                                   # the issue's sizes (about 15 minutes)
    .venv/bin/python benchmarks/intake.py --quick --skip demo,dags
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SEED = 13
PII_KEY = "benchmark-key-not-a-secret-0123456789"
SIZES = {"month": 2_000_000, "big": 10_000_000, "xlsx": 200_000}
QUICK = {"month": 200_000, "big": 1_000_000, "xlsx": 20_000}
COMMUNITIES = ["府学社区", "福祥社区", "大兴社区", "交东社区", "菊儿社区", "南锣鼓巷社区", "鼓楼苑社区", "北兵马司社区"]
ISSUES = ["占道经营", "无照游商", "垃圾分类", "施工扬尘", "渣土遗撒", "违规广告", "噪音扰民", "餐饮油烟", "其他"]
GOALS = {  # what the issue asks, as text for the table
    "utf8": "own cost ≤ 3× read; RSS < 1 GiB", "gb18030": "own cost ≤ 4× read; RSS < 1 GiB",
    "big": "RSS < 1.5 GiB", "xlsx": "< 20 s", "fixed": "< 8 s", "year": "< 10 s", "demo": "< 90 s",
}


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def write_work_orders(path: Path, rows: int, encoding: str = "utf-8") -> None:
    """A valid March 2023 of work_orders: every rule of its suite holds on every row."""
    # hash(i + SEED) picks the categories: fixed by the seed, the same in every run and thread.
    pick = lambda values, salt: f"{sql_list(values)}[1 + (hash(i + {SEED * salt}) % {len(values)})::INT]"  # noqa: E731
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.with_suffix(".utf8.csv") if encoding != "utf-8" else path
    duckdb.sql(f"""
        COPY (
            SELECT
                'WO-2023-' || lpad(i::VARCHAR, 9, '0') AS "工单编号",
                {pick(['政通', '网格', '环保扬尘'], 1)} AS "来源渠道",
                strftime(TIMESTAMP '2023-03-01' + to_seconds(i % 2670000), '%Y-%m-%d %H:%M:%S') AS "受理时间",
                {pick(ISSUES, 2)} AS "问题类型",
                {pick(COMMUNITIES, 3)} AS "所属社区",
                '南锣鼓巷' || (i % 200)::VARCHAR || '号' AS "问题地址",
                CASE WHEN i % 4 = 0 THEN '' ELSE '138' || lpad((hash(i + {SEED}) % 100000000)::VARCHAR, 8, '0') END
                    AS "诉求人电话",
                strftime(TIMESTAMP '2023-03-01' + to_seconds(i % 2670000 + 600), '%Y-%m-%d %H:%M:%S') AS "首次响应时间",
                CASE WHEN i % 5 = 0 THEN '' ELSE strftime(TIMESTAMP '2023-03-01' + to_seconds(i % 2670000 + 7200),
                                                          '%Y-%m-%d %H:%M') END AS "办结时间",
                CASE WHEN i % 5 = 0 THEN '办理中' ELSE '已办结' END AS "办理状态"
            FROM range({rows}) t(i) ORDER BY i
        ) TO '{target}' (HEADER, DELIMITER ',')
    """)
    if target != path:  # DuckDB writes only UTF-8: transcode, streaming
        decoder = codecs.getincrementaldecoder("utf-8")()
        with target.open("rb") as src, path.open("wb") as out:
            while chunk := src.read(1 << 22):
                out.write(decoder.decode(chunk).encode(encoding))
        target.unlink()


def write_penalty_cases(path: Path, rows: int) -> None:
    """A valid March 2023 of penalty_cases as the systems export it: a title row, the header, typed cells."""
    import openpyxl

    rng = random.Random(SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    violations = ["垃圾分类", "施工扬尘", "泄漏遗撒", "无照经营", "户外广告", "店外经营", "燃气安全", "其他"]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("处罚案件")
    sheet.append(["交道口街道行政处罚案件统计（2023年3月）"])
    sheet.append(["案件编号", "立案日期", "结案日期", "程序类型", "违法类型", "当事人类型", "当事人名称", "处理结果",
                  "罚款金额（元）", "是否法制审核"])
    for i in range(rows):
        closed = dt.datetime(2023, 3, 1 + rng.randrange(31))
        procedure = rng.choice(["一般程序", "简易程序"])
        party = rng.choice(["单位", "个人"])
        outcome = rng.choice(["罚款", "警告", "不予处罚"])
        sheet.append([
            f"PC-2023-{i:08d}", closed - dt.timedelta(days=rng.randrange(60)), closed, procedure,
            rng.choice(violations), party, f"某某{'公司' if party == '单位' else '先生'}{i % 997}", outcome,
            rng.randrange(50, 5000) * 10 if outcome == "罚款" else 0,
            "是" if procedure == "一般程序" or rng.random() < 0.5 else "否",
        ])
    workbook.save(path)


def duckdb_read(path: Path) -> float:
    """The floor: DuckDB's own read_csv of the file into a table, every cell text."""
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)", [str(path)])
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def timed_process(argv: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float, str]:
    """(seconds from process start to exit, peak RSS in GiB, output) of a command under /usr/bin/time -v."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *argv], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return seconds, rss_kib / 2**20, done.stdout + done.stderr


def intake(work: Path, label: str, source_id: str, file: Path, rows: int) -> tuple[float, float, Path]:
    """`reportpipe run` alone with the file in a fresh inbox and warehouse: (seconds, peak RSS GiB, warehouse)."""
    base = work / "runs" / label
    shutil.rmtree(base, ignore_errors=True)
    inbox, warehouse = base / "inbox" / source_id, base / "warehouse"
    inbox.mkdir(parents=True)
    os.link(file, inbox / file.name.replace(".utf8", ""))  # a hard link: a symbolic one is refused, a copy costs
    env = {**os.environ, "REPORTPIPE_INBOX": str(base / "inbox"), "REPORTPIPE_WAREHOUSE": str(warehouse),
           "REPORTPIPE_PII_KEY": PII_KEY}
    seconds, rss, _ = timed_process([str(VENV_BIN / "reportpipe"), "run"], env)
    with duckdb.connect(str(warehouse / "work.duckdb"), read_only=True) as con:
        loaded = con.execute("SELECT sum(rows) FROM loaded_months").fetchone()[0]
    if loaded != rows:
        raise RuntimeError(f"{label}: {loaded} rows loaded, expected {rows}")
    return seconds, rss, warehouse


def copy_march(warehouse: Path, months: list[int]) -> int:
    """Load copies of the warehouse's loaded March as the given months of 2023; the year's rows."""
    con = duckdb.connect(str(warehouse / "work.duckdb"))
    columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'stg_work_orders'"
                          " ORDER BY column_index").fetchall()
    for m in months:
        shift = f"INTERVAL ({m - 3}) MONTH"
        select = []
        for name, sql_type in columns:
            if name == "month":
                select.append(f"DATE '2023-{m:02d}-01'")
            elif name == "work_order_id":
                select.append(f"replace(work_order_id, 'WO-2023-', 'WO-2023-{m:02d}-')")
            elif sql_type in ("TIMESTAMP", "DATE"):
                select.append(f"CAST({name} + {shift} AS {sql_type})")
            else:
                select.append(name)
        con.execute(f"INSERT INTO stg_work_orders SELECT {', '.join(select)} FROM stg_work_orders"
                    " WHERE month = DATE '2023-03-01'")
        con.execute(f"INSERT INTO loaded_months SELECT * REPLACE (DATE '2023-{m:02d}-01' AS month) FROM loaded_months"
                    " WHERE source_id = 'work_orders' AND month = DATE '2023-03-01'")
    total = con.execute("SELECT count(*) FROM stg_work_orders WHERE year = 2023").fetchone()[0]
    con.close()
    return total


def redeliver(warehouse: Path, month: int) -> None:
    """The month's rows as if from a second delivery: the same rows under another file."""
    with duckdb.connect(str(warehouse / "work.duckdb")) as con:
        con.execute(f"UPDATE stg_work_orders SET file_id = file_id + 1000 WHERE month = DATE '2023-{month:02d}-01'")


# refresh_statistics timed whole and its publication (copying the tables to report.duckdb and Parquet) apart.
REFRESH = """
import sys, time
from pathlib import Path
from reportpipe import pipeline
publish = pipeline.publish
def timed_publish(*args):
    started = time.perf_counter()
    try:
        return publish(*args)
    finally:
        print(f"publish: {time.perf_counter() - started:.3f} s")
pipeline.publish = timed_publish
started = time.perf_counter()
pipeline.refresh_statistics(Path(sys.argv[1]))
print(f"refresh_statistics: {time.perf_counter() - started:.3f} s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller sizes for development: {QUICK}")
    parser.add_argument("--dir", type=Path, default=ROOT / "benchmarks" / ".data", help="generated files (deleted after)")
    parser.add_argument("--skip", default="", help="comma-separated: utf8,gb18030,big,xlsx,year,demo,dags")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and warehouses")
    args = parser.parse_args()
    sizes, skip = QUICK if args.quick else SIZES, set(filter(None, args.skip.split(",")))
    work = args.dir
    shutil.rmtree(work, ignore_errors=True)
    files = work / "files"
    files.mkdir(parents=True)
    table: list[tuple[str, str, str]] = []  # (what, measured, goal)

    def row(what: str, measured: str, goal: str = "") -> None:
        table.append((what, measured, goal))
        print(f"  {what}: {measured}" + (f"   [goal: {goal}]" if goal else ""), flush=True)

    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    ram = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 2**20
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M}  {os.cpu_count()} cores, {ram:.1f} GiB RAM, {cpu}, "
          f"DuckDB {duckdb.__version__}, Python {sys.version.split()[0]}", flush=True)
    try:
        fixed: dict[Path, float] = {}  # by the 10-row file

        def month_case(label: str, source_id: str, big: Path, small: Path, rows: int, floor: float, goal: str):
            if small not in fixed:
                seconds, rss, _ = intake(work, f"{label}-10", source_id, small, 10)
                fixed[small] = seconds
                row(f"{label}: fixed cost (10-row month, process start to exit)", f"{seconds:.1f} s, "
                    f"peak RSS {rss:.2f} GiB", GOALS["fixed"])
            seconds, rss, warehouse = intake(work, label, source_id, big, rows)
            own = seconds - fixed[small]
            row(f"{label}: {rows:,} rows, full `reportpipe run`", f"{seconds:.1f} s, peak RSS {rss:.2f} GiB")
            row(f"{label}: the month's own cost", f"{own:.1f} s, {own / floor:.1f}× the read", goal)
            return warehouse

        wo = "执法工单_202303.csv"
        if "utf8" not in skip or "year" not in skip:
            print(f"\nwork_orders, UTF-8 ({sizes['month']:,} rows)", flush=True)
            write_work_orders(files / wo, sizes["month"])
            write_work_orders(small := files / "10" / wo, 10)
            floor = duckdb_read(files / wo)
            row(f"utf8: DuckDB read_csv ({(files / wo).stat().st_size / 2**20:.0f} MiB)", f"{floor:.2f} s")
            warehouse = month_case("utf8", "work_orders", files / wo, small, sizes["month"], floor, GOALS["utf8"])
            if "year" not in skip:
                print(f"\nfigures of a year of work_orders ({sizes['month']:,} rows a month)", flush=True)
                env = {**os.environ, "REPORTPIPE_PII_KEY": PII_KEY, "REPORTPIPE_WAREHOUSE": str(warehouse)}

                def refresh(what: str, goal: str = "") -> None:
                    seconds, rss, out = timed_process([sys.executable, "-c", REFRESH, str(warehouse)], env)
                    inner = float(re.search(r"refresh_statistics: ([\d.]+) s", out).group(1))
                    publish = float(re.search(r"publish: ([\d.]+) s", out).group(1))
                    row(f"year: {what} (refresh_statistics)",
                        f"{inner:.1f} s: figures built and reconciled in {inner - publish:.1f} s, published in "
                        f"{publish:.1f} s ({seconds:.1f} s process, peak RSS {rss:.2f} GiB)", goal)

                total = copy_march(warehouse, [1, 2, *range(4, 12)])
                refresh(f"first publication of {total:,} rows, January to November")
                total = copy_march(warehouse, [12])
                refresh(f"the monthly refresh: December arrives, {total:,} rows", GOALS["year"])
                redeliver(warehouse, 6)
                refresh("June delivered again", GOALS["year"])
                refresh("nothing changed", GOALS["year"])
            shutil.rmtree(warehouse.parent)

        if "gb18030" not in skip:
            print(f"\nwork_orders, GB18030 ({sizes['month']:,} rows)", flush=True)
            gb, utf8 = files / "gb18030" / wo, files / "gb18030" / "utf8" / wo
            write_work_orders(gb, sizes["month"], "gb18030")
            write_work_orders(utf8, sizes["month"])  # DuckDB reads no GB18030: the floor is the same rows in UTF-8
            write_work_orders(files / "gb18030" / "10" / wo, 10, "gb18030")
            floor = duckdb_read(utf8)
            utf8.unlink()
            row(f"gb18030: DuckDB read_csv of the same rows in UTF-8 ({gb.stat().st_size / 2**20:.0f} MiB in GB18030)",
                f"{floor:.2f} s")
            shutil.rmtree(month_case("gb18030", "work_orders", gb, files / "gb18030" / "10" / wo, sizes["month"], floor, GOALS["gb18030"]).parent)

        if "big" not in skip:
            print(f"\nwork_orders, UTF-8 ({sizes['big']:,} rows)", flush=True)
            big = files / "big" / wo
            write_work_orders(big, sizes["big"])
            floor = duckdb_read(big)
            row(f"big: DuckDB read_csv ({big.stat().st_size / 2**20:.0f} MiB)", f"{floor:.2f} s")
            write_work_orders(files / "10" / wo, 10)
            shutil.rmtree(month_case("big", "work_orders", big, files / "10" / wo, sizes["big"], floor,
                                     GOALS["big"]).parent)
            big.unlink()

        if "xlsx" not in skip:
            print(f"\npenalty_cases, XLSX ({sizes['xlsx']:,} rows)", flush=True)
            name = "处罚案件_202303.xlsx"
            started = time.perf_counter()
            write_penalty_cases(files / "xlsx" / name, sizes["xlsx"])
            print(f"  (written in {time.perf_counter() - started:.0f} s)")
            write_penalty_cases(files / "xlsx" / "10" / name, 10)
            row("xlsx: DuckDB read", "— (no XLSX reader in this DuckDB without its excel extension)")
            seconds, rss, _ = intake(work, "xlsx", "penalty_cases", files / "xlsx" / name, sizes["xlsx"])
            small, _, _ = intake(work, "xlsx-10", "penalty_cases", files / "xlsx" / "10" / name, 10)
            row("xlsx: fixed cost (10-row month)", f"{small:.1f} s", GOALS["fixed"])
            row(f"xlsx: {sizes['xlsx']:,} rows, full `reportpipe run`", f"{seconds:.1f} s, peak RSS {rss:.2f} GiB "
                f"(own cost {seconds - small:.1f} s)", GOALS["xlsx"])

        if "demo" not in skip:
            print("\nmake demo after set-up (fresh inbox, warehouse and Airflow home)", flush=True)
            demo = work / "demo"
            env = {**os.environ, "REPORTPIPE_INBOX": str(demo / "inbox"), "REPORTPIPE_WAREHOUSE": str(demo / "warehouse")}
            home = f"AIRFLOW_HOME={demo / 'airflow'}"
            subprocess.run(["make", "--no-print-directory", home, "airflow-config", f"{demo / 'airflow'}/airflow.db",
                            ".env"], cwd=ROOT, env=env, check=True, capture_output=True)
            seconds, rss, out = timed_process(["make", "--no-print-directory", home, "demo"], env)
            figures = len(re.findall(r"^\s*2023\s", out, re.MULTILINE))
            row(f"demo: make demo ({figures} figure lines printed)", f"{seconds:.1f} s, peak RSS {rss:.2f} GiB",
                GOALS["demo"])

        if "dags" not in skip:
            print("\nDAG files' parse time (benchmarks/parse_dags.py --runs 3)", flush=True)
            out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "parse_dags.py"), "--runs", "3"],
                                 cwd=ROOT, check=True, capture_output=True, text=True).stdout
            print(out)
            for line in out.splitlines()[1:]:
                name, dags, first, median, *_ = line.split()
                row(f"dags: parse {name} ({dags} DAGs)", f"first {first}, then {median}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| what | measured | goal |\n|---|---|---|")
    for what, measured, goal in table:
        print(f"| {what} | {measured} | {goal} |")


if __name__ == "__main__":
    main()
