"""Validate a staged month with its Great Expectations suite, where it lives, and keep the evidence.

The month's validation relation (`scratch.typed`, reportpipe.warehouse.models.validation_sql) is
validated by GX's SQL engine on DuckDB (reportpipe.validation.engine): every rule of the suite
runs on every row, inside DuckDB, without a copy of the month in Python. Every failed
expectation becomes problems naming file, row, column and value (personal data masked),
phrased by the expectation's structured kind (`meta.kind`, reportpipe.problems). The
result, masked too and with every delivered value HTML-escaped, is stored for the Data
Docs site under the warehouse (`<warehouse>/data_docs/`), one result per delivered file.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from reportpipe import problems as kinds
from reportpipe.contracts import Source
from reportpipe.problems import Problem
from reportpipe.untrusted import MAX_QUOTED, masked, printable, quoted
from reportpipe.validation.context import context
from reportpipe.validation.data_docs import data_docs_dir
from reportpipe.validation.suites import suite, value_sets
from reportpipe.warehouse.models import TYPE_LABELS

# GX logs hundreds of INFO lines while importing: they would bury the task logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

MAX_EXAMPLES = 20
# Every expectation runs first for its verdict alone (a few bundled queries on the whole month);
# only the failed ones run again for their rows and values.
VERDICT = {"result_format": "BOOLEAN_ONLY"}
DETAILS = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES,
           "unexpected_index_column_names": ["source_row"]}
DATASOURCE = "warehouse"


@dataclass
class Validation:
    """What one validation of one file found."""

    success: bool
    problems: list[Problem] = field(default_factory=list)
    # (expectation type, kind, column as delivered, success, unexpected count): one per expectation
    expectations: list[tuple[str, str, str | None, bool, int | None]] = field(default_factory=list)
    result: object = None  # the GX ExpectationSuiteValidationResult, personal data masked


def _batch(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, source: Source):
    data_sources = context(warehouse_dir).data_sources
    try:
        datasource = data_sources.get(DATASOURCE)
    except KeyError:
        datasource = data_sources.add_reportpipe_duckdb(name=DATASOURCE)
    datasource.use(con)
    try:
        asset = datasource.get_asset(source.source_id)
    except LookupError:
        from reportpipe.validation.engine import TABLE

        asset = datasource.add_table_asset(source.source_id, table_name=TABLE)
    return asset.get_batch(asset.build_batch_request())


def month_bounds(month: dt.date) -> dict[str, dt.datetime]:
    last = calendar.monthrange(month.year, month.month)[1]
    return {"month_start": dt.datetime(month.year, month.month, 1),
            "month_end": dt.datetime(month.year, month.month, last, 23, 59, 59, 999999)}


def _message(kind: str, meta: dict, kwargs: dict, value: object, source: Source, month: dt.date) -> str:
    text = quoted(value)
    if kind == kinds.REQUIRED:
        return "is empty"
    if kind == kinds.TYPE:
        label = TYPE_LABELS[next(c.type for c in source.columns if c.name == meta["column"])]
        return f"{text} is not {label}"
    if kind == kinds.VALUES:
        allowed = next(c.values for c in source.columns if c.name == meta["column"])
        return f"{text} is not one of {'、'.join(allowed)}"
    if kind == kinds.UNIQUE:
        return f"{text} appears more than once in the file"
    if kind == kinds.LOADED_BEFORE:
        return f"was already loaded for {value}"
    if kind == kinds.MONTH:
        return f"{text} is outside the file's month {month:%Y-%m}"
    if isinstance(value, (list, tuple)):
        text = " and ".join(map(quoted, value))
    return f"{text} breaks the rule: {meta.get('rule') or kwargs}"


def _names(columns: list[str]) -> str:
    """Header names as delivered, control characters escaped; a long one quoted in part."""
    return ", ".join(printable(c) if len(c) <= MAX_QUOTED else quoted(c) for c in columns)


def _columns_problem(name: str, details: dict, source: Source) -> Problem:
    from reportpipe.validation.suites import evidence_columns

    derived = set(evidence_columns(source))
    order = {c.name: i for i, c in enumerate(source.columns)}
    mismatched = details.get("mismatched", {})
    missing = sorted((c for c in mismatched.get("missing", []) if c not in derived), key=lambda c: order.get(c, 0))
    extra = sorted(c for c in mismatched.get("unexpected", []) if c not in derived)
    parts = ([f"missing {_names(missing)}"] if missing else []) + ([f"unexpected {_names(extra)}"] if extra else [])
    return Problem(name, 1, None, kinds.COLUMNS, "the header does not match the contract: " + "; ".join(parts),
                   "expect_table_columns_to_match_set")


def _mask_result(result, personal: set[str]) -> None:
    """Mask personal values in a GX result before anything stores or prints it."""
    kwargs = result.expectation_config.kwargs
    checked = {kwargs.get(k) for k in ("column", "column_A", "column_B")} & personal
    details = result.result or {}
    if not checked or not details:
        return
    hidden = lambda v: None if v is None else masked(str(v))  # noqa: E731
    details["partial_unexpected_list"] = [hidden(v) if not isinstance(v, (list, tuple)) else [hidden(x) for x in v]
                                          for v in details.get("partial_unexpected_list", [])]
    details["partial_unexpected_counts"] = [{**c, "value": hidden(c["value"])}
                                            for c in details.get("partial_unexpected_counts", [])]
    details["partial_unexpected_index_list"] = [{k: (hidden(v) if k in personal else v) for k, v in d.items()}
                                                for d in details.get("partial_unexpected_index_list", [])]


def _escaped(value):
    """Every text in a GX result as HTML text: GX 1.24 puts result values into Data Docs pages as markup."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_escaped(v) for v in value)
    return value


