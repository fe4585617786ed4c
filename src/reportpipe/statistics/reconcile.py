"""Checks on the computed figures before they are published; a failure blocks the publication."""

from __future__ import annotations

import duckdb
import yaml

from reportpipe.contracts import figures
from reportpipe.settings import TRANSFORMS_DIR
from reportpipe.statistics import sql_file


class ReconciliationError(RuntimeError):
    """The figures contradict each other; report.duckdb was left as it was."""


def checks() -> list[tuple[str, str]]:
    """(name, SQL over the per-year pivot of report_figures that is true when the check holds)."""
    declared = yaml.safe_load((TRANSFORMS_DIR / "reconciliation.yaml").read_text(encoding="utf-8"))
    return [(c["name"], c["check"]) for c in declared]


def failures(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every broken check, one line each; empty when the figures may be published."""
    con.execute("SET VARIABLE additive_figures = ?", [[f.figure_id for f in figures() if f.kind != "rate"]])
    broken = [
        f"{figure_id} {year}: {value:g} {problem}" + (f" {parts:g}" if parts is not None else "")
        for figure_id, year, value, problem, parts in con.execute(sql_file("reconciliation")).fetchall()
    ]
    if not con.execute("SELECT count(*) FROM report_figures").fetchall()[0][0]:
        return broken  # no year has data yet
    pivot = "PIVOT (SELECT year, figure_id, value FROM report_figures) ON figure_id USING first(value) GROUP BY year"
    for name, check in checks():
        years = con.execute(f"SELECT year FROM ({pivot}) WHERE NOT coalesce({check}, true) ORDER BY year").fetchall()
        broken += [f"{year}: {name} ({check})" for (year,) in years]
    return broken


def reconcile(con: duckdb.DuckDBPyConnection) -> None:
    """Raise ReconciliationError when any check fails."""
    broken = failures(con)
    if broken:
        raise ReconciliationError("figures not published, reconciliation failed:\n" + "\n".join(f"  {b}" for b in broken))
