"""Validate a staged export with its Great Expectations suite, and keep the evidence.

The suites are the committed JSON files in `expectations/suites/`; this module
loads them (never rebuilds them), validates the typed frame of a file with GX's
pandas engine, turns every failed expectation into problems naming file, row,
column, value and expectation (personal data masked), and stores the result
(masked too) for the Data Docs site under `expectations/uncommitted/`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from reportpipe import settings
from reportpipe.contracts import Source
from reportpipe.inbox import Export
from reportpipe.staging import LOADED_IN, TYPE_LABELS, UNPARSED, Problem, frame_sql, mask

# GX logs hundreds of INFO lines while importing: they would bury the task logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

MAX_EXAMPLES = 20
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES}


@dataclass
class Validation:
    """What one validation of one file found."""

    success: bool
    problems: list[Problem] = field(default_factory=list)
    # (expectation type, column, success, unexpected count): one per expectation
    expectations: list[tuple[str, str | None, bool, int | None]] = field(default_factory=list)
    result: object = None  # the GX ExpectationSuiteValidationResult, personal data masked


@functools.cache
def context():
    """The GX context of expectations/, run without rewriting its committed config."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig

    import reportpipe.gx_expectations  # noqa: F401  registers the custom expectations

    root = settings.PROJECT_DIR / "expectations"
    config = yaml.safe_load((root / "great_expectations.yml").read_text(encoding="utf-8"))
    for store in config["stores"].values():
        store["store_backend"]["root_directory"] = str(root)
    for site in config["data_docs_sites"].values():
        site["store_backend"]["root_directory"] = str(root)
    return gx.get_context(project_config=DataContextConfig(**config))


@functools.cache
def suite(source_id: str):
    """The committed suite, checked to load whole (GX drops unknown expectation types quietly)."""
    loaded = context().suites.get(source_id)
    path = settings.PROJECT_DIR / "expectations" / "suites" / f"{source_id}.json"
    expected = len(json.loads(path.read_text(encoding="utf-8"))["expectations"])
    if len(loaded.expectations) != expected:
        raise RuntimeError(f"{path}: {expected} expectations, but GX loaded {len(loaded.expectations)}")
    return loaded


def month_bounds(month: str) -> dict[str, pd.Timestamp]:
    year, number = int(month[:4]), int(month[5:])
    last = calendar.monthrange(year, number)[1]
    return {
        "month_start": pd.Timestamp(year, number, 1),
        "month_end": pd.Timestamp(year, number, last, 23, 59, 59, 999999),
    }


def validation_frame(con: duckdb.DuckDBPyConnection, source: Source, export: Export, header: list[str],
                     loaded: str | None) -> pd.DataFrame:
    # Dates and integers as numpy types: GX's pandas metrics vectorise only those.
    table = con.sql(frame_sql(source, export, header, loaded)).to_arrow_table()
    return table.to_pandas(date_as_object=False)


def _describe(kind: str, kwargs: dict, value: object, source: Source) -> tuple[str | None, str]:
    """(column as delivered, what is wrong) for one unexpected value."""
    column = kwargs.get("column") or kwargs.get("column_A")
    shown = "empty" if value is None else repr(value)
    condition = kwargs.get("row_condition")
    when = f" when {_condition_text(condition)}" if condition else ""
    if column and column.startswith(UNPARSED):
        column = column.removeprefix(UNPARSED)
        kind_label = next((TYPE_LABELS[c.type] for c in source.columns if c.name == column), "its type")
        return column, f"{shown} is not {kind_label}"
    if column and column.startswith(LOADED_IN):
        return column.removeprefix(LOADED_IN), f"was already loaded for {value}"
    if kind == "expect_column_values_to_not_be_null":
        return column, f"is empty{when}"
    if kind == "expect_column_values_to_be_null":
        return column, f"{shown} must be empty{when}"
    if kind == "expect_column_values_to_be_unique":
        return column, f"{shown} appears more than once in the file"
    if kind == "expect_column_values_to_be_in_set":
        return column, f"{shown} is not one of {'、'.join(map(str, kwargs['value_set']))}{when}"
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if isinstance(low, dict):
            return column, f"{shown} is outside the file's month"
        bound = f"≥ {low:g}" if high is None else f"between {low:g} and {high:g}"
        if kwargs.get("strict_min"):
            bound = f"> {low:g}"
        return column, f"{shown} is not {bound}{when}"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = value if isinstance(value, (list, tuple)) else (value, None)
        relation = "≥" if kwargs.get("or_equal") else ">"
        return column, f"{a!r} is not {relation} {kwargs['column_B']} {b!r}"
    if kind == "expect_column_values_to_match_regex":
        return column, f"{shown} does not match {kwargs['regex']}"
    if kind == "expect_column_values_to_be_valid_chinese_id_number":
        return column, f"{shown} is not an ID number with a valid check character (GB 11643)"
    return column, f"{shown} breaks {kind}"


def _condition_text(condition: object) -> str:
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        return f"{condition['column']['name']} {condition['operator']} {condition['parameter']}"
    return str(condition)


