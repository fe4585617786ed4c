"""Tell people when a task has failed for good: which DAG, which month, which file, why.

The channel is chosen by the environment: with REPORTPIPE_ALERT_EMAIL set (comma-separated
addresses) the alert is mailed through the Airflow SMTP connection
REPORTPIPE_ALERT_SMTP_CONN_ID (default `smtp_default`); without it the alert is one
ERROR log line, which log shipping or the task log shows.
Imported at DAG parse time: the standard library only.
"""

from __future__ import annotations

import html
import logging
import os

log = logging.getLogger("reportpipe.alerts")


def alert_text(context) -> tuple[str, str]:
    """Subject and body of the alert for a failed task instance."""
    from reportpipe.orchestration import month_of

    ti = context["ti"]
    params = context.get("params") or {}
    interval = context.get("data_interval_start")
    month = "all loaded months"
    if "month" in params and (interval or params["month"]):
        month = month_of(interval, params["month"])
    error = context.get("exception")
    files = getattr(error, "files", None) or ["—"]
    reason = f"{type(error).__name__}: {error}" if error else "unknown (see the task log)"
    subject = f"[reportpipe] {ti.dag_id} failed for {month}"
    body = "\n".join([
        f"DAG:    {ti.dag_id}",
        f"task:   {ti.task_id} (run {context.get('run_id')}, try {ti.try_number})",
        f"month:  {month}",
        f"file:   {', '.join(map(str, files))}",
        f"reason: {reason}",
    ])
    return subject, body


def on_failure(context) -> None:
    """on_failure_callback of every reportpipe task."""
    subject, body = alert_text(context)
    recipients = [a.strip() for a in os.environ.get("REPORTPIPE_ALERT_EMAIL", "").split(",") if a.strip()]
    log.error("ALERT %s\n%s", subject, body)
    if recipients:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        conn_id = os.environ.get("REPORTPIPE_ALERT_SMTP_CONN_ID", "smtp_default")
        with SmtpHook(smtp_conn_id=conn_id) as smtp:
            smtp.send_email_smtp(to=recipients, subject=subject, html_content=f"<pre>{html.escape(body)}</pre>")
