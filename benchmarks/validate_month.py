"""How long one city-scale month of work_orders takes to read, validate and load.

Writes a valid 执法工单_202303.csv of N rows (default 2,000,000: SPEC's city scale),
then prints DuckDB's own read time of the file next to each step of reportpipe.
A script that prints numbers, not a test:

    .venv/bin/python benchmarks/validate_month.py [--rows N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb

COLUMNS = "工单编号 来源渠道 受理时间 问题类型 所属社区 问题地址 诉求人电话 首次响应时间 办结时间 办理状态".split()


def write_month(path: Path, rows: int) -> None:
    """A valid month: every rule of the work_orders suite holds."""
    duckdb.sql(f"""
        COPY (
            SELECT
                'WO-2023-' || lpad(i::VARCHAR, 9, '0') AS "工单编号",
                ['政通', '网格', '环保扬尘'][1 + i % 3] AS "来源渠道",
                strftime(TIMESTAMP '2023-03-01' + to_seconds(i % 2678000), '%Y-%m-%d %H:%M:%S') AS "受理时间",
                ['占道经营', '垃圾分类', '其他'][1 + i % 3] AS "问题类型",
                ['府学社区', '交东社区', '菊儿社区'][1 + i % 3] AS "所属社区",
                '南锣鼓巷' || (i % 200)::VARCHAR || '号' AS "问题地址",
                CASE WHEN i % 4 = 0 THEN '' ELSE '138' || lpad((i % 100000000)::VARCHAR, 8, '0') END AS "诉求人电话",
                strftime(TIMESTAMP '2023-03-01' + to_seconds(i % 2678000 + 600), '%Y-%m-%d %H:%M:%S') AS "首次响应时间",
                CASE WHEN i % 5 = 0 THEN '' ELSE strftime(TIMESTAMP '2023-03-01' + to_seconds(i % 2678000 + 7200), '%Y-%m-%d %H:%M') END AS "办结时间",
                CASE WHEN i % 5 = 0 THEN '办理中' ELSE '已办结' END AS "办理状态"
            FROM range({rows}) t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
    """)


def timed(label: str, results: list, fn):
    started = time.perf_counter()
    value = fn()
    results.append((label, time.perf_counter() - started))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "reportpipe-bench")
    args = parser.parse_args()
    os.environ.setdefault("REPORTPIPE_PII_KEY", "benchmark-key-not-secret")
    folder = args.dir / "inbox" / "work_orders"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "执法工单_202303.csv"
    if not path.exists() or duckdb.sql(f"SELECT count(*) FROM read_csv('{path}')").fetchall()[0][0] != args.rows:
        write_month(path, args.rows)

    from reportpipe import staging, validation
    from reportpipe.contracts import sources
    from reportpipe.inbox import parse_name

    source = sources()["work_orders"]
    export = parse_name(path, source)
    results: list[tuple[str, float]] = []
    timed("DuckDB's own read (read_csv, all text)", results,
          lambda: duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', all_varchar=true)").fetchall())
    timed("import great_expectations + load suite", results, lambda: validation.suite("work_orders"))
    con = duckdb.connect()
    header, rows = timed("reportpipe: read into DuckDB (stage)", results, lambda: staging.stage(con, export))
    frame = timed("reportpipe: typed frame for GX", results,
                  lambda: validation.validation_frame(con, source, export, header, None))
    batch = validation.context().data_sources.pandas_default.read_dataframe(frame)
    result = timed("reportpipe: GX validation (pandas engine)", results,
                   lambda: batch.validate(validation.suite("work_orders"), result_format=validation.RESULT_FORMAT,
                                          expectation_parameters=validation.month_bounds(export.month)))
    con.execute(f"CREATE TABLE stg AS {staging.typed_sql(source, b'x' * 32, export.month, 1)} LIMIT 0")
    timed("reportpipe: typed + hashed insert (load)", results,
          lambda: con.execute(f"INSERT INTO stg {staging.typed_sql(source, b'x' * 32, export.month, 1)}"))

    size = path.stat().st_size / 2**20
    print(f"{rows:,} rows, {size:.0f} MiB, {len(result.results)} expectations, success={result.success}")
    for label, seconds in results:
        print(f"{seconds:8.2f} s  {label}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
