"""The report's outline, as declared in transforms/report_draft.yaml: parts, sections, their sentences and
charts; and the title an office's report carries (its template in reportpipe.offices)."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reportpipe.offices import Office
from reportpipe.settings import TRANSFORMS_DIR

PLACEHOLDER = re.compile(r"\{(\w+)(?:\.label)?\}")  # a figure_id in a sentence: its value, or with .label its label
NO_FIGURES = "（本节无统计数据。）"
DRAFT_TEMPLATE = TRANSFORMS_DIR / "report_draft.yaml"


class TemplateError(ValueError):
    """report_draft.yaml does not say what the outputs need."""


@dataclass(frozen=True)
class Section:
    """A section of the report's outline: its heading, and its sentences if it reports figures."""

    section: str  # 一（四）, as report_figures.section
    heading: str  # （四）加强行政执法规范与效能建设
    text: str = ""
    approximate: dict[str, int] = field(default_factory=dict)  # figure_id → multiple it is rounded down to


@dataclass(frozen=True)
class Part:
    part: str  # 一
    heading: str  # with {year} and {next_year} to fill in
    sections: tuple[Section, ...]


@functools.cache
def draft_template(path: Path = DRAFT_TEMPLATE) -> dict:
    """The committed outline, sentence templates and chart declarations."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


TITLE_BREAK = "|"


def report_title(office: Office, year: int) -> str:
    """交道口街道2023年法治政府建设年度情况报告: the office's title template, filled in."""
    return "".join(title_words(office, year))


def title_words(office: Office, year: int) -> list[str]:
    """The title's words, the places where it may break: 交道口街道 | 2023年 | 法治政府建设 | 年度情况报告."""
    return office.title.format(name=office.name, year=year).split(TITLE_BREAK)


def width_in_characters(text: str) -> float:
    """A text's width in Chinese characters: a Latin letter or digit is half of one."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


def title_lines(office: Office, year: int, characters_per_line: float) -> list[str]:
    """The title as it is set: one line if it fits, else two that break between words and are as even
    as the words allow (GB/T 9704 7.3.1: 词意完整，排列对称)."""
    words = title_words(office, year)
    if width_in_characters("".join(words)) <= characters_per_line or len(words) == 1:
        return ["".join(words)]
    splits = [("".join(words[:i]), "".join(words[i:])) for i in range(1, len(words))]
    return list(min(splits, key=lambda s: abs(width_in_characters(s[0]) - width_in_characters(s[1]))))


@functools.cache
def outline() -> tuple[Part, ...]:
    """The report's parts and sections in order, as report_draft.yaml declares them (checked)."""
    parts = []
    for part, declared in draft_template()["outline"].items():
        sections = []
        for section, body in declared["sections"].items():
            text = body.get("text", "")
            approximate = body.get("approximate") or {}
            named = set(PLACEHOLDER.findall(text))
            for figure_id, multiple in approximate.items():
                if figure_id not in named:
                    raise TemplateError(f"{DRAFT_TEMPLATE.name}: {section} declares {figure_id} approximate but its text does not name it")
                if not isinstance(multiple, int) or multiple < 1:
                    raise TemplateError(f"{DRAFT_TEMPLATE.name}: {section}: {figure_id} must be rounded down to a whole multiple ≥ 1, not {multiple!r}")
            sections.append(Section(section, body["heading"], text, dict(approximate)))
        parts.append(Part(part, declared["heading"], tuple(sections)))
    return tuple(parts)


def outline_order() -> dict[str, int]:
    """Each declared section's position in the outline."""
    return {s.section: i for i, s in enumerate(s for p in outline() for s in p.sections)}


def template_order() -> dict[str, int]:
    """Each figure's position in the draft's sentences: the report's own order."""
    ids = [m for p in outline() for s in p.sections for m in PLACEHOLDER.findall(s.text)]
    return {figure_id: i for i, figure_id in enumerate(dict.fromkeys(i for i in ids if i != "year"))}


def outline_of(year: int, sections: list[str]) -> list[tuple[str, list[Section]]]:
    """The draft's parts (heading filled in) and sections: the outline, plus any section a figure names that it lacks."""
    # A figure whose section the outline lacks still reaches the draft: its section goes at the
    # end of its part (一（九） after 一（八）), or of the draft, headed by the section's name.
    parts = [(p.part, p.heading.format(year=year, next_year=year + 1), list(p.sections)) for p in outline()]
    declared = outline_order()
    for section in sections:
        if section not in declared:
            part = next((p for p in parts if section.startswith(p[0] + "（")), None)
            if part is None:
                part = (section, section, [])
                parts.append(part)
            part[2].append(Section(section, section))
    return [(heading, sections) for _, heading, sections in parts]
