"""Every setting in one place: environment variables with local defaults.

REPORTPIPE_PROJECT_DIR the folder holding transforms/, expectations/, warehouse/schema.sql
                       (default: this source tree's root; set it when reportpipe is installed)
REPORTPIPE_INBOX       where the monthly exports arrive   (default: ./inbox)
REPORTPIPE_WAREHOUSE   working and published DuckDB files (default: ./warehouse)
REPORTPIPE_PII_KEY     secret key of the personal-data hash; required to load
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("REPORTPIPE_PROJECT_DIR", Path(__file__).resolve().parents[2]))
TRANSFORMS_DIR = PROJECT_DIR / "transforms"
WAREHOUSE_SCHEMA = PROJECT_DIR / "warehouse" / "schema.sql"
TIMEZONE = "Asia/Shanghai"


class SettingsError(RuntimeError):
    """A required setting is missing or unusable."""


def inbox_dir() -> Path:
    return Path(os.environ.get("REPORTPIPE_INBOX", PROJECT_DIR / "inbox"))


def warehouse_dir() -> Path:
    return Path(os.environ.get("REPORTPIPE_WAREHOUSE", PROJECT_DIR / "warehouse"))


def pii_key() -> bytes:
    """The key of the keyed hash of personal data; never stored in the repository."""
    key = os.environ.get("REPORTPIPE_PII_KEY", "")
    if len(key) < 16:
        raise SettingsError(
            "REPORTPIPE_PII_KEY must be set to a secret of at least 16 characters "
            "(make writes a random one to .env; in Airflow set it on the workers)"
        )
    return key.encode("utf-8")
