"""Rows for a source added since the 2023 report, from its contract alone: adding a source is adding a
folder under transforms/, demo data included."""

from __future__ import annotations

import random

from reportpipe.contracts import Column, Source
from reportpipe.demo.values import day_in, moment_in, month_slots, person

CONTRACT_ROWS_PER_MONTH = 30
CONTRACT_EMPTY = 0.1


def contract_cell(column: Column, year: int, month: int, rng: random.Random):
    """A value the contract allows in the column, in the given month where it is a date."""
    if column.values is not None:
        return rng.choice(column.values)
    if column.type == "text":
        return person(rng) if column.pii else f"{column.name}{rng.randint(1, 99)}"
    if column.type == "integer":
        return rng.randint(1, 20)  # a count or a quantity: SPEC's counts are positive
    if column.type == "number":
        return f"{rng.uniform(1, 1000):.2f}"
    if column.type == "yesno":
        return rng.choice(("是", "否"))
    return day_in(year, month, rng) if column.type == "date" else moment_in(year, month, rng)


def from_contract(source: Source, year: int, rng: random.Random) -> list[dict]:
    """A year of rows for a source without a generator, from its contract alone: cells of each column's
    type and value set, optional ones empty now and then, the reference date in the row's month, a
    running key unique across years."""
    key = source.key
    rows = []
    for month in month_slots(12 * CONTRACT_ROWS_PER_MONTH, rng):
        rows.append({c.name: None if c.key or (not c.is_required and c.column != source.reference_date
                                                and rng.random() < CONTRACT_EMPTY)
                     else contract_cell(c, year, month, rng) for c in source.columns})
    rows.sort(key=lambda r: r[source.column(source.reference_date).name])
    for i, row in enumerate(rows, 1):
        row[key.name] = year * 100_000 + i if key.type == "integer" else f"{source.file_prefix}-{year}-{i:05d}"
    return rows


