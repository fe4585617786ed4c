"""Each source's Great Expectations suite: a structural half generated from its contract,
and a hand-written half of business rules, committed together as expectations/suites/<s>.json.

The structural half (column set, required cells, types, unique key, key unique across
months, reference date inside the month, value sets) is what `structural()` derives
from transforms/<s>/source.yaml; its expectations carry `meta.generated_from`. The
business rules (cross-column conditions, ranges, formats, the ID check character) are
written by hand in the suite with `meta.rule`, the rule in words. `reportpipe suites`
shows where a committed suite and its contract have drifted apart, `--write` mends the
structural half and keeps the rules; tests/test_suites.py fails on any drift. A source
without a suite file (a new export with no business rules yet) is validated with its
structural half alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from reportpipe import problems
from reportpipe.contracts import Source
from reportpipe.settings import EXPECTATIONS_DIR
from reportpipe.warehouse.models import LOADED_IN, UNPARSED

MONTH_BOUNDS = {"min_value": {"$PARAMETER": "month_start"}, "max_value": {"$PARAMETER": "month_end"}}


def suite_path(source_id: str) -> Path:
    return EXPECTATIONS_DIR / "suites" / f"{source_id}.json"


def _generated(source: Source, kind: str, expectation: str, delivered: str | None, **kwargs) -> dict:
    meta = {"generated_from": f"transforms/{source.source_id}/source.yaml", "kind": kind}
    if delivered is not None:
        meta["column"] = delivered
    return {"type": expectation, "kwargs": kwargs, "meta": meta, "severity": "critical"}


def evidence_columns(source: Source) -> list[str]:
    return [UNPARSED + c.name for c in source.columns if c.type != "text"] + [LOADED_IN + source.key.name]


def structural(source: Source) -> list[dict]:
    """The expectations the contract implies, in the order a reader checks a file."""
    column_set = ["source_row", *(c.name for c in source.columns), *evidence_columns(source)]
    out = [_generated(source, problems.COLUMNS, "expect_table_columns_to_match_set", None, column_set=column_set)]
    for c in source.columns:
        if c.is_required:
            out.append(_generated(source, problems.REQUIRED, "expect_column_values_to_not_be_null", c.name, column=c.name))
        if c.key:
            out.append(_generated(source, problems.UNIQUE, "expect_column_values_to_be_unique", c.name, column=c.name))
            out.append(_generated(source, problems.LOADED_BEFORE, "expect_column_values_to_be_null", c.name,
                                  column=LOADED_IN + c.name))
        if c.type != "text":
            out.append(_generated(source, problems.TYPE, "expect_column_values_to_be_null", c.name, column=UNPARSED + c.name))
        if c.values is not None:
            # An office's own value set is a parameter, filled in with that office's values (value_sets()).
            allowed = {"$PARAMETER": c.value_set} if c.value_set else list(c.values)
            out.append(_generated(source, problems.VALUES, "expect_column_values_to_be_in_set", c.name,
                                  column=c.name, value_set=allowed))
        if c.column == source.reference_date:
            out.append(_generated(source, problems.MONTH, "expect_column_values_to_be_between", c.name,
                                  column=c.name, **MONTH_BOUNDS))
    return out


def value_sets(source: Source) -> dict[str, list[str]]:
    """The suite parameters of the office's value sets the source's columns name."""
    return {c.value_set: list(c.values) for c in source.columns if c.value_set}


def committed(source: Source) -> dict | None:
    path = suite_path(source.source_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def expected(source: Source) -> dict:
    """The suite as it should be committed: the contract's half, then the committed rules."""
    current = committed(source) or {}
    rules = [e for e in current.get("expectations", []) if "generated_from" not in (e.get("meta") or {})]
    return {
        "name": source.source_id,
        "meta": {"contract": f"SPEC.md, source {source.source_id}",
                 "generated_from": f"transforms/{source.source_id}/source.yaml"},
        "notes": current.get("notes"),
        "expectations": structural(source) + rules,
    }


def _canonical(expectation: dict) -> str:
    return json.dumps({k: expectation.get(k) for k in ("type", "kwargs", "meta")}, sort_keys=True, ensure_ascii=False)


def drift(source: Source) -> list[str]:
    """How the committed suite differs from its contract; empty when they agree."""
    current = committed(source)
    if current is None:
        return []  # generated in memory: nothing committed to drift
    have = [_canonical(e) for e in current["expectations"] if "generated_from" in (e.get("meta") or {})]
    want = [_canonical(e) for e in structural(source)]
    out = [f"{suite_path(source.source_id)}: missing {e}" for e in want if e not in have]
    out += [f"{suite_path(source.source_id)}: not in the contract {e}" for e in have if e not in want]
    if not out and have != want:
        out.append(f"{suite_path(source.source_id)}: the generated expectations are out of order")
    for e in current["expectations"]:
        meta = e.get("meta") or {}
        if "generated_from" not in meta and not meta.get("rule"):
            out.append(f"{suite_path(source.source_id)}: hand-written {e['type']} on "
                       f"{e['kwargs'].get('column') or e['kwargs'].get('column_A')} has no meta.rule (the rule in words)")
    return out


def write(source: Source) -> Path:
    path = suite_path(source.source_id)
    path.write_text(json.dumps(expected(source), ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def suite(source: Source):
    """The GX ExpectationSuite to validate with: the committed file, or the contract's half alone."""
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    import reportpipe.validation.expectations  # noqa: F401  registers the custom expectations before they are named

    declared = committed(source) or expected(source)
    expectations = [
        ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta") or {},
                                 severity=e.get("severity", "critical")).to_domain_obj()
        for e in declared["expectations"]
    ]
    return ExpectationSuite(name=source.source_id, expectations=expectations, meta=declared.get("meta") or {})
