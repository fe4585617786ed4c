"""Each suite passes its clean demo rows and rejects each broken rule with the expected expectation."""

from __future__ import annotations

import duckdb
import pytest

from reportpipe.contracts import sources
from reportpipe.intake import readers
from reportpipe.intake.inbox import classify
from reportpipe.loading import check
from reportpipe.offices import deployment
from reportpipe.validation.expectations import valid_id_numbers
from reportpipe.warehouse.session import ensure_source_tables
from tests.helpers import write_csv

MONTH = "202303"


def scratch_connection(source) -> duckdb.DuckDBPyConnection:
    """What `reportpipe validate` checks a file in: an empty warehouse and a scratch database, in memory."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS scratch")
    ensure_source_tables(con, source, deployment().office().id)
    return con


def clean_row(demo_inbox, source_id: str) -> dict[str, str]:
    """The first record of the source's March demo export, as text cells."""
    source = sources()[source_id]
    path = next((demo_inbox / source_id).glob(f"{source.file_prefix}_{MONTH}.*"))
    con = scratch_connection(source)
    readers.stage(con, path, path.name)
    cursor = con.execute("SELECT * FROM scratch.incoming ORDER BY source_row LIMIT 1")
    row = dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
    return {c.name: row[c.name] or "" for c in source.columns}


def validate_rows(tmp_path, source_id: str, rows: list[dict[str, str]]):
    """The rows written as the source's March export and checked as `reportpipe validate` checks a file."""
    source = sources()[source_id]
    path = write_csv(tmp_path / source_id / f"{source.file_prefix}_{MONTH}.csv",
                     [c.name for c in source.columns], [[r[c.name] for c in source.columns] for r in rows])
    _, checked = check(scratch_connection(source), tmp_path / "wh", source, classify(path, source))
    return checked


@pytest.mark.parametrize("source_id", sorted(sources()))
def test_clean_demo_rows_pass_the_suite(demo_inbox, tmp_path, source_id):
    checked = validate_rows(tmp_path, source_id, [clean_row(demo_inbox, source_id)])
    assert checked.success, [str(p) for p in checked.problems]
    assert all(ok for *_, ok, _ in checked.expectations)


NULL = "expect_column_values_to_be_null"
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
TYPE = f"{NULL} on unparsed"

# (source, cells to set on a clean row, the (column, expectation) that must fail — and nothing else)
CASES = [
    ("work_orders", {"来源渠道": "微博"}, ("来源渠道", IN_SET)),
    ("work_orders", {"受理时间": "2023-02-28 10:00", "首次响应时间": "2023-02-28 11:00", "办结时间": "", "办理状态": "办理中"},
     ("受理时间", BETWEEN)),
    ("work_orders", {"诉求人电话": "12345"}, ("诉求人电话", "expect_column_values_to_match_regex")),
    ("work_orders", {"受理时间": "2023-03-10 10:00", "首次响应时间": "2023-03-10 11:00", "办结时间": "2023-03-09 10:00",
                     "办理状态": "已办结"}, ("办结时间", PAIR)),
    ("work_orders", {"受理时间": "2023-03-10 10:00", "首次响应时间": "2023-03-10 09:00", "办结时间": "", "办理状态": "办理中"},
     ("首次响应时间", PAIR)),
    ("work_orders", {"受理时间": "2023-03-10 10:00", "首次响应时间": "2023-03-10 11:00", "办结时间": "2023-03-11 10:00",
                     "办理状态": "办理中"}, ("办结时间", NULL)),
    ("work_orders", {"受理时间": "2023-03-10 10:00", "首次响应时间": "", "办结时间": "2023-03-11 10:00", "办理状态": "已办结"},
     ("首次响应时间", NOT_NULL)),
    ("work_orders", {"所属社区": "东城区"}, ("所属社区", IN_SET)),
    ("penalty_cases", {"处理结果": "罚款", "罚款金额（元）": "0"}, ("罚款金额（元）", BETWEEN)),
    ("penalty_cases", {"处理结果": "警告", "罚款金额（元）": "200"}, ("罚款金额（元）", BETWEEN)),
    ("penalty_cases", {"处理结果": "罚款", "罚款金额（元）": "-5"}, ("罚款金额（元）", BETWEEN)),
    ("penalty_cases", {"程序类型": "一般程序", "是否法制审核": "否"}, ("是否法制审核", IN_SET)),
    ("penalty_cases", {"立案日期": "2023-03-20", "结案日期": "2023-03-10"}, ("结案日期", PAIR)),
    ("penalty_cases", {"当事人名称": ""}, ("当事人名称", NOT_NULL)),
    ("inspections", {"发现隐患数": "1", "整改隐患数": "2"}, ("发现隐患数", PAIR)),
    ("inspections", {"发放宣传材料（份）": "-1"}, ("发放宣传材料（份）", BETWEEN)),
    ("inspections", {"发现隐患数": "1.5"}, ("发现隐患数", TYPE)),
    ("patrol_logs", {"出动人次": "0"}, ("出动人次", BETWEEN)),
    ("petitions", {"身份证号": "110101199003071235"}, ("身份证号", "expect_column_values_to_be_valid_chinese_id_number")),
    ("petitions", {"信访人数": "0"}, ("信访人数", BETWEEN)),
    ("petitions", {"信访人姓名": "　"}, ("信访人姓名", NOT_NULL)),
    ("petition_receptions", {"来访人数": "0"}, ("来访人数", BETWEEN)),
    ("petition_receptions", {"接待人级别": "厅级"}, ("接待人级别", IN_SET)),
    ("disputes", {"化解方式": "调解"}, ("化解方式", IN_SET)),
    ("mediations", {"调解结果": "调解中", "协议形式": "", "结案日期": "2023-03-30"}, ("结案日期", NULL)),
    ("mediations", {"调解结果": "调解成功", "协议形式": "", "结案日期": "2023-03-30"}, ("协议形式", NOT_NULL)),
    ("mediations", {"调委会": "东城区人民调解委员会"}, ("调委会", IN_SET)),
    ("supplies", {"数量": "0"}, ("数量", BETWEEN)),
    ("npc_items", {"是否已答复": "否", "满意度": "满意"}, ("满意度", NULL)),
    ("npc_items", {"是否已答复": "未知"}, ("是否已答复", TYPE)),
    ("litigation", {"审理结果": "改判"}, ("审理结果", IN_SET)),
    ("activity_ledger", {"参与人次": "-1"}, ("参与人次", BETWEEN)),
    ("activity_ledger", {"活动日期": "2023年3月32日"}, ("活动日期", TYPE)),
]


