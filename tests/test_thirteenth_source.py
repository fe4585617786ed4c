"""Adding a thirteenth source is adding a folder under transforms/ and nothing else, demo data included.

In a temporary copy of the project, a new source (a legal consultation desk's ledger, with a
column of every type) gets its source.yaml and figures.yaml and nothing more: no suite, no
generator, no code. Then, as an operator would: `reportpipe demo-inbox`, `reportpipe run`,
`reportpipe figures`.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import textwrap

import pytest

from reportpipe.contracts import Source
from reportpipe.demo.inbox import from_contract
from tests.helpers import open_report
from tests.project import copy_project, environment, reportpipe

NEW = "legal_consultations"
SOURCE_YAML = """\
source_id: legal_consultations
title: 法律咨询台账
description: Consultations at the subdistrict's public legal service desk
file_prefix: 法律咨询
reference_date: consulted_date
columns:
  - {name: 咨询编号, column: consultation_id, type: text, key: true, description: "consultation number (unique)"}
  - {name: 咨询日期, column: consulted_date, type: date, required: true, description: "date of the consultation"}
  - {name: 咨询方式, column: channel, type: text, required: true, values: [来访, 来电, 网络], description: "how it came: 来访 visit, 来电 call, 网络 online"}
  - {name: 所属社区, column: community, type: text, values: communities, description: "community (社区) of the client; NULL for clients from outside"}
  - {name: 咨询人, column: client_name, type: text, pii: true, description: "the client's name"}
  - {name: 咨询时长（分钟）, column: minutes, type: integer, required: true, description: "length of the consultation", unit: "分钟 (minutes)"}
  - {name: 是否转法律援助, column: is_referred, type: yesno, required: true, description: "whether the client was referred to legal aid"}
  - {name: 登记时间, column: logged_at, type: datetime, description: "when the desk logged it (Asia/Shanghai local time)"}
  - {name: 援助补贴（元）, column: subsidy_yuan, type: number, description: "legal aid subsidy granted", unit: "元 (yuan)"}
"""
FIGURES_YAML = """\
- figure_id: legal_consultation_visits
  section: 一（七）
  label: 现场法律咨询
  unit: 件
  definition: rows with 咨询方式=来访
  caliber: 法律咨询台账中咨询方式为“来访”的咨询件数
  count: channel = '来访'
- figure_id: legal_aid_referral_minutes
  section: 一（七）
  label: 转法律援助咨询时长
  unit: 分钟
  definition: sum of 咨询时长（分钟） over rows with 是否转法律援助=是
  caliber: 法律咨询台账中转法律援助的咨询时长之和
  sum: minutes
  where: is_referred
