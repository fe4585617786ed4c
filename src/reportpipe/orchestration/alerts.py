"""Tell people when a task has failed for good (which DAG, which month, which file, why), and
when a publication shows a month that its history flagged (its figures provisional until accepted).

The channel is chosen by the environment: with REPORTPIPE_ALERT_EMAIL set (comma-separated
addresses) the alert is mailed through the Airflow SMTP connection
REPORTPIPE_ALERT_SMTP_CONN_ID (default `smtp_default`); without it the alert is one
ERROR log line, which log shipping or the task log shows.
Imported at DAG parse time: the standard library only.
"""

from __future__ import annotations

import html
import logging

from reportpipe import settings
from reportpipe.untrusted import printable

log = logging.getLogger("reportpipe.orchestration.alerts")


def _month(context) -> str:
    """The month the run was for: the operator's param, else the data interval (Beijing time)."""
    params = context.get("params") or {}
    if params.get("month"):
        return params["month"]
    interval = context.get("data_interval_start")
    if "month" not in params or interval is None:
        return "all loaded months"
    import pendulum

    from reportpipe.settings import TIMEZONE

    return pendulum.instance(interval).in_timezone(TIMEZONE).format("YYYY-MM")


def alert_text(context) -> tuple[str, str]:
    """Subject and body of the alert for a failed task instance."""
    ti = context["ti"]
    error = context.get("exception")
    # A rejection arrives as the RejectedExport that caused Airflow's no-retry failure.
    files = getattr(error, "files", None) or getattr(getattr(error, "__cause__", None), "files", None) or ["—"]
    reason = f"{type(error).__name__}: {error}" if error else "unknown (see the task log)"
    month = _month(context)
    subject = f"[reportpipe] {ti.dag_id} failed for {month}"
    body = "\n".join([
        f"DAG:    {ti.dag_id}",
        f"task:   {ti.task_id} (run {context.get('run_id')}, try {ti.try_number})",
        f"month:  {month}",
        f"file:   {', '.join(printable(str(f)) for f in files)}",
        f"reason: {reason}",
    ])
    return subject, body


def on_failure(context) -> None:
    """on_failure_callback of every reportpipe task."""
    _send(*alert_text(context))


def flagged(context, flags: list[tuple]) -> None:
    """Flags a publication shows for the first time, (source_id, month, version, reasons): alert,
    without failing the task (the months are loaded and published, their figures provisional)."""
    ti = context["ti"]
    months = [f"{source_id} {month:%Y-%m}" for source_id, month, _, _ in flags]
    subject = f"[reportpipe] out of line with its history: {', '.join(months)}"
    body = "\n".join([
        f"DAG:    {ti.dag_id}",
        f"task:   {ti.task_id} (run {context.get('run_id')}, try {ti.try_number})",
        *(f"flag:   v{version} {reasons}" for _, _, version, reasons in flags),
        "Each month is loaded; its figures are provisional until someone who checked it with the",
        "sending office accepts it:",
        *(f"        reportpipe accept {m} --note '…'" for m in months),
    ])
    try:
        _send(subject, body)
    except Exception:  # the flags are published and in `reportpipe status`: a mail problem fails nothing
        log.exception("could not mail the alert %s", subject)


def _send(subject: str, body: str) -> None:
    recipients = settings.alert_recipients()
    log.error("ALERT %s\n%s", subject, body)
    if recipients:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=settings.alert_smtp_conn_id()) as smtp:
            smtp.send_email_smtp(to=recipients, subject=subject, html_content=f"<pre>{html.escape(body)}</pre>")
