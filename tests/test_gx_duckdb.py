"""Our DuckDB engine for GX (reportpipe.validation.engine) judges like GX's own pandas engine.

Every expectation variant the committed suites use (expectations/suites/*.json: type, which
kwargs, row-condition operator, value types) runs on the same small fixture twice: as a pandas
DataFrame asset on GX's PandasExecutionEngine, the reference, and as the DuckDB table our
validation reads on DuckDBExecutionEngine. Both must give the same verdict, unexpected count,
unexpected values and unexpected rows (source_row), under the result formats validation uses
(reportpipe.validation.validator.VERDICT, then DETAILS). A variant added to a suite without a case here
fails test_every_suite_variant_has_a_parity_case.

Two differences are known and pinned, both GX's or DuckDB's, not our adapter's (see as_sql): a
`!=` row condition skips rows whose column is NULL on DuckDB and checks them on pandas, and a
regex's `\d` matches only ASCII digits on DuckDB and any Unicode digit on pandas. The reference
the DuckDB engine must equal is the pandas engine with those two spelled out as SQL means them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math

import duckdb
import pytest

from reportpipe.settings import EXPECTATIONS_DIR
from reportpipe.validation.validator import DETAILS, VERDICT, month_bounds

MONTH = dt.date(2023, 3, 1)
BOUNDS = {"min_value": {"$PARAMETER": "month_start"}, "max_value": {"$PARAMETER": "month_end"}}
PHONE = r"^(?:1[3-9]\d{9}|010-\d{8})$"  # petitions.json's 联系电话 rule

# The staged month in miniature: typed as validation_sql types it (trimmed text, NULL where
# empty, typed columns, the unparsed:/loaded_in_month: evidence). Some cells keep an empty string,
# which the real relation would have made NULL: the engines must agree on those too.
COLUMNS = [
    ("source_row", "BIGINT"), ("编号", "VARCHAR"), ("状态", "VARCHAR"), ("渠道", "VARCHAR"), ("人数", "BIGINT"),
    ("金额", "DECIMAL(18, 2)"), ("日期", "DATE"), ("受理时间", "TIMESTAMP"), ("办结时间", "TIMESTAMP"),
    ("发现", "BIGINT"), ("整改", "BIGINT"), ("是否", "BOOLEAN"), ("满意度", "VARCHAR"), ("电话", "VARCHAR"),
    ("身份证号", "VARCHAR"), ("unparsed:人数", "VARCHAR"), ("loaded_in_month:编号", "VARCHAR"),
]
T = dt.datetime
ROWS = [
    (2, "GD-001", "已办结", "电话", 1, decimal.Decimal("200.50"), dt.date(2023, 3, 1), T(2023, 3, 1, 0, 0),
     T(2023, 3, 2, 9, 30), 3, 3, True, "满意", "13812345678", "44030419851215002X", None, None),
    (3, "GD-002", "办理中", "微博", 0, decimal.Decimal("0.00"), dt.date(2023, 3, 31), T(2023, 3, 31, 23, 59, 59),
     None, 2, 1, False, "满意", "010-12345678", "110101199003071235", "1.5", None),
    (4, "GD-002", None, "网站", None, decimal.Decimal("-5.00"), dt.date(2023, 4, 1), T(2023, 4, 1, 0, 0), None,
     1, 2, None, None, "12345", "44030419851215002x", None, "2023-02"),
    (5, "", "已办结", "", 5, None, dt.date(2023, 2, 28), T(2023, 2, 28, 23, 59, 59), T(2023, 3, 1, 8, 0),
     None, 4, True, None, "", "", None, None),
    (6, "", "办理中", None, -1, decimal.Decimal("0.00"), None, None, T(2023, 3, 5, 8, 0), 0, 0, False, None,
     "电话13812345678", "身份证号码不详", "十二", None),
    (7, "甲-一", "", "电话", 2, decimal.Decimal("0.01"), dt.date(2023, 3, 15), T(2023, 3, 15, 12, 0),
     T(2023, 3, 15, 11, 59), 5, None, None, "", None, None, None, None),
    (8, None, "已办结", "电话", 3, decimal.Decimal("80.00"), dt.date(2023, 3, 20), T(2023, 3, 20, 8, 0),
     T(2023, 3, 20, 8, 0), 2, 2, True, "不满意", "13８１２３４５６７８", "11010119900307123", None, None),
    (9, "GD-003", "已办结", "现场", 4, decimal.Decimal("10.00"), dt.date(2023, 3, 10), T(2023, 3, 10, 9, 0), None,
     1, 1, True, "满意", "13900000000", "110101199003071233", None, None),
]
CASES: list[tuple[str, str, dict, bool]] = [
    # (id, expectation type, kwargs, success expected on the fixture)
    ("columns-match", "expect_table_columns_to_match_set", {"column_set": [c for c, _ in COLUMNS]}, True),
    ("columns-differ", "expect_table_columns_to_match_set",
     {"column_set": [c for c, _ in COLUMNS if c != "电话"] + ["联系电话"]}, False),
    ("not-null-all", "expect_column_values_to_not_be_null", {"column": "source_row"}, True),
    ("not-null", "expect_column_values_to_not_be_null", {"column": "状态"}, False),
    ("not-null-text", "expect_column_values_to_not_be_null", {"column": "编号"}, False),
    ("not-null-if-ne", "expect_column_values_to_not_be_null",
     {"column": "办结时间", "row_condition": {"column": {"name": "状态"}, "operator": "!=", "parameter": "办理中",
                                           "type": "comparison"}}, False),
    ("not-null-if-ne-passes", "expect_column_values_to_not_be_null",
     {"column": "受理时间", "row_condition": {"column": {"name": "状态"}, "operator": "!=", "parameter": "办理中",
                                           "type": "comparison"}}, True),
    ("null", "expect_column_values_to_be_null", {"column": "unparsed:人数"}, False),
    ("null-loaded-before", "expect_column_values_to_be_null", {"column": "loaded_in_month:编号"}, False),
    ("null-if-eq", "expect_column_values_to_be_null",
     {"column": "办结时间", "row_condition": {"column": {"name": "状态"}, "operator": "==", "parameter": "办理中",
                                           "type": "comparison"}}, False),
    ("null-if-ne", "expect_column_values_to_be_null",
     {"column": "办结时间", "row_condition": {"column": {"name": "状态"}, "operator": "!=", "parameter": "已办结",
                                           "type": "comparison"}}, False),
    ("null-if-eq-false", "expect_column_values_to_be_null",
     {"column": "满意度", "row_condition": {"column": {"name": "是否"}, "operator": "==", "parameter": False,
                                          "type": "comparison"}}, False),
    ("unique", "expect_column_values_to_be_unique", {"column": "编号"}, False),
    ("unique-passes", "expect_column_values_to_be_unique", {"column": "source_row"}, True),
    ("between-min", "expect_column_values_to_be_between", {"column": "人数", "min_value": 1.0}, False),
    ("between-min-passes", "expect_column_values_to_be_between", {"column": "发现", "min_value": 0.0}, True),
    ("between-date-month", "expect_column_values_to_be_between", {"column": "日期", **BOUNDS}, False),
    ("between-datetime-month", "expect_column_values_to_be_between", {"column": "受理时间", **BOUNDS}, False),
    ("between-strict-if-eq", "expect_column_values_to_be_between",
     {"column": "金额", "min_value": 0.0, "strict_min": True,
      "row_condition": {"column": {"name": "状态"}, "operator": "==", "parameter": "已办结", "type": "comparison"}},
     True),
    ("between-strict-if-eq-fails", "expect_column_values_to_be_between",
     {"column": "金额", "min_value": 0.0, "strict_min": True,
      "row_condition": {"column": {"name": "状态"}, "operator": "==", "parameter": "办理中", "type": "comparison"}},
     False),
    ("between-zero-if-ne", "expect_column_values_to_be_between",
     {"column": "金额", "min_value": 0.0, "max_value": 0.0,
      "row_condition": {"column": {"name": "状态"}, "operator": "!=", "parameter": "已办结", "type": "comparison"}},
     False),
    ("in-set", "expect_column_values_to_be_in_set", {"column": "渠道", "value_set": ["电话", "网站", "现场"]}, False),
    # An office's own value set, a suite parameter (PARAMETERS): the same rows break it as the list above.
    ("in-set-parameter", "expect_column_values_to_be_in_set", {"column": "渠道", "value_set": {"$PARAMETER": "channels"}},
     False),
    ("in-set-passes", "expect_column_values_to_be_in_set", {"column": "满意度", "value_set": ["满意", "不满意", ""]},
     True),
    ("in-set-bool-if-eq", "expect_column_values_to_be_in_set",
     {"column": "是否", "value_set": [True],
      "row_condition": {"column": {"name": "状态"}, "operator": "==", "parameter": "已办结", "type": "comparison"}},
     True),
    ("in-set-bool-if-eq-fails", "expect_column_values_to_be_in_set",
     {"column": "是否", "value_set": [True],
      "row_condition": {"column": {"name": "状态"}, "operator": "==", "parameter": "办理中", "type": "comparison"}},
     False),
    ("pair-datetime", "expect_column_pair_values_a_to_be_greater_than_b",
     {"column_A": "办结时间", "column_B": "受理时间", "ignore_row_if": "either_value_is_missing", "or_equal": True},
     False),
    ("pair-integer", "expect_column_pair_values_a_to_be_greater_than_b",
     {"column_A": "发现", "column_B": "整改", "ignore_row_if": "either_value_is_missing", "or_equal": True}, False),
    ("id-number", "expect_column_values_to_be_valid_chinese_id_number", {"column": "身份证号"}, False),
    ("regex", "expect_column_values_to_match_regex", {"column": "电话", "regex": PHONE}, False),
    # Unanchored: the engines must both search (Python's re.search, DuckDB's `~`), not full-match.
    ("regex-search", "expect_column_values_to_match_regex", {"column": "电话", "regex": r"1[3-9]\d{9}"}, False),
]


def signature(expectation: dict) -> tuple:
    """What about an expectation could make the engines differ: its type, which kwargs it sets, the
    row condition's operator and parameter type, flags' values, value types."""
    parts = []
    for key, value in sorted(expectation["kwargs"].items()):
        if key == "row_condition":
            parts.append((key, value["type"], value["operator"], type(value["parameter"]).__name__))
        elif isinstance(value, dict) and "$PARAMETER" in value:
            parts.append((key, "$PARAMETER"))
        elif key in ("column", "column_A", "column_B", "column_set", "regex"):
            parts.append((key,))
        elif key == "value_set":
            parts.append((key, *sorted({type(v).__name__ for v in value})))
        elif isinstance(value, (bool, str)):
            parts.append((key, value))
        else:
            parts.append((key, type(value).__name__))
    return (expectation["type"], *parts)


PARAMETERS = {"channels": ["电话", "网站", "现场"]}


def suite_variants() -> dict[tuple, str]:
    """Each variant the committed suites use, with one place that uses it."""
    out = {}
    for path in sorted((EXPECTATIONS_DIR / "suites").glob("*.json")):
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            out.setdefault(signature(e), f"{path.name}: {json.dumps(e['kwargs'], ensure_ascii=False)}")
    return out


def test_every_suite_variant_has_a_parity_case():
    covered = {signature({"type": t, "kwargs": k}) for _, t, k, _ in CASES}
    missing = {v: where for v, where in suite_variants().items() if v not in covered}
    assert not missing, "expectation variants used by the suites with no parity case here:\n" + "\n".join(
        f"{v}  ({where})" for v, where in missing.items())


@pytest.fixture(scope="module")
def connection():
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS scratch")
    from reportpipe.validation.engine import TABLE
    from reportpipe.warehouse.sql import quote

    con.execute(f"CREATE TABLE scratch.{TABLE} ({', '.join(f'{quote(c)} {t}' for c, t in COLUMNS)})")
    con.executemany(f"INSERT INTO scratch.{TABLE} VALUES ({', '.join('?' * len(COLUMNS))})", ROWS)
    yield con
    con.close()


@pytest.fixture(scope="module")
def batches(connection):
    """The fixture as a batch of each engine, in one ephemeral GX context."""
    import great_expectations as gx

    import reportpipe.validation.engine  # noqa: F401  registers the reportpipe_duckdb datasource type
    import reportpipe.validation.expectations  # noqa: F401  registers the ID-number expectation
    from reportpipe.validation.engine import TABLE

    context = gx.get_context(mode="ephemeral")
    frame = connection.execute(f"SELECT * FROM scratch.{TABLE}").df()
    pandas_asset = context.data_sources.add_pandas("pandas").add_dataframe_asset("fixture")
    pandas_batch = pandas_asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": frame})
    datasource = context.data_sources.add_reportpipe_duckdb(name="duckdb")
    datasource.use(connection)
    duckdb_asset = datasource.add_table_asset("fixture", table_name=TABLE)
    duckdb_batch = duckdb_asset.get_batch(duckdb_asset.build_batch_request())
    return {"pandas": pandas_batch, "duckdb": duckdb_batch}


def as_sql(kwargs: dict) -> dict:
    """The kwargs for the pandas reference, so that it means what they mean in SQL on DuckDB.

    The two known differences between the engines, GX's and DuckDB's, not our adapter's:
    - GX's SQL engine compiles a `!=` row condition to SQL's `<>`, which is NULL, so not true, where
      the column is NULL; its pandas engine to DataFrame.query's `!=`, which is true there. A rule
      under `状态 != '办理中'` skips rows without a 状态 on DuckDB and checks them on pandas (`==`
      skips them on both). The reference adds `AND 状态 IS NOT NULL`.
    - `\d` is any Unicode decimal digit to Python's re (pandas), an ASCII digit to RE2 (DuckDB):
      a phone number '13８１２３４５６７８' matches on pandas, not on DuckDB. The reference uses
      re's ASCII flag.
    """
    condition = kwargs.get("row_condition")
    if condition and condition["operator"] == "!=":
        guard = {"type": "nullity", "column": condition["column"], "is_null": False}
        kwargs = {**kwargs, "row_condition": {"type": "and", "conditions": [condition, guard]}}
    if "regex" in kwargs:
        kwargs = {**kwargs, "regex": "(?a)" + kwargs["regex"]}
    return kwargs


@pytest.fixture(scope="module")
def results(batches):
    """Each case's result, by engine and result format: the whole suite validated once each.

    "pandas" is the reference with the cases as SQL means them (as_sql), "pandas-as-is" the cases
    as written."""
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    def parity_suite(adapt=lambda kwargs: kwargs):
        return ExpectationSuite(name="parity", expectations=[
            ExpectationConfiguration(type=t, kwargs=adapt(k), meta={"case": name}).to_domain_obj()
            for name, t, k, _ in CASES])

    runs = [("duckdb", batches["duckdb"], parity_suite()), ("pandas", batches["pandas"], parity_suite(as_sql)),
            ("pandas-as-is", batches["pandas"], parity_suite())]
    out = {}
    for engine, batch, suite in runs:
        for fmt_name, fmt in (("verdict", VERDICT), ("details", DETAILS)):
            validated = batch.validate(suite, result_format=fmt, expectation_parameters=month_bounds(MONTH) | PARAMETERS)
            for r in validated.results:
                out[engine, fmt_name, r.expectation_config.meta["case"]] = r
    return out


def plain(value):
    """A value as either engine reports it, made comparable: Python scalars, datetimes, tuples."""
    import numpy as np
    import pandas as pd

    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def unexpected(result) -> dict:
    details = result.result or {}
    return {
        "count": details.get("unexpected_count"),
        "values": sorted(map(plain, details.get("partial_unexpected_list") or []), key=repr),
        "rows": sorted(int(i["source_row"]) for i in details.get("partial_unexpected_index_list") or []),
        "details": details.get("details"),
    }


def raised(result) -> list[str]:
    info = result.exception_info or {}
    if "raised_exception" in info:
        info = {"": info}
    return [v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]


@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_duckdb_engine_agrees_with_pandas(results, case):
    expected_success = next(ok for name, *_, ok in CASES if name == case)
    for fmt in ("verdict", "details"):
        on_pandas, on_duckdb = results["pandas", fmt, case], results["duckdb", fmt, case]
        assert (raised(on_pandas), raised(on_duckdb)) == ([], []), fmt
        assert on_duckdb.success == on_pandas.success, fmt
    on_pandas, on_duckdb = results["pandas", "details", case], results["duckdb", "details", case]
    assert unexpected(on_duckdb) == unexpected(on_pandas)
    assert on_pandas.success == expected_success, "the fixture no longer exercises this case as meant"
    if not expected_success and on_pandas.expectation_config.type != "expect_table_columns_to_match_set":
        assert unexpected(on_pandas)["rows"], "a failing case must name its rows"


def test_the_known_differences_are_only_those(results):
    """Pins the known differences (as_sql): should GX or DuckDB change, this says so."""
    cells = {column: {row[0]: row[i] for row in ROWS} for i, (column, _) in enumerate(COLUMNS)}
    shown = set()
    for name, _, kwargs, _ in CASES:
        condition = kwargs.get("row_condition")
        as_is, on_duckdb = unexpected(results["pandas-as-is", "details", name]), \
            unexpected(results["duckdb", "details", name])
        if condition and condition["operator"] == "!=":
            # pandas also checks the rows without a value in the condition column
            explained = {r for r, v in cells[condition["column"]["name"]].items() if v is None}
            assert set(as_is["rows"]) - set(on_duckdb["rows"]) <= explained, name
            assert set(on_duckdb["rows"]) <= set(as_is["rows"]), name
            shown |= {"!="} if set(as_is["rows"]) != set(on_duckdb["rows"]) else set()
        elif "regex" in kwargs:
            # pandas also lets a non-ASCII digit pass as \d
            explained = {r for r, v in cells[kwargs["column"]].items() if v and not v.isascii()}
            assert set(on_duckdb["rows"]) - set(as_is["rows"]) <= explained, name
            assert set(as_is["rows"]) <= set(on_duckdb["rows"]), name
            shown |= {"regex"} if set(as_is["rows"]) != set(on_duckdb["rows"]) else set()
        else:
            assert as_is == on_duckdb, name
    assert shown == {"!=", "regex"}, "the fixture should show each known difference"
