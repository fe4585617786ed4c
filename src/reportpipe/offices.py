"""Who publishes: the offices (subdistricts) a deployment serves and, optionally, their district.

One file says it (REPORTPIPE_OFFICES, default transforms/offices.yaml): each office's id, name
and communities, and what its draft is signed with. The contracts are shared; what belongs to
an office comes from here: its communities are the `communities` value set of its exports, its
mediation committees (`committees`) follow from them, its name goes on its titles and covers.

Where an office's work lives: a deployment of one office and no district keeps today's layout
(the warehouse folder is the office's); otherwise each office has `<warehouse>/offices/<id>/`,
with its own lock, work.duckdb and published report.duckdb, and `<warehouse>/report.duckdb`
holds every office and the district.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reportpipe import settings

OfficeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
OFFICES_FOLDER = "offices"
STREET_COMMITTEE = "街道人民调解委员会"


class OfficesError(ValueError):
    """The offices file does not declare what it must; names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Office(_Strict):
    id: OfficeId
    name: str = Field(min_length=1)
    communities: tuple[str, ...] = Field(min_length=1)
    # The draft's title (GB/T 9704: 发文机关 + 事由 + 文种); {name} and {year} are filled in. A | marks where
    # the title may break when it needs two lines (between words: GB/T 9704 7.3.1); it is not printed.
    title: str = "{name}|{year}年|法治政府建设|年度情况报告"
    signature: str  # 发文机关署名, above the draft's date: "<name>办事处" unless said
    producer: str  # the documents' author: "<name>法治政府建设领导小组办公室" unless said
    contact: str  # where questions go: "<producer>（司法所）" unless said
    users: tuple[str, ...] = ()  # the Airflow users who may see this office's pages on the operator's page
    # The office's own name for a figure, by figure_id, where figures.yaml's label is generic and the office
    # calls it by a name of its own (交道口's 政企交流活动 are its “交道口·南锣会客厅”): its tables and draft use it.
    labels: dict[str, Annotated[str, Field(min_length=1)]] = {}

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, raw):
        if isinstance(raw, dict) and raw.get("name"):
            producer = raw.get("producer") or f"{raw['name']}法治政府建设领导小组办公室"
            raw = {"signature": f"{raw['name']}办事处", "contact": f"{producer}（司法所）", **raw, "producer": producer}
        return raw

    @model_validator(mode="after")
    def _distinct_communities(self) -> Office:
        if len(set(self.communities)) != len(self.communities) or not all(c.strip() for c in self.communities):
            raise ValueError(f"office {self.id}: communities must be distinct names")
        return self

    def value_sets(self) -> dict[str, tuple[str, ...]]:
        """The office's own value sets, named by the contracts' `values:`."""
        return {"communities": self.communities,
                "committees": (STREET_COMMITTEE, *(f"{c}人民调解委员会" for c in self.communities))}


class District(_Strict):
    id: OfficeId
    name: str = Field(min_length=1)
    users: tuple[str, ...] = ()  # the Airflow users who may see every office and the district


class Deployment(_Strict):
    district: District | None = None
    offices: tuple[Office, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Deployment:
        ids = [o.id for o in self.offices] + ([self.district.id] if self.district else [])
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"ids must be distinct (offices and the district): {', '.join(twice)} more than once")
        return self

    def label(self, office_id: str, figure_id: str, label: str) -> str:
        """A figure's label as an office (or, with its generic label, the district) publishes it."""
        own = next((o.labels for o in self.offices if o.id == office_id), {})
        return own.get(figure_id, label)

    @property
    def single(self) -> bool:
        """One office and no district: the warehouse folder is the office's own."""
        return len(self.offices) == 1 and self.district is None

    def office(self, office_id: str | None = None) -> Office:
        """The declared office (the first one when none is named)."""
        if office_id is None:
            return self.offices[0]
        for office in self.offices:
            if office.id == office_id:
                return office
        raise LookupError(f"no office {office_id!r}: the offices are {', '.join(o.id for o in self.offices)}")

    def folder(self, warehouse_dir: Path, office_id: str) -> Path:
        """Where an office's warehouse lives."""
        self.office(office_id)
        return Path(warehouse_dir) if self.single else Path(warehouse_dir) / OFFICES_FOLDER / office_id

    def visible_to(self, user: str, is_admin: Callable[[], bool] = lambda: False) -> list[str]:
        """The offices (and the district, by its id) a user of the operator's page may see: all for an Airflow
        admin or a district user; else the offices that grant the user. A deployment that grants no one
        anything shows everything to every user Airflow lets in (one office, as before there were grants)."""
        everything = [o.id for o in self.offices] + ([self.district.id] if self.district else [])
        granted = any(o.users for o in self.offices) or (self.district is not None and bool(self.district.users))
        if not granted or (self.district is not None and user in self.district.users) or is_admin():
            return everything
        return [o.id for o in self.offices if user in o.users]

    @property
    def publisher_id(self) -> str:
        """Whose figures `<warehouse>/report.duckdb` leads with: the district's, or the one office's."""
        return self.district.id if self.district else self.offices[0].id


@functools.cache
def load(path: Path) -> Deployment:
    """The offices file at `path`, checked."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise OfficesError(f"{path}: {e}") from None
    try:
        return Deployment.model_validate(raw if isinstance(raw, dict) else {"offices": raw})
    except ValidationError as e:
        problems = [" → ".join(map(str, err["loc"])) + ": " + err["msg"].removeprefix("Value error, ") if err["loc"]
                    else err["msg"].removeprefix("Value error, ") for err in e.errors()]
        raise OfficesError(f"{path}: " + "; ".join(problems)) from None


def deployment() -> Deployment:
    """The offices and district of this deployment (REPORTPIPE_OFFICES)."""
    return load(settings.offices_file().resolve())