def _escape_result(result) -> None:
    """Escape what a delivered file put into a GX result (cells, header names, engine messages naming them).

    Done to every value, not only to those GX happens to print raw: which ones GX escapes
    itself is its business and may change; a value GX escapes again reads `&lt;`, which is safe.
    """
    for r in result.results:
        r.result = _escaped(r.result or {})
        r.exception_info = _escaped(r.exception_info or {})


def _exception_text(result) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message")
    messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return "; ".join(m for m in messages if m) or None


def validate(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, source: Source, name: str, month: dt.date,
             header: list[str]) -> Validation:
    """Validate the staged file (scratch.typed) with the source's suite."""
    from great_expectations.core import ExpectationSuite

    batch, parameters = _batch(con, warehouse_dir, source), month_bounds(month) | value_sets(source)
    result = batch.validate(suite(source), result_format=VERDICT, expectation_parameters=parameters)
    failed = [i for i, r in enumerate(result.results) if not r.success]
    if failed:
        again = ExpectationSuite(name=source.source_id,
                                 expectations=[result.results[i].expectation_config.to_domain_obj() for i in failed])
        details = batch.validate(again, result_format=DETAILS, expectation_parameters=parameters).results
        for i, detailed in zip(failed, details):
            result.results[i] = detailed
    personal = {c.name for c in source.columns if c.pii}
    outcome = Validation(success=bool(result.success), result=result)
    present = {"source_row", *header}
    for r in result.results:
        _mask_result(r, personal)
        config = r.expectation_config
        meta, kwargs = config.meta or {}, config.kwargs
        kind = meta.get("kind", kinds.RULE)
        column = meta.get("column") or kwargs.get("column") or kwargs.get("column_A")
        details = r.result or {}
        unexpected = 0 if r.success else details.get("unexpected_count")
        outcome.expectations.append((config.type, kind, column, bool(r.success), unexpected))
        if r.success:
            continue
        if kind == kinds.COLUMNS:
            outcome.problems.insert(0, _columns_problem(name, details.get("details", {}), source))
            continue
        # Evidence columns exist when the column they speak for was delivered.
        needed = {column} if kind in (kinds.TYPE, kinds.LOADED_BEFORE) else \
            {kwargs.get(k) for k in ("column", "column_A", "column_B")} - {None}
        condition = kwargs.get("row_condition")
        if condition:
            needed.add(condition["column"]["name"] if isinstance(condition, dict) else condition.column.name)
        if not needed <= present:
            continue  # an expectation about a missing column: the column-set problem says it
        indexes = details.get("partial_unexpected_index_list") or []
        values = details.get("partial_unexpected_list") or [None] * len(indexes)
        if not indexes:
            message = _exception_text(r) or f"failed {config.type}"
            outcome.problems.append(Problem(name, None, column, kind, message, config.type))
            continue
        for index, value in zip(indexes, values):
            outcome.problems.append(Problem(name, int(index["source_row"]), column, kind,
                                            _message(kind, meta, kwargs, value, source, month), config.type))
        more = (details.get("unexpected_count") or 0) - len(indexes)
        if more > 0:
            outcome.problems.append(Problem(name, None, column, kind, f"{more:,} more rows break this rule", config.type))
    # A cell that is not of its type is also empty once typed: say only that it is not of its type.
    mistyped = {(p.row, p.column) for p in outcome.problems if p.kind == kinds.TYPE}
    outcome.problems = [p for p in outcome.problems if not (p.kind == kinds.REQUIRED and (p.row, p.column) in mistyped)]
    return outcome


def store(outcome: Validation, source: Source, warehouse_dir: Path, name: str, month: dt.date, digest: str):
    """Keep the GX result (personal values already masked) for the Data Docs site; its store key.

    One result per delivered file: validating the same bytes again replaces the earlier result and its page.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    store = context(warehouse_dir).validation_results_store
    batch = digest[:16]
    for old in store.list_keys():
        if old.expectation_suite_identifier.name == source.source_id and old.batch_identifier == batch:
            store.remove_key(old)
            data_docs_dir(warehouse_dir).joinpath("validations", *old.to_tuple()).with_suffix(".html").unlink(missing_ok=True)
    result = outcome.result
    _escape_result(result)
    # The run name is a page's folder and a link text: the file name matched the export pattern
    # (the contract's prefix, digits, an extension), so it carries no markup.
    run_id = RunIdentifier(run_name=f"{month:%Y-%m} {name}", run_time=dt.datetime.now(dt.timezone.utc))
    result.meta["run_id"] = run_id
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=source.source_id), run_id=run_id,
        batch_identifier=batch)
    store.set(key, result)
    return key
