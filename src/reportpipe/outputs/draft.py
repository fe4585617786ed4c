"""The draft's text: the outline's sentences with the published figures filled in; as Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from reportpipe.contracts import figures
from reportpipe.offices import deployment
from reportpipe.outline import (
    DRAFT_TEMPLATE,
    NO_FIGURES,
    PLACEHOLDER,
    TemplateError,
    outline_of,
    report_title,
)
from reportpipe.outputs.numbers import APPROXIMATE, NOT_AVAILABLE, PROVISIONAL, REVISED, figure_text
from reportpipe.outputs.published import Published, provenance
from reportpipe.settings import TIMEZONE


@dataclass(frozen=True)
class Paragraph:
    """A section of the draft; `spans` say which figure each number came from."""

    part_heading: str
    section: str
    heading: str
    text: str
    spans: tuple[tuple[str, int, int], ...] = ()  # (figure_id, start, end) into text


def filled(text: str, pub: Published, section: str, approximate: dict[str, int] | None = None
           ) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """A template's text with its placeholders filled, and where each figure's value went."""
    by_id = {f.figure_id: f for f in pub.figures}
    text = "".join(line.strip() for line in text.splitlines())  # Chinese joins lines without spaces
    out, spans, at = [], [], 0
    for match in PLACEHOLDER.finditer(text):
        out.append(text[at:match.start()])
        name = match[1]
        if name == "year":
            out.append(str(pub.year))
        elif match[0].endswith(".label}"):  # the figure's name as the office calls it (offices file: labels)
            out.append(_label(name, pub, section))
        elif name in by_id:
            figure = by_id[name]
            if figure.section != section:
                raise TemplateError(f"{DRAFT_TEMPLATE.name}: section {section} names {name}, a figure of {figure.section}")
            start = sum(map(len, out))
            out.append(figure_text(figure.value, figure.unit, figure.marker_list, (approximate or {}).get(name)))
            spans.append((name, start, start + len(out[-1])))
        else:  # a figure not published for this year: say so rather than fail the whole draft
            out.append(NOT_AVAILABLE)
        at = match.end()
    out.append(text[at:])
    return "".join(out), tuple(spans)


def _label(figure_id: str, pub: Published, section: str) -> str:
    """A figure's label in the office's words: as published, or as declared when the year has no value of it."""
    figure = next((f for f in figures() if f.figure_id == figure_id), None)
    if figure is None or figure.section != section:
        raise TemplateError(f"{DRAFT_TEMPLATE.name}: section {section} names {figure_id}.label, not a figure of its own")
    published = next((f.label for f in pub.figures if f.figure_id == figure_id), None)
    return published or deployment().label(pub.office.id, figure_id, figure.label)


def draft(pub: Published) -> list[Paragraph]:
    """The draft's sections in the report's outline, each with its figures in the report's sentences."""
    # A figure no sentence names gets a plain sentence of its own: a figure added to
    # figures.yaml shows up in the draft before anyone writes its sentence.
    paragraphs = []
    for part_heading, sections in outline_of(pub.year, pub.sections):
        for s in sections:
            text, spans = filled(s.text, pub, s.section, s.approximate)
            named = {span[0] for span in spans}
            for f in pub.in_section(s.section):
                if f.figure_id not in named:
                    start = len(text) + len(f.label)
                    shown = figure_text(f.value, f.unit, f.marker_list)
                    text += f"{f.label}{shown}。"
                    spans += ((f.figure_id, start, start + len(shown)),)
            paragraphs.append(Paragraph(part_heading, s.section, s.heading, text or NO_FIGURES, spans))
    return paragraphs


def dated(pub: Published) -> str:
    """成文日期: the publication's day in Beijing, written out in full (2024年1月5日, no leading zeros)."""
    day = pub.published_at.astimezone(ZoneInfo(TIMEZONE))
    return f"{day.year}年{day.month}月{day.day}日"


def provenance_note(pub: Published, paragraphs: list[Paragraph]) -> str:
    """For the writer, beside the draft (never in its body): where its numbers come from and what 余, [p]
    and [r] mean."""
    lines = [f"{report_title(pub.office, pub.year)}（统计数据稿）", "",
             f"本稿统计数字由 reportpipe 自动填入，取自{provenance(pub)}。"]
    if any(APPROXIMATE in p.text[start:end] for p in paragraphs for _, start, end in p.spans):
        lines.append(f"带“{APPROXIMATE}”的数字为约数（精确值向下取整后加“{APPROXIMATE}”），精确值见统计数据工作簿。")
    provisional = sum(f.is_provisional for f in pub.figures)
    if provisional:
        lines.append(f"标有{PROVISIONAL}的{provisional}个数字为暂定数：其来源本年度尚有月份未载入或被拒收。")
    revised = sum(f.is_revised for f in pub.figures)
    if revised:
        lines.append(f"标有{REVISED}的{revised}个数字因某月数据重新提交而修订过。")
    return "\n".join(lines) + "\n"


def markdown_draft(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    """The draft as Markdown: title, part and section headings, one paragraph per section, signature and date."""
    lines = [f"# {report_title(pub.office, pub.year)}", ""]
    part = None
    for p in paragraphs:
        if p.part_heading != part:
            part = p.part_heading
            lines += [f"## {part}", ""]
        lines += [f"### {p.heading}", "", p.text, ""]
    lines += [pub.office.signature, "", dated(pub), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def provenance_file(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    path.write_text(provenance_note(pub, paragraphs), encoding="utf-8")
    return path
