"""A district's numbers (prints them; not a test): a demo year of N offices through `reportpipe run`, the
monthly refresh when one office's month arrives, and the DAG files parsed with N offices declared.

1. `reportpipe demo-inbox --offices` writes the demo year for N offices (each its own volume and
   communities); one `reportpipe run` process loads every office and publishes each office's and the
   district's report.duckdb, timed from start to exit under /usr/bin/time -v (peak RSS).
2. One office's June is delivered again (`_v9`, a row fewer): its ingest, its refresh and the district's
   publication, as the DAGs do them (`ingest_month`, `refresh_office`, `publish_all`), each timed, after
   the imports a deployment's task process starts with (`mp_forkserver_preload`, README: Executors).
3. benchmarks/parse_dags.py with the N offices declared.

    .venv/bin/python benchmarks/district.py [--offices 17] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data" / "district"
BIN = Path(sys.executable).parent


def offices_file(path: Path, n: int) -> Path:
    """The demo office, then n - 1 made-up ones with communities of their own."""
    demo = yaml.safe_load((ROOT / "transforms" / "offices.yaml").read_text(encoding="utf-8"))["offices"][0]
    others = [{"id": f"office_{i:02d}", "name": f"第{i}街道", "communities": [f"第{i}街道{c}社区" for c in "东西南北中"]}
              for i in range(1, n)]
    path.write_text(yaml.safe_dump({"district": {"id": "district", "name": "某区"}, "offices": [demo, *others]},
                                   allow_unicode=True), encoding="utf-8")
    return path


def timed(command: list[str], env: dict) -> tuple[float, float, str]:
    """Seconds, peak RSS in GiB, and the output of a command under /usr/bin/time -v."""
    started = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-v", *command], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode not in (0, 1):  # 1: a file rejected (none is, in the demo)
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 2**20
    return seconds, rss, done.stdout + done.stderr


def refresh_one_office(inbox: Path, warehouse: Path, office: str) -> dict[str, float]:
    """June of one office's work orders delivered again, a row fewer: each step as the DAGs run it, in a
    process that has imported what the deployments' task processes fork with (Great Expectations)."""
    import importlib

    from reportpipe.orchestration.airflow_config import project_settings
    from reportpipe.pipeline import ingest_month, publish_all, refresh_office

    for module in project_settings()["core"]["mp_forkserver_preload"].split(","):
        importlib.import_module(module)

    june = inbox / office / "work_orders" / "执法工单_202306.csv"
    with june.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    again = june.with_name("执法工单_202306_v9.csv")
    with again.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows[:-1])
    steps = {}
    started = time.monotonic()
    ingest_month("work_orders", dt.date(2023, 6, 1), [june, again], warehouse, office_id=office)
    steps["ingest_month"] = time.monotonic() - started
    started = time.monotonic()
    refresh_office(warehouse, office)
    steps["refresh_office"] = time.monotonic() - started
    started = time.monotonic()
    publish_all(warehouse)
    steps["publish_all (the district)"] = time.monotonic() - started
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=17)
    parser.add_argument("--quick", action="store_true", help="three offices")
    parser.add_argument("--keep", action="store_true", help="keep benchmarks/.data/district afterwards")
    args = parser.parse_args()
    if args.quick:
        args.offices = 3
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    offices = offices_file(DATA / "offices.yaml", args.offices)
    env = {**os.environ, "REPORTPIPE_OFFICES": str(offices), "REPORTPIPE_PII_KEY": os.environ.get(
        "REPORTPIPE_PII_KEY", "benchmark-key-0123456789")}
    os.environ.update({k: env[k] for k in ("REPORTPIPE_OFFICES", "REPORTPIPE_PII_KEY")})
    inbox, warehouse = DATA / "inbox", DATA / "warehouse"
    subprocess.run([BIN / "reportpipe", "demo-inbox", inbox, "--offices", offices], env=env, check=True,
                   capture_output=True)
    files = sum(1 for _ in inbox.rglob("*.*"))
    rows = sum(1 for p in inbox.rglob("*.csv") for _ in p.open(encoding="utf-8", errors="replace"))
    print(f"{args.offices} offices, a demo year each: {files} files ({rows:,} CSV lines)")
    seconds, rss, _ = timed([str(BIN / "reportpipe"), "run", "--inbox", str(inbox), "--warehouse", str(warehouse)], env)
    print(f"reportpipe run, every office and the district: {seconds:.1f} s, peak RSS {rss:.2f} GiB "
          f"({seconds / args.offices:.1f} s an office)")
    steps = refresh_one_office(inbox, warehouse, "office_01" if args.offices > 1 else "jiaodaokou")
    print("one office's month arrives: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
          + f"; in all {sum(steps.values()):.1f} s")
    parse = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "parse_dags.py")], env=env, capture_output=True,
                           text=True, check=True)
    print(f"DAG files parsed with {args.offices} offices declared:\n{parse.stdout.strip()}")
    if not args.keep:
        shutil.rmtree(DATA)
    return 0


if __name__ == "__main__":
    sys.exit(main())
