"""The sources' contracts and figures, read from `transforms/<source_id>/`.

Each source folder holds `source.yaml` (file prefix, columns with their English
names, meanings, units, types and personal data), `figures.yaml` (the report figures it feeds) and optionally
`fct_<source_id>.sql` (its business table); its validation rules are the GX suite
`expectations/suites/<source_id>.json`. Adding an export means adding files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reportpipe.settings import TRANSFORMS_DIR

TYPES = ("text", "integer", "number", "date", "datetime", "yesno")


@dataclass(frozen=True)
class Column:
    name: str  # as delivered (Chinese)
    column: str  # in the warehouse (English snake_case)
    type: str
    key: bool = False
    pii: str | None = None  # SQL condition under which the value is personal; "true" = always
    description: str = ""  # its meaning in English, for the data dictionary
    unit: str | None = None


@dataclass(frozen=True)
class Figure:
    figure_id: str
    source_id: str
    section: str
    label: str
    unit: str
    definition: str
    kind: str  # count | sum | rate
    expression: str  # count: condition; sum: summed expression; rate: numerator condition
    where: str = "true"
    denominator: str | None = None


@dataclass(frozen=True)
class Source:
    source_id: str
    title: str
    description: str
    file_prefix: str
    reference_date: str
    columns: tuple[Column, ...]
    figures: tuple[Figure, ...] = field(default=())
    fct_sql: str | None = None

    @property
    def key(self) -> Column:
        return next(c for c in self.columns if c.key)

    def column(self, english: str) -> Column:
        return next(c for c in self.columns if c.column == english)


def _column(raw: dict) -> Column:
    pii = raw.get("pii")
    if pii is True:
        pii = "true"
    if raw["type"] not in TYPES:
        raise ValueError(f"column {raw['name']}: unknown type {raw['type']!r}")
    return Column(
        name=raw["name"],
        column=raw["column"],
        type=raw["type"],
        key=bool(raw.get("key")),
        pii=pii or None,
        description=str(raw.get("description", "")),
        unit=raw.get("unit"),
    )


def _figure(source_id: str, raw: dict) -> Figure:
    common = {k: str(raw[k]) for k in ("figure_id", "section", "label", "unit", "definition")}
    where = str(raw.get("where", "true"))
    if "count" in raw:
        return Figure(source_id=source_id, kind="count", expression=str(raw["count"]), where=where, **common)
    if "sum" in raw:
        return Figure(source_id=source_id, kind="sum", expression=str(raw["sum"]), where=where, **common)
    rate = raw["rate"]
    return Figure(
        source_id=source_id,
        kind="rate",
        expression=str(rate["numerator"]),
        denominator=str(rate["denominator"]),
        where=where,
        **common,
    )


def _load_source(folder: Path) -> Source:
    raw = yaml.safe_load((folder / "source.yaml").read_text(encoding="utf-8"))
    source_id = raw["source_id"]
    if source_id != folder.name:
        raise ValueError(f"{folder}/source.yaml declares source_id {source_id!r}")
    figures_file = folder / "figures.yaml"
    figures = yaml.safe_load(figures_file.read_text(encoding="utf-8")) if figures_file.exists() else []
    fct_file = folder / f"fct_{source_id}.sql"
    source = Source(
        source_id=source_id,
        title=raw["title"],
        description=raw["description"],
        file_prefix=raw["file_prefix"],
        reference_date=raw["reference_date"],
        columns=tuple(_column(c) for c in raw["columns"]),
        figures=tuple(_figure(source_id, f) for f in figures or []),
        fct_sql=fct_file.read_text(encoding="utf-8") if fct_file.exists() else None,
    )
    if sum(c.key for c in source.columns) != 1:
        raise ValueError(f"{source_id}: exactly one column must be the key")
    source.column(source.reference_date)  # raises when the reference date is not a column
    return source


@functools.cache
def sources(transforms_dir: Path = TRANSFORMS_DIR) -> dict[str, Source]:
    """All sources by id, in a stable order."""
    found = {}
    for folder in sorted(p.parent for p in transforms_dir.glob("*/source.yaml")):
        source = _load_source(folder)
        found[source.source_id] = source
    return found


def figures() -> list[Figure]:
    """Every report figure, in source order."""
    return [f for s in sources().values() for f in s.figures]