def _column_set_problem(export: Export, details: dict) -> Problem:
    derived = (UNPARSED, LOADED_IN)
    mismatched = details.get("mismatched", {})
    missing = [c for c in mismatched.get("missing", []) if not c.startswith(derived)]
    extra = [c for c in mismatched.get("unexpected", []) if not c.startswith(derived)]
    parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unexpected {', '.join(extra)}"] if extra else [])
    return Problem(export.name, None, None, "expect_table_columns_to_match_set", "columns do not match the contract: " + "; ".join(parts))


def _mask_personal_values(result, personal: set[str]) -> None:
    """Mask personal values in a GX result before anything stores or prints it."""
    column = result.expectation_config.kwargs.get("column") or ""
    if column.removeprefix(UNPARSED) not in personal or not result.result:
        return
    details = result.result
    details["partial_unexpected_list"] = [None if v is None else mask(str(v)) for v in details.get("partial_unexpected_list", [])]
    details["partial_unexpected_counts"] = [
        {**c, "value": None if c["value"] is None else mask(str(c["value"]))}
        for c in details.get("partial_unexpected_counts", [])
    ]


def validate(con: duckdb.DuckDBPyConnection, source: Source, export: Export, header: list[str],
             loaded: str | None) -> Validation:
    """Validate the staged file (temp table `incoming`) with the source's suite."""
    frame = validation_frame(con, source, export, header, loaded)
    batch = context().data_sources.pandas_default.read_dataframe(frame)
    result = batch.validate(suite(source.source_id), result_format=RESULT_FORMAT,
                            expectation_parameters=month_bounds(export.month))
    personal = {c.name for c in source.columns if c.pii}
    rows = frame["source_row"].to_numpy()
    outcome = Validation(success=bool(result.success), result=result)
    column_set_failed = any(
        not r.success and r.expectation_config.type == "expect_table_columns_to_match_set" for r in result.results
    )
    for r in result.results:
        _mask_personal_values(r, personal)
        kind = r.expectation_config.type
        kwargs = r.expectation_config.kwargs
        details = r.result or {}
        outcome.expectations.append((kind, kwargs.get("column") or kwargs.get("column_A"), bool(r.success), details.get("unexpected_count")))
        if r.success:
            continue
        if kind == "expect_table_columns_to_match_set":
            outcome.problems.insert(0, _column_set_problem(export, details.get("details", {})))
            continue
        checks = {kwargs.get(k) for k in ("column", "column_A", "column_B")} - {None}
        if column_set_failed and not checks <= set(frame.columns):
            continue  # an expectation about a missing column: the column-set problem says it
        indexes = details.get("partial_unexpected_index_list") or []
        values = details.get("partial_unexpected_list") or [None] * len(indexes)
        if not indexes:
            message = _exception_text(r) or f"failed {kind}"
            outcome.problems.append(Problem(export.name, None, kwargs.get("column"), kind, message))
            continue
        checked_column = kwargs.get("column") or ""
        rule = f"{kind} on {checked_column}" if checked_column.startswith((UNPARSED, LOADED_IN)) else kind
        for index, value in zip(indexes, values):
            column, message = _describe(kind, kwargs, value, source)
            outcome.problems.append(Problem(export.name, int(rows[index]), column, rule, message))
        more = (details.get("unexpected_count") or 0) - len(indexes)
        if more > 0:
            column = _describe(kind, kwargs, None, source)[0]
            outcome.problems.append(Problem(export.name, None, column, rule, f"{more} more rows break this expectation"))
    # A cell that did not parse is also null when typed: say only that it did not parse.
    unparsed = {(p.row, p.column) for p in outcome.problems if p.rule.endswith(UNPARSED + (p.column or ""))}
    outcome.problems = [
        p for p in outcome.problems
        if not (p.rule == "expect_column_values_to_not_be_null" and (p.row, p.column) in unparsed)
    ]
    return outcome


def _exception_text(result) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message")
    messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return "; ".join(m for m in messages if m) or None


def store(outcome: Validation, source: Source, export: Export, digest: str):
    """Keep the GX result (personal values already masked) for the Data Docs site; its store key."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    result = outcome.result
    run_id = RunIdentifier(run_name=f"{export.month} {export.name}", run_time=dt.datetime.now(dt.timezone.utc))
    result.meta["run_id"] = run_id
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=source.source_id),
        run_id=run_id,
        batch_identifier=digest[:16],
    )
    context().validation_results_store.set(key, result)
    return key


def data_docs_dir() -> Path:
    return settings.PROJECT_DIR / "expectations" / "uncommitted" / "data_docs" / "local_site"


def build_data_docs(keys: list | None = None) -> Path:
    """Render results into the Data Docs site (`keys`, else every stored result without a page); its index.

    Rendering only what has no page yet keeps the cost per refresh flat as results accumulate.
    """
    site = data_docs_dir()
    if keys is None:
        stored = context().validation_results_store.list_keys()
        keys = [k for k in stored if not site.joinpath("validations", *k.to_tuple()).with_suffix(".html").exists()]
    if keys:
        context().build_data_docs(resource_identifiers=keys)
    return site / "index.html"
