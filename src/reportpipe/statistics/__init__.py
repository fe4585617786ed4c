"""The report tables and what stands behind them; the SQL that is not generated from the contracts is in sql/."""

from pathlib import Path


def sql_file(name: str) -> str:
    """The text of sql/<name>.sql: static SQL, readable and runnable on its own against the warehouse."""
    return (Path(__file__).with_name("sql") / f"{name}.sql").read_text(encoding="utf-8")
