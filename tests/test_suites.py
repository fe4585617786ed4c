"""A source's contract is the single source of truth: its committed suite may not drift from it.

The structural half of expectations/suites/<s>.json is generated from transforms/<s>/source.yaml
(reportpipe.validation.suites); the hand-written business rules carry their rule in words (meta.rule).
"""

from __future__ import annotations

import json

import yaml

from reportpipe.contracts import sources
from tests.helpers import cli
from tests.project import copy_project, reportpipe

WORK_ORDERS = "work_orders"


def suite_of(project, source_id: str) -> dict:
    return json.loads((project / "expectations" / "suites" / f"{source_id}.json").read_text(encoding="utf-8"))


def rules(suite: dict) -> list[dict]:
    """The hand-written expectations: every one not generated from the contract."""
    return [e for e in suite["expectations"] if "generated_from" not in e["meta"]]


def edit_contract(project, source_id: str, change) -> None:
    path = project / "transforms" / source_id / "source.yaml"
    contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    change({c["column"]: c for c in contract["columns"]})
    path.write_text(yaml.safe_dump(contract, allow_unicode=True), encoding="utf-8")


def test_the_committed_suites_agree_with_their_contracts():
    checked = cli("suites")
    assert (checked.code, checked.out) == (0, f"the {len(sources())} suites agree with their contracts\n")


def test_a_changed_contract_is_named_as_drift_and_write_mends_it_keeping_the_rules(tmp_path):
    project = copy_project(tmp_path)
    before = suite_of(project, WORK_ORDERS)

    def change(columns):
        columns["channel"]["values"].append("12345")  # a new channel, 12345 (the city hotline)
        columns["address"]["required"] = True

    edit_contract(project, WORK_ORDERS, change)
    checked = reportpipe(project, "suites")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    drift = checked.stdout.splitlines()
    suite_file = str(project / "expectations" / "suites" / f"{WORK_ORDERS}.json")
    assert drift and all(line.startswith(f"{suite_file}: ") for line in drift), drift
    # The old value set is not in the contract, the new one and the required address are missing.
    assert [line for line in drift if "not in the contract" in line and '"来源渠道"' in line and "12345" not in line]
    assert [line for line in drift if "missing" in line and '"来源渠道"' in line and "12345" in line]
    assert [line for line in drift if "missing" in line and "expect_column_values_to_not_be_null" in line
            and '"问题地址"' in line]
    assert len(drift) == 3, drift
    assert "reportpipe suites --write" in checked.stderr

    written = reportpipe(project, "suites", "--write")
    assert (written.returncode, written.stdout) == (0, f"wrote {suite_file}\n"), written.stderr
    after = suite_of(project, WORK_ORDERS)
    assert rules(after) == rules(before) and rules(before)
    generated = [e for e in after["expectations"] if "generated_from" in e["meta"]]
    assert {"column": "来源渠道", "value_set": ["政通", "网格", "环保扬尘", "12345"]} in [e["kwargs"] for e in generated]
    assert {"column": "问题地址"} in [e["kwargs"] for e in generated if e["type"] == "expect_column_values_to_not_be_null"]
    again = reportpipe(project, "suites")
    assert (again.returncode, again.stdout) == (0, f"the {len(sources())} suites agree with their contracts\n")


def test_a_hand_written_rule_without_its_words_is_named(tmp_path):
    project = copy_project(tmp_path)
    path = project / "expectations" / "suites" / f"{WORK_ORDERS}.json"
    suite = suite_of(project, WORK_ORDERS)
    phone = next(e for e in rules(suite) if e["kwargs"].get("column") == "诉求人电话")
    del phone["meta"]["rule"]
    path.write_text(json.dumps(suite, ensure_ascii=False, indent=2), encoding="utf-8")
    checked = reportpipe(project, "suites")
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        f"{path}: hand-written expect_column_values_to_match_regex on 诉求人电话 has no meta.rule (the rule in words)"]
