"""Every setting in one place: environment variables with local defaults.

REPORTPIPE_PROJECT_DIR the folder holding transforms/, expectations/, warehouse/schema.sql
                       (default: this source tree's root; set it when reportpipe is installed)
REPORTPIPE_INBOX       where the monthly exports arrive   (default: ./inbox): a folder, or for
                       the Airflow DAGs also a URL (sftp://host/path, s3://bucket/prefix)
REPORTPIPE_INBOX_CONN_ID the Airflow connection holding the credentials of a URL inbox
REPORTPIPE_WAREHOUSE   run-time state: work.duckdb, report.duckdb, reports, Data Docs (default: ./warehouse)
REPORTPIPE_PII_KEY     secret key of the personal-data hash; required to load
REPORTPIPE_EXPORT_WAIT_HOURS how long an ingest run waits for its month's export (default 72)
REPORTPIPE_MAX_FILE_MB        a delivered file larger than this is refused unread (default 4096)
REPORTPIPE_XLSX_MAX_PART_MB   an XLSX part inflating to more than this is refused unread (default 512)
REPORTPIPE_XLSX_MIN_RATIO     an XLSX part compressed below this ratio is refused unread (default 0.01,
                              Apache POI's ZipSecureFile default: a zip bomb inflates far more)
REPORTPIPE_MEMORY_LIMIT       DuckDB's memory limit while loading; beyond it DuckDB spills to disk (default 512MB)
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("REPORTPIPE_PROJECT_DIR", Path(__file__).resolve().parents[2]))
TRANSFORMS_DIR = PROJECT_DIR / "transforms"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
WAREHOUSE_SCHEMA = PROJECT_DIR / "warehouse" / "schema.sql"
TIMEZONE = "Asia/Shanghai"
# Excel's own limit on a cell; a longer cell is no export of a ledger but a broken or hostile file.
MAX_CELL_CHARS = 32_767


class SettingsError(RuntimeError):
    """A required setting is missing or unusable."""


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be positive")
    return value


def _inbox() -> str:
    return os.environ.get("REPORTPIPE_INBOX") or str(PROJECT_DIR / "inbox")


def inbox_url() -> str:
    """The inbox as a URL for Airflow's ObjectStoragePath; a folder becomes file://."""
    inbox = _inbox()
    return inbox if "://" in inbox else f"file://{Path(inbox).resolve()}"


def inbox_conn_id() -> str | None:
    return os.environ.get("REPORTPIPE_INBOX_CONN_ID") or None


def inbox_dir() -> Path:
    """The inbox as a local folder (the CLI's)."""
    inbox = _inbox()
    if "://" in inbox and not inbox.startswith("file://"):
        raise SettingsError(f"REPORTPIPE_INBOX={inbox} is a URL: the CLI reads a local folder (--inbox DIR)")
    return Path(inbox.removeprefix("file://"))


def warehouse_dir() -> Path:
    return Path(os.environ.get("REPORTPIPE_WAREHOUSE") or PROJECT_DIR / "warehouse")


def offices_file() -> Path:
    """The offices this deployment serves (reportpipe.offices)."""
    return Path(os.environ.get("REPORTPIPE_OFFICES") or TRANSFORMS_DIR / "offices.yaml")


def export_wait_hours() -> float:
    return _number("REPORTPIPE_EXPORT_WAIT_HOURS", 72)


def max_file_bytes() -> int:
    return int(_number("REPORTPIPE_MAX_FILE_MB", 4096) * 2**20)


def xlsx_max_part_bytes() -> int:
    return int(_number("REPORTPIPE_XLSX_MAX_PART_MB", 512) * 2**20)


def xlsx_min_ratio() -> float:
    return _number("REPORTPIPE_XLSX_MIN_RATIO", 0.01)


def memory_limit() -> str:
    return os.environ.get("REPORTPIPE_MEMORY_LIMIT") or "512MB"


def alert_recipients() -> list[str]:
    """Who gets failure alerts by mail (REPORTPIPE_ALERT_EMAIL, comma-separated); none: alerts are log lines."""
    return [a.strip() for a in os.environ.get("REPORTPIPE_ALERT_EMAIL", "").split(",") if a.strip()]


def alert_smtp_conn_id() -> str:
    """The Airflow SMTP connection that sends them."""
    return os.environ.get("REPORTPIPE_ALERT_SMTP_CONN_ID", "smtp_default")


def pii_key() -> bytes:
    """The key of the keyed hash of personal data; never stored in the repository."""
    key = os.environ.get("REPORTPIPE_PII_KEY", "")
    if len(key) < 16:
        raise SettingsError(
            "REPORTPIPE_PII_KEY must be set to a secret of at least 16 characters "
            "(make writes a random one to .env; in Airflow set it on the workers)"
        )
    return key.encode("utf-8")