@pytest.mark.parametrize("source_id, cells, failure", CASES, ids=[f"{c[0]}-{c[2][0]}-{i}" for i, c in enumerate(CASES)])
def test_each_broken_rule_fails_its_expectation(demo_inbox, tmp_path, source_id, cells, failure):
    row = {**clean_row(demo_inbox, source_id), **cells}
    checked = validate_rows(tmp_path, source_id, [row])
    assert not checked.success
    found = {(p.column, f"{NULL} on unparsed" if p.kind == "type" else p.expectation) for p in checked.problems}
    assert found == {failure}
    assert {p.row for p in checked.problems} == {2}


def test_an_id_repeated_in_a_file_is_rejected_on_each_of_its_rows(demo_inbox, tmp_path):
    row = clean_row(demo_inbox, "supplies")
    checked = validate_rows(tmp_path, "supplies", [row, row])
    assert {(p.row, p.column, p.kind) for p in checked.problems} == {(2, "发放编号", "unique"), (3, "发放编号", "unique")}


def test_personal_values_are_masked_in_problems(demo_inbox, tmp_path):
    phone = "1381234567"  # ten digits: not a phone number
    row = {**clean_row(demo_inbox, "work_orders"), "诉求人电话": phone}
    checked = validate_rows(tmp_path, "work_orders", [row])
    text = "\n".join(map(str, checked.problems))
    assert "诉求人电话" in text and phone not in text
    assert phone not in str(checked.result.to_json_dict())


# Valid numbers worked out by hand from GB 11643-1999 (the first is the standard's own example).
VALID_ID_NUMBERS = ["11010519491231002X", "110101199003071233", "44030419851215002X", "130102197701010017"]


def test_id_number_expectation_checks_the_gb11643_character():
    import pandas as pd

    good = VALID_ID_NUMBERS
    wrong = [g[:17] + ("0" if g[17] != "0" else "1") for g in good]
    lower_x = [g.lower() for g in good if g.endswith("X")]
    odd = ["1101011990030712", "11010119900307123Y", "1101011990030712３4", ""]
    values = pd.Series(good + wrong + lower_x + odd)
    assert list(valid_id_numbers(values)) == [True] * 4 + [False] * 4 + [True] * len(lower_x) + [False] * 4


def test_the_demo_and_the_expectation_share_one_check_character_rule():
    from reportpipe.validation.id_numbers import check_character

    assert [check_character(n[:17]) for n in VALID_ID_NUMBERS] == [n[17] for n in VALID_ID_NUMBERS]
