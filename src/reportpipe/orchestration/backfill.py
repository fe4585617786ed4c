"""Backfill every source over a range of months, through the scheduler.

    python -m reportpipe.orchestration.backfill 2023-01 2023-12     # make backfill FROM=2023-01 TO=2023-12

It unpauses the DAGs, then creates the backfills one ingest DAG at a time: for each it waits
until no backfill of that DAG is open (one an interrupted attempt left included) and creates
the backfill of the range; the scheduler runs them as its slots allow. Then it waits until
every backfill is finished and prints each DAG's runs by state. Months already run are run
again: a load of the same bytes changes nothing, so the demo's or an earlier backfill's runs
never stand in the way.
When the metadata database is busy (SQLite while the scheduler writes: "database is locked"),
it waits for what a failed attempt left open and tries again. Needs a running scheduler and
dag-processor (`make airflow`) on the same metadata database; `statistics` publishes once the
loads have settled. Exit status 1 when a month of a source failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

ATTEMPTS = 8
POLL_S = 5


def _locked(error: BaseException) -> bool:
    return "database is locked" in str(error) or "could not obtain lock" in str(error)


def open_backfills(dag_id: str) -> int:
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return session.scalar(select(func.count()).where(Backfill.dag_id == dag_id, Backfill.completed_at.is_(None)))


def runs_by_state(backfill_id: int) -> dict[str, int]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return dict(session.execute(select(DagRun.state, func.count()).where(DagRun.backfill_id == backfill_id)
                                    .group_by(DagRun.state)).all())


def wait_until(condition, what: str, progress) -> None:
    said = False
    while True:
        try:
            if condition():
                return
        except Exception as e:  # a busy database is only a reason to look again
            if not _locked(e):
                raise
        if not said:
            progress(f"  waiting: {what}")
            said = True
        time.sleep(POLL_S)


def create(dag_id: str, first: dt.datetime, last: dt.datetime, progress) -> int:
    """Create the backfill, trying again while the database is busy; its id."""
    from airflow.models.backfill import AlreadyRunningBackfill, ReprocessBehavior, _create_backfill

    for attempt in range(1, ATTEMPTS + 1):
        wait_until(lambda: open_backfills(dag_id) == 0, f"a backfill of {dag_id} still open", progress)
        try:
            backfill = _create_backfill(dag_id=dag_id, from_date=first, to_date=last, max_active_runs=4,
                                        reverse=False, dag_run_conf=None, triggering_user_name="reportpipe backfill",
                                        reprocess_behavior=ReprocessBehavior.COMPLETED)
            return backfill.id
        except AlreadyRunningBackfill:
            continue
        except Exception as e:
            if not _locked(e) or attempt == ATTEMPTS:
                raise
            progress(f"  the metadata database is busy ({str(e).splitlines()[0][:80]}): trying again")
            time.sleep(POLL_S * attempt)
    raise RuntimeError(f"could not create the backfill of {dag_id}")


def unpause(dag_ids: list[str], progress) -> None:
    """A paused DAG's backfill runs wait for it to be unpaused: the backfill is meant to run now."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    def done() -> bool:
        with create_session() as session:
            session.execute(update(DagModel).where(DagModel.dag_id.in_(dag_ids)).values(is_paused=False))
        return True

    wait_until(done, "the metadata database to unpause the DAGs", progress)


def backfill(first: dt.date, last: dt.date, progress=print) -> dict[str, dict[str, int]]:
    """Backfill every ingest DAG from the month `first` through `last`; each DAG's runs by state."""
    import pendulum

    from reportpipe.contracts import sources
    from reportpipe.settings import TIMEZONE

    start = pendulum.datetime(first.year, first.month, 1, tz=TIMEZONE)
    end = pendulum.datetime(last.year, last.month, 1, tz=TIMEZONE)  # the logical date of the last month's run
    dag_ids = [f"ingest_{s}" for s in sources()]
    unpause([*dag_ids, "statistics"], progress)
    began, created = time.monotonic(), {}
    for dag_id in dag_ids:
        created[dag_id] = create(dag_id, start, end, progress)
        progress(f"{dag_id}: backfill {created[dag_id]} of {first:%Y-%m} to {last:%Y-%m} created")
    wait_until(lambda: sum(map(open_backfills, dag_ids)) == 0, "the scheduler runs the months", progress)
    done = {dag_id: runs_by_state(backfill_id) for dag_id, backfill_id in created.items()}
    for dag_id, states in done.items():
        progress(f"{dag_id}: {', '.join(f'{n} {s}' for s, n in sorted(states.items()))}")
    progress(f"backfilled {first:%Y-%m} to {last:%Y-%m} in {time.monotonic() - began:.0f} s")
    return done


def main(argv: list[str] | None = None) -> int:
    from reportpipe.months import parse_month

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=parse_month, metavar="YYYY-MM")
    parser.add_argument("last", type=parse_month, metavar="YYYY-MM")
    args = parser.parse_args(argv)
    if args.last < args.first:
        parser.error(f"{args.last:%Y-%m} is before {args.first:%Y-%m}")
    done = backfill(args.first, args.last)
    failed = {d: s.get("failed", 0) for d, s in done.items() if s.get("failed")}
    for dag_id, n in failed.items():
        print(f"{dag_id}: {n} month(s) failed: see its runs in the UI, mend the files, and run the range again",
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
