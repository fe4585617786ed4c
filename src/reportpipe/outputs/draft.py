"""The draft's text: the outline's sentences with the published figures filled in; as Markdown."""

from __future__ import annotations

from pathlib import Path

from reportpipe.outputs.numbers import APPROXIMATE, NOT_AVAILABLE, PROVISIONAL, REVISED, figure_text
from reportpipe.outputs.outline import (
    DRAFT_TEMPLATE,
    NO_FIGURES,
    PLACEHOLDER,
    Paragraph,
    TemplateError,
    outline_of,
    report_title,
)
from reportpipe.outputs.published import Published, provenance


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


def closing_note(pub: Published, paragraphs: list[Paragraph]) -> str:
    """The draft's last paragraph: where its numbers come from and what 余, [p] and [r] mean."""
    note = f"（本稿统计数字由 reportpipe 自动填入，取自{provenance(pub)}。"
    if any(APPROXIMATE in p.text[start:end] for p in paragraphs for _, start, end in p.spans):
        note += f"带“{APPROXIMATE}”的数字为约数（精确值向下取整后加“{APPROXIMATE}”），精确值见统计数据工作簿。"
    provisional = sum(f.is_provisional for f in pub.figures)
    if provisional:
        note += f"标有{PROVISIONAL}的{provisional}个数字为暂定数：其来源本年度尚有月份未载入或被拒收。"
    revised = sum(f.is_revised for f in pub.figures)
    if revised:
        note += f"标有{REVISED}的{revised}个数字因某月数据重新提交而修订过。"
    return note + "）"


def markdown_draft(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    """The draft as Markdown: title, part and section headings, one paragraph per section, the closing note."""
    lines = [f"# {report_title(pub.year)}", ""]
    part = None
    for p in paragraphs:
        if p.part_heading != part:
            part = p.part_heading
            lines += [f"## {part}", ""]
        lines += [f"### {p.heading}", "", p.text, ""]
    lines += [closing_note(pub, paragraphs), ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
