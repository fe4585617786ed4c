"""The draft a writer hands up without fixing anything by hand: its title, its signature and date,
no provenance in its text, 余 only where it is true. Rendered by LibreOffice where the layout counts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import docx
import pytest

from reportpipe.offices import deployment
from reportpipe.outline import report_title, title_lines, title_words, width_in_characters
from reportpipe.outputs.docx import CHARS, MARGIN_LEFT_MM, TITLE_PT, TYPE_AREA_MM
from reportpipe.outputs.numbers import figure_text
from reportpipe.outputs.published import publication_time

YEAR = 2023
MM = 72 / 25.4
RIGHT_EDGE = (MARGIN_LEFT_MM + TYPE_AREA_MM[0]) * MM  # of the type area, in points
CHARACTER = TYPE_AREA_MM[0] * MM / CHARS  # a character of the body's grid


@pytest.mark.parametrize("value, multiple, written", [
    (97, 10, "90余件"),  # more than 90: 余
    (90, 10, "90件"),  # exactly 90: no 余
    (2502, 1, "2502件"),  # exact already
    (1534, 100, "1500余件"),
    (7, 10, "7件"),  # below the multiple "0余" would say nothing
])
def test_yu_is_written_only_where_the_exact_value_is_more(value, multiple, written):
    assert figure_text(value, "件", approximate=multiple) == written


def test_a_title_too_long_for_one_line_breaks_between_words_into_even_lines():
    words = title_words(deployment().office(), YEAR)
    assert len(words) > 1 and report_title(deployment().office(), YEAR) == "".join(words)
    assert title_lines(deployment().office(), YEAR, 100) == [report_title(deployment().office(), YEAR)]
    first, second = title_lines(deployment().office(), YEAR, width_in_characters(report_title(deployment().office(), YEAR)) - 1)
    # Each line is whole words, and no other break between words gives two more even lines.
    assert first + second == report_title(deployment().office(), YEAR) and first in ["".join(words[:i]) for i in range(1, len(words))]
    best = min(abs(width_in_characters("".join(words[:i])) - width_in_characters("".join(words[i:])))
               for i in range(1, len(words)))
    assert abs(width_in_characters(first) - width_in_characters(second)) == best


def lines_of(words, page: int) -> list[tuple[float, float, float, str]]:
    """A page's printed lines: (left, right, top, text), top to bottom."""
    rows: dict[float, list] = {}
    for p, left, right, top, text in words:
        if p == page:
            rows.setdefault(round(top), []).append((left, right, text))
    return [(min(w[0] for w in ws), max(w[1] for w in ws), top, "".join(w[2] for w in sorted(ws)))
            for top, ws in sorted(rows.items())]


def test_the_title_is_centred_in_lines_of_whole_words(printed):
    lines = lines_of(printed["draft_words"], 1)
    expected = title_lines(deployment().office(), YEAR, TYPE_AREA_MM[0] * MM / TITLE_PT - 1)
    title = lines[:len(expected)]
    assert [t for *_, t in title] == expected  # printed as set: no line breaks inside a word
    centre = (MARGIN_LEFT_MM + TYPE_AREA_MM[0] / 2) * MM
    for left, right, _, text in title:
        assert abs((left + right) / 2 - centre) < 3, text  # centred, no first-line indent


def test_the_signature_and_its_date_close_the_draft_as_gbt_9704_lays_them_out(printed, demo_warehouse):
    import duckdb

    with duckdb.connect(str(demo_warehouse / "report.duckdb"), read_only=True) as con:
        published_at, _ = publication_time(con)
    day = published_at.astimezone(ZoneInfo("Asia/Shanghai"))
    last_page = max(p for p, *_ in printed["draft_words"])
    *_, (_, name_right, _, name), (_, date_right, _, date) = lines_of(printed["draft_words"], last_page)[:-1]
    assert (name, date) == (deployment().office().signature, f"{day.year}年{day.month}月{day.day}日")
    assert abs(RIGHT_EDGE - name_right - 2 * CHARACTER) < 2  # 右空二字
    # The date ends where, in the 公文 fonts (digits half a character), it starts two characters right of
    # the signature (LibreOffice's substitute font sets digits wider: where it starts is not comparable).
    assert abs(RIGHT_EDGE - date_right - (width_in_characters(name) - width_in_characters(date)) * CHARACTER) < 2