"""
BLANKS = " \t\r\n\u3000\u00a0\ufeff"  # SPEC: cells may come padded, also full-width

DAG_IDS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": {k: str(v) for k, v in bag.import_errors.items()}}))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The project with the new folder, its demo year written and run: (project, files, warehouse, figures output)."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    folder = project / "transforms" / NEW
    folder.mkdir()
    (folder / "source.yaml").write_text(SOURCE_YAML, encoding="utf-8")
    (folder / "figures.yaml").write_text(FIGURES_YAML, encoding="utf-8")

    demo = project / "demo"
    written = reportpipe(project, "demo-inbox", str(demo), "--year", "2023")
    assert written.returncode == 0, written.stderr
    # Run the new source's year alone: the other twelve are checked by the end-to-end test.
    inbox = project / "inbox"
    inbox.mkdir()
    (demo / NEW).rename(inbox / NEW)
    warehouse = project / "state"
    ran = reportpipe(project, "run", "--inbox", str(inbox), "--warehouse", str(warehouse))
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    shown = reportpipe(project, "figures", "--year", "2023", "--warehouse", str(warehouse))
    assert shown.returncode == 0, shown.stderr
    return project, sorted((inbox / NEW).iterdir()), warehouse, shown.stdout


def delivered_rows(files) -> list[dict[str, str]]:
    rows = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as f:
            rows += [{k: (v or "").strip(BLANKS) for k, v in row.items()} for row in csv.DictReader(f)]
    return rows


def test_demo_inbox_writes_the_new_source_a_year_of_exports(project):
    _, files, _, _ = project
    assert [p.name for p in files] == [f"法律咨询_2023{m:02d}.csv" for m in range(1, 13)]
    rows = delivered_rows(files)
    assert len({r["咨询编号"] for r in rows}) == len(rows) > 12
    # Every value the contract lists shows up, and the optional cells are sometimes empty.
    assert {r["咨询方式"] for r in rows} == {"来访", "来电", "网络"}
    assert {r["是否转法律援助"] for r in rows} == {"是", "否"}
    assert any(r["所属社区"] == "" for r in rows) and any(r["所属社区"] for r in rows)


def test_its_figures_are_what_the_delivered_files_say(project):
    _, files, _, printed = project
    rows = delivered_rows(files)
    visits = sum(r["咨询方式"] == "来访" for r in rows)
    minutes = sum(int(r["咨询时长（分钟）"]) for r in rows if r["是否转法律援助"] == "是")
    # year, figure_id, value, unit, label: one line per figure
    values = {parts[1]: parts[2] for parts in map(str.split, printed.splitlines()) if parts[0] == "2023"}
    assert float(values["legal_consultation_visits"]) == visits > 0
    assert float(values["legal_aid_referral_minutes"]) == minutes > 0
    assert "orders_zhengtong" in values  # the other sources' figures are still there (0, nothing loaded)


def test_its_tables_are_loaded_and_documented(project):
    _, files, warehouse, _ = project
    with open_report(warehouse) as con:
        assert con.execute(f"SELECT count(*) FROM stg_{NEW}").fetchone()[0] == len(delivered_rows(files))
        assert con.execute(f"SELECT count(DISTINCT month) FROM stg_{NEW}").fetchone()[0] == 12
        comments = dict(con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [f"stg_{NEW}"]).fetchall())
        table_comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [f"stg_{NEW}"]).fetchone()
        clear = con.execute(f"SELECT count(*) FROM duckdb_columns() WHERE table_name = 'stg_{NEW}'"
                            " AND column_name = 'client_name'").fetchone()[0]
    assert table_comment[0].startswith("法律咨询台账 | Consultations at the subdistrict's public legal service desk")
    assert comments["channel"] == "咨询方式 | how it came: 来访 visit, 来电 call, 网络 online"
    assert comments["minutes"] == "咨询时长（分钟） | length of the consultation | unit: 分钟 (minutes)"
    assert comments["client_name_hash"].startswith("咨询人 | keyed hash")
    assert comments["month"] and comments["file_id"]  # lineage, from warehouse/dictionary.yaml
    assert clear == 0  # the client's name only hashed


def test_the_dag_folder_has_its_ingest_dag(project):
    project_dir = project[0]
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(DAG_IDS), str(project_dir / "dags")],
                          env=environment(project_dir), cwd=project_dir, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert f"ingest_{NEW}" in parsed["dags"] and "ingest_work_orders" in parsed["dags"]


def test_a_contract_with_an_integer_key_gets_unique_numbers():
    source = Source(source_id="counts", title="计数", description="a ledger numbered by integers", file_prefix="计数",
                    reference_date="counted_at", columns=[
                        {"name": "序号", "column": "entry_no", "type": "integer", "key": True},
                        {"name": "计数时间", "column": "counted_at", "type": "datetime"},
                        {"name": "金额", "column": "amount", "type": "number", "required": True}])
    rows = from_contract(source, 2024, random.Random(1))
    assert all(type(r["序号"]) is int for r in rows) and len({r["序号"] for r in rows}) == len(rows)
    # The reference date is always there, in 2024, even where the contract does not require it.
    assert {r["计数时间"].year for r in rows} == {2024} and {r["计数时间"].month for r in rows} == set(range(1, 13))
    assert all(float(r["金额"]) > 0 for r in rows)
