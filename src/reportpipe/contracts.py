"""The sources' contracts and figures, read and checked from `transforms/<source_id>/`.

Each source folder holds `source.yaml` (file prefix, columns with their English names,
types, required cells, value sets, personal data, meanings and units, history checks),
`figures.yaml` (the report figures it feeds) and optionally `fct_<source_id>.sql` (its
business table). A contract is the single source of truth of a source's shape: the
staging models (reportpipe.warehouse.models) and the structural half of its Great Expectations
suite (reportpipe.validation.suites) are generated from it. Adding an export means adding a folder.

Names from a contract are pasted into SQL, so they are checked when it is loaded: a
broken file is one ContractError naming the file and the field.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reportpipe import settings
from reportpipe.offices import deployment
from reportpipe.settings import TRANSFORMS_DIR

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
ColumnType = Literal["text", "integer", "number", "date", "datetime", "yesno"]
# SPEC: "Text cells may carry leading or trailing spaces, and full-width spaces": what trimming removes.
BLANKS = " \t\r\n\u3000\u00a0\ufeff"


class ContractError(ValueError):
    """A file under transforms/ does not declare what it must; names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    name: str = Field(min_length=1)  # as delivered (Chinese)
    column: Identifier  # in the warehouse
    type: ColumnType
    key: bool = False
    required: bool = False  # every record has a value (the key always does)
    values: tuple[str, ...] | None = None  # the allowed values, when the contract lists them
    value_set: str | None = None  # the office's value set they are, when the contract names one (`values: communities`)
    # Personal data: None (not personal), "true" (always; `pii: true` in YAML) or the SQL condition over
    # the typed columns under which a value is personal.
    pii: str | None = None
    description: str = ""  # its meaning in English, for the data dictionary
    unit: str | None = None

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if name != name.strip() or any(ord(c) < 32 or c == '"' for c in name):
            raise ValueError("a delivered column name has no surrounding spaces, quotes or control characters")
        return name

    @field_validator("pii", mode="before")
    @classmethod
    def _pii_condition(cls, pii: bool | str | None) -> str | None:
        if pii is True:
            return "true"
        return pii or None

    @property
    def is_required(self) -> bool:
        return self.required or self.key


class Volume(_Strict):
    by: tuple[Identifier, ...] = ()  # categorical columns whose counts are compared too
    low: float = Field(0.5, gt=0, lt=1)  # flagged below low × the trailing median
    high: float = Field(2.0, gt=1)  # flagged above high × the trailing median
    min_median: int = Field(20, ge=0)  # a median this small is too noisy to flag one more or one less


class History(_Strict):
    due_day: int = Field(10, ge=1, le=28)  # the export of month M is due by this day of month M+1
    volume: Volume = Volume()


class Figure(_Strict):
    figure_id: Identifier
    source_id: Identifier
    section: str
    label: str
    unit: str
    definition: str
    caliber: str = Field(min_length=1)  # the definition in plain Chinese, for readers of the workbook
    kind: Literal["count", "sum", "rate"]
    expression: str  # count: condition; sum: summed expression; rate: numerator condition
    where: str = "true"
    denominator: str | None = None


class Source(_Strict):
    source_id: Identifier
    title: str
    description: str
    file_prefix: str = Field(min_length=1)
    reference_date: Identifier
    columns: tuple[Column, ...] = Field(min_length=1)
    history: History = History()
    figures: tuple[Figure, ...] = ()
    fct_sql: str | None = None

    @field_validator("file_prefix")
    @classmethod
    def _prefix_is_a_name(cls, prefix: str) -> str:
        if re.search(r"[\\/\x00-\x1f]|\.\.", prefix):
            raise ValueError("a file prefix holds no path separators, '..' or control characters")
        return prefix

    @model_validator(mode="after")
    def _consistent(self) -> Source:
        for attribute in ("name", "column"):
            names = [getattr(c, attribute) for c in self.columns]
            if len(set(names)) != len(names):
                raise ValueError(f"column {attribute}s must be unique: {names}")
        keys = [c.column for c in self.columns if c.key]
        if len(keys) != 1:
            raise ValueError(f"exactly one column must be the key (key: true), found {keys or 'none'}")
        types = {c.column: c.type for c in self.columns}
        if types.get(self.reference_date) not in ("date", "datetime"):
            raise ValueError(f"reference_date {self.reference_date!r} must name a date or datetime column")
        for c in self.columns:
            if c.values is not None and c.type != "text":
                raise ValueError(f"column {c.column}: values are for text columns")
        for column in self.history.volume.by:
            if column not in types:
                raise ValueError(f"history.volume.by names {column!r}, which is not a column")
        return self

    @property
    def key(self) -> Column:
        return next(c for c in self.columns if c.key)

    def column(self, english: str) -> Column:
        return next(c for c in self.columns if c.column == english)


