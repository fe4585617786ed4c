"""The declarations in transforms/ agree with the reference and with each other."""

from __future__ import annotations

import csv
import hashlib

import duckdb
import pytest

from reportpipe.contracts import figures, sources
from reportpipe.demo import write_inbox
from reportpipe.figures import build_report_tables
from reportpipe.settings import WAREHOUSE_SCHEMA
from tests.test_end_to_end import REFERENCE


def test_every_reference_figure_is_declared_once_with_its_definition():
    with REFERENCE.open(encoding="utf-8") as f:
        reference = {r["figure_id"]: r for r in csv.DictReader(f)}
    declared = figures()
    assert sorted(f.figure_id for f in declared) == sorted(reference)
    for f in declared:
        ref = reference[f.figure_id]
        assert (f.source_id, f.section, f.label, f.unit, f.definition) == (
            ref["source"], ref["section"], ref["label"], ref["unit"], ref["definition"]), f.figure_id


def test_every_figure_compiles_against_its_tables():
    """Each figure's SQL runs on empty tables (catches a column named wrongly in figures.yaml)."""
    from reportpipe.warehouse import ensure_source_tables

    con = duckdb.connect()
    con.execute(WAREHOUSE_SCHEMA.read_text(encoding="utf-8"))
    for source in sources().values():
        ensure_source_tables(con, source)
    build_report_tables(con)
    assert con.execute("SELECT count(*) FROM report_figures").fetchone()[0] == 0


@pytest.mark.parametrize("source_id", sorted(sources()))
def test_contract_columns_are_unique_snake_case(source_id):
    source = sources()[source_id]
    names = [c.column for c in source.columns]
    assert len(set(names)) == len(names)
    assert all(n.isascii() and n == n.lower() and " " not in n for n in names)
    assert len({c.name for c in source.columns}) == len(names)


def test_demo_inbox_is_byte_for_byte_reproducible(tmp_path):
    def digests(folder):
        return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}

    write_inbox(tmp_path / "a")
    write_inbox(tmp_path / "b")
    first = digests(tmp_path / "a")
    assert len(first) == 12 * 12 + 1  # every source-month, plus the one _v2
    assert first == digests(tmp_path / "b")
