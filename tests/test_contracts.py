"""The declarations in transforms/ agree with the reference and with each other."""

from __future__ import annotations

import csv
import hashlib
import shutil

import duckdb
import pytest
import yaml

from reportpipe.contracts import ContractError, figures, sources
from reportpipe.demo.inbox import write_inbox
from reportpipe.offices import deployment
from reportpipe.settings import WAREHOUSE_SCHEMA
from reportpipe.statistics.figures import build_report_tables
from tests.project import REFERENCE_FIGURES, ROOT, reportpipe


def test_every_reference_figure_is_declared_once_with_its_definition():
    with REFERENCE_FIGURES.open(encoding="utf-8") as f:
        reference = {r["figure_id"]: r for r in csv.DictReader(f)}
    declared = figures()
    assert sorted(f.figure_id for f in declared) == sorted(reference)
    office = deployment().office()  # the report's: its labels are the ones it publishes
    for f in declared:
        ref = reference[f.figure_id]
        label = deployment().label(office.id, f.figure_id, f.label)
        assert (f.source_id, f.section, label, f.unit, f.definition) == (
            ref["source"], ref["section"], ref["label"], ref["unit"], ref["definition"]), f.figure_id


def test_every_figure_compiles_against_its_tables():
    """Each figure's SQL runs on empty tables (catches a column named wrongly in figures.yaml)."""
    from reportpipe.warehouse.session import ensure_source_tables

    con = duckdb.connect()
    con.execute(WAREHOUSE_SCHEMA.read_text(encoding="utf-8"))
    for source in sources().values():
        ensure_source_tables(con, source, "jiaodaokou")
    build_report_tables(con, "jiaodaokou")
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


# ---- a broken contract is one clear error naming the file and the field -------------------------

SOURCE, FIGURES, OTHER_FIGURES = "litigation/source.yaml", "litigation/figures.yaml", "disputes/figures.yaml"


def _edit(name: str, change):
    """An edit of transforms/<name>: change(the YAML's content) in place."""
    def edit(transforms):
        path = transforms / name
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(content)
        path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return edit


def _column(i: int, **fields):
    return _edit(SOURCE, lambda contract: contract["columns"][i].update(fields))


def _contract(**fields):
    return _edit(SOURCE, lambda contract: contract.update(fields))


def _duplicate_figure(transforms):
    """litigation declares disputes_received too, which disputes declares."""
    theirs = yaml.safe_load((transforms / OTHER_FIGURES).read_text(encoding="utf-8"))
    _edit(FIGURES, lambda ours: ours.append(theirs[0]))(transforms)


# case: (edit of the transforms folder, the files the error names, the field it names)
BROKEN = {
    "quote in column": (_column(3, column='cause"'), [SOURCE], "column"),
    "space in column": (_column(3, column="the cause"), [SOURCE], "column"),
    "unknown type": (_column(3, type="string"), [SOURCE], "type"),
    "no key": (_column(0, key=False), [SOURCE], "key"),
    "two keys": (_column(3, key=True), [SOURCE], "key"),
    "reference date not a date": (_contract(reference_date="case_type"), [SOURCE], "reference_date"),
    "unknown value set": (_column(2, values="case_kinds"), [SOURCE], "values"),
    "values on a yes/no column": (_column(5, values=["是"]), [SOURCE], "values"),
    "misspelled field": (_column(4, requried=True), [SOURCE], "requried"),
    "volume by no column": (_contract(history={"volume": {"by": ["court"]}}), [SOURCE], "by"),
    "source_id not the folder": (_contract(source_id="lawsuits"), [SOURCE], "source_id"),
    "figure without count, sum or rate": (_edit(FIGURES, lambda figures: figures[0].pop("count")), [FIGURES], "count"),
    "figure_id declared twice": (_duplicate_figure, [FIGURES, OTHER_FIGURES], "figure_id"),
}


def broken_project(folder, case: str):
    """A project whose transforms/ is the real one with one mistake; the files its error must name."""
    edit, files, _ = BROKEN[case]
    shutil.copytree(ROOT / "transforms", folder / "transforms")
    edit(folder / "transforms")
    return [folder / "transforms" / f for f in files]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_contract_is_one_error_naming_its_file_and_field(case, tmp_path):
    files = broken_project(tmp_path, case)
    with pytest.raises(ContractError) as raised:
        sources(transforms_dir=tmp_path / "transforms")
    message = str(raised.value)
    assert len(message.splitlines()) == 1, message
    assert all(str(f) in message for f in files), message
    assert BROKEN[case][2] in message.replace(str(tmp_path), ""), message


# A field's own error, a rule of the whole contract, and figures.yaml: `reportpipe run` says the same.
@pytest.mark.parametrize("case", ["unknown type", "two keys", "figure without count, sum or rate"])
def test_reportpipe_run_stops_with_that_message_and_no_traceback(case, tmp_path):
    broken_project(tmp_path, case)
    with pytest.raises(ContractError) as raised:
        sources(transforms_dir=tmp_path / "transforms")
    done = reportpipe(tmp_path, "run", "--inbox", str(tmp_path / "inbox"), "--warehouse", str(tmp_path / "state"))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"reportpipe: {raised.value}\n")


def test_personal_data_is_one_attribute_whatever_the_yaml_says():
    from reportpipe.contracts import Column

    always, ordinary = Column(name="电话", column="phone", type="text", pii=True), Column(name="x", column="x", type="text")
    conditional = Column(name="名称", column="name", type="text", pii="kind = '个人'")
    assert (always.pii, ordinary.pii, conditional.pii) == ("true", None, "kind = '个人'")
    assert Column(name="x", column="x", type="text", pii=False).pii is None


def test_personal_columns_in_clear_are_found_as_the_contract_declares_them():
    import duckdb

    from reportpipe.contracts import sources
    from reportpipe.statistics.explain import clear_personal_columns

    penalty_cases, petitions = sources()["penalty_cases"], sources()["petitions"]
    con = duckdb.connect()
    # An always-personal column is in clear wherever it is selected, even where this year's cells are empty.
    assert clear_personal_columns(con, petitions, "SELECT NULL AS phone, 'x' AS form") == ["phone"]
    # A conditional one only where its condition holds; an ordinary column never.
    units = "SELECT '单位' AS party_type, '某公司' AS party_name, '罚款' AS outcome"
    assert clear_personal_columns(con, penalty_cases, units) == []
    persons = units.replace("'单位'", "'个人'")
    assert clear_personal_columns(con, penalty_cases, persons) == ["party_name"]
