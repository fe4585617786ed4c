"""Completeness of a year: which version holds each source-month, what was rejected, what is missing."""

from __future__ import annotations

import duckdb

from reportpipe.contracts import sources

LEGEND = "vN: version N loaded   vN!: loaded, a newer delivery was rejected   ✗vN: only rejected deliveries   ·: missing"


def cell(loaded_version: int | None, rejected_version: int | None) -> str:
    if loaded_version is None:
        return f"✗v{rejected_version}" if rejected_version else "·"
    return f"v{loaded_version}" + ("!" if rejected_version else "")


def month_grid(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, list[str]]:
    """Per source, twelve cells (January first)."""
    found = {
        (source_id, int(month[5:])): cell(loaded, rejected)
        for source_id, month, loaded, rejected in con.execute(
            "SELECT source_id, month, loaded_version, rejected_version FROM month_status WHERE year = ?", [year]
        ).fetchall()
    }
    return {s: [found.get((s, m), "·") for m in range(1, 13)] for s in sources()}


def render(grid: dict[str, list[str]], year: int) -> str:
    width = max(len(s) for s in grid)
    lines = [f"{year:<{width}}  " + " ".join(f"{m:>4}" for m in range(1, 13))]
    for source_id, cells in grid.items():
        lines.append(f"{source_id:<{width}}  " + " ".join(f"{c:>4}" for c in cells))
    return "\n".join([*lines, "", LEGEND])
