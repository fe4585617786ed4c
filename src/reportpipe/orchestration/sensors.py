"""Wait for an office's export of a source-month without holding a worker slot.

`ExportSensor` looks once; when the file is not there yet it defers to `ExportTrigger`,
which polls the inbox from Airflow's triggerer until the file arrives or the wait runs
out, and then fails with a message that says what is missing. Its result (XCom) is the
list of the month's file names, which `load_month` reads: the inbox is listed once.
A misnamed file that looks meant for the month (执法工单_2024-03.csv) fails the wait at
once, naming it, instead of a long wait that ends in "no file".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import BaseSensorOperator

POKE_INTERVAL = timedelta(minutes=10)


def _failure(message: str, files: list[str]):
    from airflow.sdk.exceptions import AirflowFailException

    error = AirflowFailException(message)
    error.files = files  # for the alert
    return error


class ExportSensor(BaseSensorOperator):
    """Succeeds with the names of the month's export files once the office's inbox has one."""

    # Templated: in the ingest DAG's task group mapped over the offices, the office is resolved at run time.
    template_fields = ("office_id",)

    def __init__(self, *, source_id: str, office_id: str, **kwargs):
        from reportpipe.settings import export_wait_hours

        kwargs.setdefault("timeout", timedelta(hours=export_wait_hours()))
        # Never poll less often than the wait allows: a short wait (tests) still ends on time.
        kwargs.setdefault("poke_interval", min(POKE_INTERVAL, kwargs["timeout"] / 4))
        super().__init__(**kwargs)
        self.source_id, self.office_id = source_id, office_id

    def _whose(self) -> str:
        from reportpipe.offices import deployment

        return "" if deployment().single else f"{self.office_id}'s "

    def _month(self, context):
        from reportpipe.orchestration.defaults import run_month

        return run_month(context.get("data_interval_start"), context["params"].get("month"))

    def _found(self, month) -> list[str]:
        from reportpipe.contracts import sources
        from reportpipe.intake.inbox import month_files, office_root
        from reportpipe.offices import deployment
        from reportpipe.orchestration.defaults import inbox_root
        from reportpipe.untrusted import printable

        root = office_root(inbox_root(), self.office_id, deployment())
        found, misnamed = month_files(root, sources(self.office_id)[self.source_id], month)
        for stray in misnamed:
            self.log.warning("%s", stray)
        if misnamed and not found:
            names = ", ".join(printable(s.path.name) for s in misnamed)
            raise _failure(f"{self._whose()}inbox has no {self.source_id} file for {month:%Y-%m}, but misnamed: {names} "
                           f"({misnamed[0].reason}): rename it", [s.path.name for s in misnamed])
        return [p.name for p in found]

    def poke(self, context) -> list[str]:
        return self._found(self._month(context))

    def execute(self, context) -> list[str]:
        named = context["params"].get("office")
        if named and named != self.office_id:  # a run of one office's part: the others' are skipped
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"this run is {named}'s part of the month alone")
        month = self._month(context)
        if found := self._found(month):
            return found
        from reportpipe.orchestration.triggers import ExportTrigger
        from reportpipe.settings import inbox_conn_id, inbox_url

        deadline = datetime.now(timezone.utc) + timedelta(seconds=self.timeout)
        self.log.info("No %s export for %s yet: waiting until %s", self.source_id, f"{month:%Y-%m}", deadline)
        self.defer(
            trigger=ExportTrigger(
                inbox_url=inbox_url(), conn_id=inbox_conn_id(), source_id=self.source_id, office_id=self.office_id,
                month=f"{month:%Y-%m}", deadline=deadline.isoformat(), poke_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            # A safety net only: the trigger itself reports the timeout, with the clearer message.
            timeout=timedelta(seconds=self.timeout + 2 * self.poke_interval),
        )

    def execute_complete(self, context, event: dict) -> list[str]:
        if event.get("found"):
            return event["found"]
        from reportpipe.contracts import sources
        from reportpipe.offices import deployment
        from reportpipe.settings import inbox_url

        source, month = sources()[self.source_id], self._month(context)
        if event.get("misnamed"):
            raise _failure(f"{self._whose()}inbox has no {source.title} file for {month:%Y-%m}, but misnamed: "
                           f"{', '.join(event['misnamed'])}: rename it", event["misnamed"])
        office = "" if deployment().single else f"{self.office_id}/"
        expected = f"{office}{self.source_id}/{source.file_prefix}_{month:%Y%m}[_vN].csv|xlsx"
        hours = self.timeout / 3600
        raise _failure(f"{self._whose()}inbox has no {source.title} file for {month:%Y-%m} after {hours:g} hours "
                       f"({inbox_url()}/{expected})", [expected])
