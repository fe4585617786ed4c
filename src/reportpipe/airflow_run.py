"""Run the DAGs over a year, month by month, with Airflow itself (`dag.test`).

One process pays for importing Airflow once, then runs every `ingest_<source>`
DAG for the month followed by `statistics`, as the scheduler would after each
month. Used by `make demo` and the end-to-end test; needs AIRFLOW_HOME with a
migrated metadata database.

    python -m reportpipe.airflow_run 2023 [--last-month 12]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import pendulum

from reportpipe.settings import PROJECT_DIR, TIMEZONE


class DagRunFailed(RuntimeError):
    pass


def run_year(year: int, progress=print, last_month: int = 12) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_DIR / "dags"))
    if bag.import_errors:
        raise DagRunFailed(f"DAGs failed to import: {bag.import_errors}")
    ingest = [bag.dags[d] for d in sorted(bag.dag_ids) if d.startswith("ingest_")]
    statistics = bag.dags["statistics"]
    for month in range(1, last_month + 1):
        started = time.monotonic()
        # dag.test gives the run the data interval that ends at this instant: the month.
        run_after = pendulum.datetime(year, month, 1, tz=TIMEZONE).add(months=1)
        failed = []
        for dag in [*ingest, statistics]:
            run = dag.test(logical_date=run_after)
            if run.state != "success":
                failed.append(dag.dag_id)
        elapsed = time.monotonic() - started
        progress(f"{year}-{month:02d}: {len(ingest)} ingest DAGs + statistics, {elapsed:.1f} s"
                 + (f", FAILED: {', '.join(failed)}" if failed else ""))
        if failed:
            raise DagRunFailed(f"{year}-{month:02d}: DAG runs failed: {', '.join(failed)} (see the task logs above)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("year", type=int)
    parser.add_argument("--last-month", type=int, default=12, choices=range(1, 13), metavar="1-12",
                        help="stop after this month (default 12)")
    args = parser.parse_args(argv)
    # dag.test prints every task's log to the console: keep warnings, show one line per month.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    try:
        run_year(args.year, progress=lambda line: print(line, flush=True), last_month=args.last_month)
    except DagRunFailed as e:
        print(f"reportpipe: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