def _located(error: ValidationError, path: Path) -> ContractError:
    """One message naming the file and, for each problem, the field (a rule of the whole file has none)."""
    problems = [" → ".join(map(str, e["loc"])) + ": " + e["msg"].removeprefix("Value error, ") if e["loc"]
                else e["msg"].removeprefix("Value error, ") for e in error.errors()]
    return ContractError(f"{path}: " + "; ".join(problems))


def _yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ContractError(f"{path}: {e}") from None


def _figure(source_id: str, raw: dict) -> dict:
    """figures.yaml's `count:`/`sum:`/`rate:` entry as Figure fields."""
    raw = dict(raw)
    for kind in ("count", "sum"):
        if kind in raw:
            expression = str(raw.pop(kind))
            return {**raw, "source_id": source_id, "kind": kind, "expression": expression}
    rate = raw.pop("rate", None)
    if not isinstance(rate, dict):
        raise ValueError(f"figure {raw.get('figure_id')!r} needs one of count:, sum: or rate: {{numerator, denominator}}")
    return {**raw, "source_id": source_id, "kind": "rate", "expression": str(rate.get("numerator")),
            "denominator": str(rate.get("denominator"))}


def load_source(folder: Path, value_sets: dict[str, tuple[str, ...]]) -> Source:
    path = folder / "source.yaml"
    raw = _yaml(path)
    if not isinstance(raw, dict):
        raise ContractError(f"{path}: not a mapping of fields")
    if raw.get("source_id") != folder.name:
        raise ContractError(f"{path}: source_id: {raw.get('source_id')!r} must be the folder's name {folder.name!r}")
    for i, column in enumerate(raw.get("columns") or []):
        named = column.get("values") if isinstance(column, dict) else None
        if isinstance(named, str):
            if named not in value_sets:
                raise ContractError(f"{path}: columns → {i} → values: no value set {named!r}: an office's value sets"
                                    f" are {', '.join(value_sets)} (reportpipe.offices)")
            column["values"], column["value_set"] = value_sets[named], named
    figures_path = folder / "figures.yaml"
    try:
        figures = [_figure(folder.name, f) for f in (_yaml(figures_path) if figures_path.exists() else None) or []]
    except (TypeError, ValueError) as e:
        raise ContractError(f"{figures_path}: {e}") from None
    fct = folder / f"fct_{folder.name}.sql"
    try:
        return Source(**raw, figures=figures, fct_sql=fct.read_text(encoding="utf-8") if fct.exists() else None)
    except ValidationError as e:
        raise _located(e, figures_path if any(err["loc"][:1] == ("figures",) for err in e.errors()) else path) from None
    except TypeError as e:
        raise ContractError(f"{path}: {e}") from None


def sources(office_id: str | None = None, transforms_dir: Path = TRANSFORMS_DIR) -> dict[str, Source]:
    """All sources by id, in a stable order, with the value sets of an office (the first declared one
    when none is named: the sources' shape is the same for every office)."""
    found = _sources(transforms_dir, tuple(deployment().office(office_id).value_sets().items()))
    _check_labels(found)
    return found


def _check_labels(found: dict[str, Source]) -> None:
    """An office may rename only figures that exist: a typo in the offices file is refused by name."""
    from reportpipe.offices import OfficesError

    declared = {f.figure_id for s in found.values() for f in s.figures}
    for i, office in enumerate(deployment().offices):
        unknown = sorted(set(office.labels) - declared)
        if unknown:
            raise OfficesError(f"{settings.offices_file()}: offices → {i} → labels → {unknown[0]}: no figure"
                               f" {unknown[0]!r} (the figures are in {TRANSFORMS_DIR}/*/figures.yaml)")


@functools.cache
def _sources(transforms_dir: Path, value_set_items: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, Source]:
    value_sets = dict(value_set_items)
    found = {}
    for folder in sorted(p.parent for p in transforms_dir.glob("*/source.yaml")):
        found[folder.name] = load_source(folder, value_sets)
    declared: dict[str, list[str]] = {}
    for s in found.values():
        for f in s.figures:
            declared.setdefault(f.figure_id, []).append(str(transforms_dir / s.source_id / "figures.yaml"))
    twice = {figure_id: files for figure_id, files in declared.items() if len(files) > 1}
    if twice:
        raise ContractError("; ".join(f"figure_id {figure_id} is declared in more than one file: {' and '.join(files)}"
                                      for figure_id, files in sorted(twice.items())))
    return found


def figures() -> list[Figure]:
    """Every report figure, in source order."""
    return [f for s in sources().values() for f in s.figures]