def test_where_the_numbers_come_from_is_beside_the_draft_not_in_it(printed, demo_report, demo_warehouse):
    document = docx.Document(printed["docx"])
    body = "\n".join(p.text for p in document.paragraphs)
    for provenance in ("reportpipe", "report.duckdb", "SHA-256", "自动填入"):
        assert provenance not in body
    assert "report.duckdb" in document.core_properties.comments and "SHA-256" in document.core_properties.comments
    (sources,) = [p for p in demo_report["paths"] if p.name.endswith("_sources.txt")]
    assert "SHA-256" in sources.read_text(encoding="utf-8")
    # Converted to PDF in one folder, no two outputs become the same file.
    stems = [p.stem for p in demo_report["paths"]]
    assert len(stems) == len(set(stems))


# Where the draft cannot say it as the report did, and why.
UNLIKE_THE_REPORT = {
    "rules_made": "the report names the rules and counts them in words (等七项制度)",
    "lawsuits_withdrawn": "the report writes 两件; the draft's numbers are digits (the number rule)",
    "disaster_kits": "the report counts the 信息员 who got a kit (10名); the figure counts the kits (个)",
}


def test_each_figure_is_written_in_the_form_the_2023_report_gives_it():
    """Filled with the 2023 report's own numbers, every sentence reads as the report's around each number:
    the number with its unit, the two characters before it and those after it up to a punctuation mark
    stand in the report as they are."""
    import csv
    import re

    from reportpipe.outline import PLACEHOLDER, outline
    from reportpipe.settings import PROJECT_DIR

    reference = PROJECT_DIR / "reference"
    with (reference / "figures_2023.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    printed = {r["figure_id"]: f"{r['value']}{r['approx']}{r['unit']}" for r in rows}
    labels = {r["figure_id"]: r["label"] for r in rows}

    def fill(m) -> str:
        if m[0].endswith(".label}"):
            return labels[m[1]]
        return printed.get(m[1], str(YEAR) if m[1] == "year" else m[0])

    report = re.sub(r"\s", "", (reference / "2023_report_jiaodaokou.txt").read_text(encoding="utf-8"))
    unlike = []
    for part in outline():
        for section in part.sections:
            text = "".join(line.strip() for line in section.text.splitlines())
            filled = PLACEHOLDER.sub(fill, text)
            for figure_id in PLACEHOLDER.findall(text):
                if figure_id == "year":
                    continue
                at = filled.find(printed[figure_id])
                after = re.match(r"[^，。；、]{0,2}", filled[at + len(printed[figure_id]):])[0]
                context = filled[max(at - 2, 0):at + len(printed[figure_id])] + after
                if context not in report and figure_id not in UNLIKE_THE_REPORT:
                    unlike.append(f"{figure_id}: {context}")
    assert unlike == [], "\n".join(unlike)


def test_each_chart_has_one_unit_and_prints_at_300_dpi(demo_report):
    from PIL import Image

    from reportpipe.contracts import figures
    from reportpipe.outline import draft_template

    units = {f.figure_id: f.unit for f in figures()}
    for spec in draft_template()["charts"]:
        assert len({units[i] for i in spec["figures"]}) == 1, spec["name"]
    charts = [p for p in demo_report["paths"] if p.suffix == ".png"]
    assert len(charts) == len(draft_template()["charts"])
    for path in charts:
        with Image.open(path) as image:
            assert [round(d) for d in image.info["dpi"]] == [300, 300], path.name
            assert image.width >= 2000, path.name  # 8 inches at 300 dpi


def test_a_chart_mixing_units_is_refused_by_name(demo_warehouse, monkeypatch, tmp_path):
    from reportpipe.outline import TemplateError
    from reportpipe.outputs import charts
    from reportpipe.outputs.published import published

    mixed = {"name": "mixed", "title": "混合", "figures": ["cases_general", "cases_simple"]}  # 卷 and 件
    with pytest.raises(TemplateError, match="chart mixed mixes the units 件、卷"):
        charts.chart(published(YEAR, demo_warehouse, deployment().office()), mixed, tmp_path / "mixed.png")


def test_report_figures_sort_as_the_report_reads(demo_warehouse):
    """ORDER BY section_position, figure_position follows the outline, and within a section its sentences."""
    import duckdb

    from reportpipe.outline import PLACEHOLDER, outline

    with duckdb.connect(str(demo_warehouse / "report.duckdb"), read_only=True) as con:
        ordered = [r[0] for r in con.execute("SELECT figure_id FROM report_figures WHERE year = ?"
                                             " ORDER BY section_position, figure_position", [YEAR]).fetchall()]
    in_sentences = [i for p in outline() for s in p.sections for i in PLACEHOLDER.findall(s.text) if i != "year"]
    assert ordered == list(dict.fromkeys(in_sentences))  # every 2023 figure is named by a sentence
    assert ordered[:2] == ["study_office_meeting_sessions", "study_group_sessions"]  # 一（一） first, not 一（七）
