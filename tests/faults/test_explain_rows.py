"""`explain --rows` writes a CSV for Excel: a delivered cell must not become a formula there."""

from __future__ import annotations

import csv

from tests.faults.conftest import FORMULAS, require_run
from tests.helpers import cli


def test_formula_cells_behind_a_figure_are_written_as_text(runs, tmp_path):
    """January's 问题地址 holds formulas on handled 政通 orders: the rows behind orders_zhengtong."""
    out = tmp_path / "rows.csv"
    run = cli("explain", "orders_zhengtong", "--year", 2023, "--warehouse", runs.clean, "--rows", out)
    require_run(run)
    assert run.code == 0, run.err
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    addresses = {r["address"] for r in rows}
    # As OWASP recommends for CSV injection: a leading single quote, the text otherwise kept.
    assert {"'" + f for f in FORMULAS} <= addresses, sorted(a for a in addresses if a[:1] in "'=+-@")
    evaluated = [v for r in rows for v in r.values() if v[:1] in ("=", "+", "@", "\t", "\r")]
    assert not evaluated, evaluated
