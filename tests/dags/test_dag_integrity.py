"""Every DAG imports cleanly, cheaply and without a database, and is wired as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reportpipe.contracts import sources

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_errors(dag_file):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dag_file))
    assert not bag.import_errors
    assert bag.dag_ids


PARSE_PROBE = """
import json, sys, time
started = time.monotonic()
from airflow.dag_processing.dagbag import DagBag
imported = time.monotonic()
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": len(bag.dag_ids),
    "heavy": sorted(m for m in ("pandas", "duckdb", "great_expectations", "pyarrow") if m in sys.modules),
}))
"""


def test_parsing_needs_no_database_and_no_heavy_imports(tmp_path):
    # A metadata DB that cannot exist: any query at parse time becomes an import error.
    env = {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/missing/dir/airflow.db"}
    out = subprocess.run([sys.executable, "-c", PARSE_PROBE, str(DAGS_DIR)], env=env, capture_output=True,
                         text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == len(sources()) + 1
    assert result["heavy"] == []


def test_every_dag_has_tags_owner_docs_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.doc_md, dag_id
        for task in dag.tasks:
            assert task.retries >= 2, f"{dag_id}.{task.task_id}"
            assert task.owner == "data-engineering", f"{dag_id}.{task.task_id}"


def test_one_monthly_ingest_per_source_emitting_its_asset(dagbag):
    ingest = {d for d in dagbag.dag_ids if d.startswith("ingest_")}
    assert ingest == {f"ingest_{s}" for s in sources()}
    for source_id in sources():
        dag = dagbag.dags[f"ingest_{source_id}"]
        assert set(dag.task_dict) == {"wait_for_export", "load_month"}
        wait = dag.task_dict["wait_for_export"]
        assert wait.downstream_task_ids == {"load_month"}
        assert (type(wait).__name__, wait.source_id) == ("ExportSensor", source_id)
        # Each office's wait and load are one instance of a group mapped over the offices, named by the office.
        group = wait.task_group
        assert type(group).__name__ == "MappedTaskGroup" and dag.task_dict["load_month"].task_group is group
        assert wait.map_index_template == "{{ task.office_id }}"
        assert dag.task_dict["load_month"].map_index_template == "{{ task.op_kwargs['office'] }}"
        assert set(dag.params) == {"month", "office"}
        assert [a.name for a in dag.task_dict["load_month"].outlets] == [f"stg_{source_id}"]
        # Monthly data intervals that are calendar months in Beijing.
        assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 0 1 * *", "Asia/Shanghai")


def test_statistics_runs_when_any_source_is_loaded_once_the_loads_have_settled(dagbag):
    dag = dagbag.dags["statistics"]
    assert set(dag.task_dict) == {"loads_settled", "publish_figures", "publish_district", "write_comparison",
                                  "write_reports", "render_data_docs"}
    assert dag.task_dict["publish_district"].downstream_task_ids == {"write_comparison"}
    assert dag.task_dict["loads_settled"].downstream_task_ids == {"publish_figures"}
    assert dag.task_dict["loads_settled"].mode == "reschedule" and dag.task_dict["loads_settled"].pool == "default_pool"
    assert dag.task_dict["publish_figures"].downstream_task_ids == {"publish_district", "write_reports",
                                                                   "render_data_docs"}
    for task_id in ("publish_figures", "write_reports", "render_data_docs"):  # an instance per office
        assert type(dag.task_dict[task_id]).__name__.endswith("MappedOperator"), task_id
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    assert {a.name for a in condition.objects} == {f"stg_{s}" for s in sources()}


def test_the_tasks_that_write_the_warehouse_take_its_pool_and_queue(dagbag):
    from reportpipe.orchestration.defaults import WAREHOUSE_POOL, WAREHOUSE_QUEUE

    writers = [dagbag.dags[f"ingest_{s}"].task_dict["load_month"] for s in sources()]
    writers += [dagbag.dags["statistics"].task_dict[t] for t in ("publish_figures", "render_data_docs")]
    assert {(t.pool, t.queue) for t in writers} == {(WAREHOUSE_POOL, WAREHOUSE_QUEUE)}
    # The waits hold no warehouse slot; the reports read the published file, beside the warehouse's files.
    assert {dagbag.dags[f"ingest_{s}"].task_dict["wait_for_export"].pool for s in sources()} == {"default_pool"}
    reports = dagbag.dags["statistics"].task_dict["write_reports"]
    assert (reports.pool, reports.queue) == ("default_pool", WAREHOUSE_QUEUE)


def test_an_operators_rerun_of_a_past_month_is_not_held_behind_a_waiting_run(dagbag):
    # A run waits up to 72 hours for its export: one active run at a time would hold every re-run back.
    for source_id in sources():
        assert dagbag.dags[f"ingest_{source_id}"].max_active_runs != 1, source_id


SEVENTEEN_PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
from pathlib import Path
bag = DagBag(dag_folder=sys.argv[1])
timings = {}
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    started = time.monotonic()
    DagBag(dag_folder=str(path))
    timings[path.name] = time.monotonic() - started
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": {k: str(v) for k, v in bag.import_errors.items()},
                  "timings": timings}))
"""


def test_seventeen_offices_give_the_same_dags_each_file_parsed_in_under_half_a_second(tmp_path):
    """Offices are a dimension of a run, not copies of DAGs."""
    import yaml

    offices = [{"id": f"office_{i:02d}", "name": f"第{i}街道", "communities": [f"第{i}社区"]} for i in range(17)]
    path = tmp_path / "offices.yaml"
    path.write_text(yaml.safe_dump({"district": {"id": "district", "name": "某区"}, "offices": offices},
                                   allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "REPORTPIPE_OFFICES": str(path)}
    out = subprocess.run([sys.executable, "-c", SEVENTEEN_PROBE, str(DAGS_DIR)], env=env, capture_output=True,
                         text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == sorted([f"ingest_{s}" for s in sources()] + ["statistics"])
    assert max(result["timings"].values()) < 0.5, result["timings"]
