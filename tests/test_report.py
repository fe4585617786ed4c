"""The report-ready outputs (reportpipe.outputs): workbook, Markdown and DOCX draft, charts.

Expected values always come from report.duckdb itself, never from constants: the
outputs must show exactly what is published. The demo warehouse is only read (its
outputs are written once per session, `demo_report`); the markers, the year-over-year
columns, formula injection and the publication time are checked on a copy of its
report.duckdb changed by SQL. How the outputs print is in test_report_print.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
import pytest

from reportpipe.contracts import figures as contract_figures
from reportpipe.offices import deployment, load
from reportpipe.outline import (
    NO_FIGURES,
    TemplateError,
    draft_template,
    outline,
    report_title,
    template_order,
)
from reportpipe.outputs.charts import cjk_font
from reportpipe.outputs.docx import docx_draft
from reportpipe.outputs.draft import draft, filled, markdown_draft
from reportpipe.outputs.numbers import (
    APPROXIMATE,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    PROVISIONAL,
    REVISED,
    approximation_rule,
)
from reportpipe.outputs.published import published
from reportpipe.outputs.reports import publish_reports
from reportpipe.outputs.spreadsheet import NO_SHEET, sheet_name
from reportpipe.outputs.workbook import workbook
from reportpipe.settings import TIMEZONE
from tests.helpers import cli, figures_of, open_report, output, read_report, table_of
from tests.project import REFERENCE_FIGURES

YEAR = 2023
INJECTED = '=HYPERLINK("http://x","y")'
PUBLISHED_AT = dt.datetime(2024, 1, 8, 1, 30, tzinfo=dt.timezone.utc)  # the changed copy's publication
# A figure as the draft writes it: the number (N余 when approximate, — without a value), unit, markers.
DRAFT_NUMBER = re.compile(r"^(—|\d+(?:\.\d+)?)(余?)")


def revised_ids(warehouse: Path, year: int = YEAR) -> set[str]:
    return {r[0] for r in read_report(warehouse, "SELECT figure_id FROM figure_revisions WHERE year = ?", [year])}


def shown(value):
    """What a workbook cell must hold for a figure value: the number, or [x] when there is none."""
    return NOT_AVAILABLE if value is None else value


def write_with_cli(warehouse: Path, out: Path) -> list[Path]:
    """Run `reportpipe report` and return the paths it printed."""
    written = cli("report", "--year", YEAR, "--out", out, "--warehouse", warehouse)
    assert written.code == 0
    return [Path(line) for line in written.out.splitlines()]


@pytest.fixture(scope="module")
def changed(demo_warehouse, tmp_path_factory):
    """A copy of the demo's report.duckdb where one source is provisional, two figures were revised,
    one label is a formula, one figure has no sentence, the previous year holds three figures and the
    publication is recorded in the `publication` table; and its outputs."""
    warehouse = tmp_path_factory.mktemp("changed_warehouse")
    shutil.copy(demo_warehouse / "report.duckdb", warehouse / "report.duckdb")
    figures = figures_of(warehouse)
    counts = sorted(i for i, f in figures.items() if f["unit"] != "%" and f["value"])
    rate = sorted(i for i, f in figures.items() if f["unit"] == "%" and f["value"] is not None)[0]
    provisional_source = figures[counts[0]]["source_id"]
    plan = {
        "provisional_source": provisional_source,
        "revised": [i for i in counts if figures[i]["source_id"] != provisional_source][:2],
        "injected": counts[-1],
        "previous": {counts[1]: figures[counts[1]]["value"] + 7, counts[2]: 0.0, rate: figures[rate]["value"] - 12.5},
    }
    with duckdb.connect(str(warehouse / "report.duckdb")) as con:
        con.execute("UPDATE report_figures SET is_provisional = true WHERE source_id = ?", [provisional_source])
        for figure_id in plan["revised"]:
            con.execute(
                "INSERT INTO figure_revisions SELECT year, figure_id, value - 1, value, 'x_v2.csv', now(), office_id"
                " FROM report_figures WHERE figure_id = ?", [figure_id]
            )
        con.execute("UPDATE report_figures SET label = ? WHERE figure_id = ?", [INJECTED, plan["injected"]])
        # A figure no sentence of the template names (as when figures.yaml gains one).
        con.execute(
            "INSERT INTO report_figures SELECT * REPLACE ('unsentenced' AS figure_id, '未写入句子的指标' AS label)"
            " FROM report_figures WHERE figure_id = ?", [counts[3]]
        )
        for figure_id, previous in plan["previous"].items():
            con.execute(
                "INSERT INTO report_figures SELECT * REPLACE (year - 1 AS year, ? AS value)"
                " FROM report_figures WHERE figure_id = ?", [previous, figure_id]
            )
        con.execute("UPDATE publication SET published_at = ?, content_sha256 = ?", [PUBLISHED_AT, "ab" * 32])
    paths = write_with_cli(warehouse, tmp_path_factory.mktemp("changed_report"))
    return {"warehouse": warehouse, "paths": paths, **plan}


def section_sheets(wb, figures: dict[str, dict]) -> list:
    return [wb[sheet_name(s)] for s in sorted({f["section"] for f in figures.values()})]


def outline_sections() -> list[tuple[str, str, str]]:
    """(part heading, section, section heading) of report_draft.yaml's outline, in order."""
    return [(p.heading, s.section, s.heading) for p in outline() for s in p.sections]


def approximate_multiples() -> dict[str, int]:
    return {i: m for p in outline() for s in p.sections for i, m in s.approximate.items()}


# ---------------------------------------------------------------- workbook


def test_the_cli_prints_every_file_it_wrote_without_changing_the_warehouse(demo_report):
    paths = demo_report["paths"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert {p.suffix for p in paths} == {".xlsx", ".md", ".docx", ".txt", ".png"}
    assert demo_report["unchanged"]


def test_workbook_has_cover_contents_notes_a_sheet_per_section_monthly_and_community(demo_warehouse, demo_report):
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    figures = figures_of(demo_warehouse)
    sections = {sheet_name(f["section"]) for f in figures.values()}
    assert wb.sheetnames[:3] == ["封面", "目录", "注释"]
    assert wb.sheetnames[-4:] == ["口径", "月度（上半年）", "月度（下半年）", "社区"]
    assert set(wb.sheetnames[3:-4]) == sections and len(wb.sheetnames) == len(sections) + 7
    # The contents list every other sheet, linked to it, and follow the outline: a section of a part
    # that reports figures but has none itself is listed, unlinked, and says so.
    header_row, _, contents = table_of(wb["目录"])
    assert [r["工作表"] for r in contents if r["工作表"] != NO_SHEET] == wb.sheetnames[2:]
    parts_with_figures = {part for part, section, _ in outline_sections() if section in {f["section"] for f in figures.values()}}
    empty = [section for part, section, _ in outline_sections()
             if part in parts_with_figures and section not in {f["section"] for f in figures.values()}]
    assert empty, "the demo's outline has a section without figures (一（三）)"
    unlinked = [r for r in contents if r["工作表"] == NO_SHEET]
    assert [re.search(r"\S+（\S+?）", r["表格标题"])[0] for r in unlinked] == empty
    assert all(r["说明"] == NO_FIGURES for r in unlinked)
    for (cell,) in wb["目录"].iter_rows(min_row=header_row + 1, max_col=1):
        if cell.value == NO_SHEET:
            assert cell.hyperlink is None
        else:
            assert cell.hyperlink.location == f"'{cell.value}'!A1"


def test_no_merged_cells_and_exactly_one_header_row_per_table_sheet(demo_report):
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    assert all(not ws.merged_cells.ranges for ws in wb)
    assert not wb["封面"].tables
    for ws in wb.worksheets[1:]:
        header_row, header, body = table_of(ws)
        # Above the table: the title and lines of text in column A only.
        for row in ws.iter_rows(max_row=header_row - 1):
            assert row[0].value and all(c.value is None for c in row[1:]), ws.title
        assert all(isinstance(h, str) and h for h in header) and len(set(header)) == len(header)
        assert body and all(r[header[0]] != header[0] for r in body), ws.title
        assert ws.max_row == header_row + len(body)  # nothing below the table


def test_section_sheets_hold_exactly_the_published_figures_with_the_id_last_and_the_caliber_sheet_their_prose(
        demo_warehouse, demo_report):
    figures = figures_of(demo_warehouse)
    calibers = {f.figure_id: f.caliber for f in contract_figures()}
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    seen = []
    for ws in section_sheets(wb, figures):
        _, header, rows = table_of(ws)
        assert header[-1] == "指标编号" and header[0] == "指标"
        for row in rows:
            f = figures[row["指标编号"]]
            assert sheet_name(f["section"]) == ws.title
            assert (row["指标"], row["数值"], row["单位"]) == (f["label"], shown(f["value"]), f["unit"])
            assert isinstance(row["数值"], (int, float))  # numbers stay numbers, markers go elsewhere
            seen.append(row["指标编号"])
        # Units and source are stated on the sheet.
        text = " ".join(str(c.value) for (c,) in ws.iter_rows(max_row=4, max_col=1))
        assert "单位" in text and "来源" in text
    assert sorted(seen) == sorted(figures)
    # The 口径 a reader understands: figures.yaml's Chinese prose, not the machine definition, a figure a row.
    _, header, rows = table_of(wb["口径"])
    assert header[-1] == "指标编号" and sorted(r["指标编号"] for r in rows) == sorted(figures)
    for row in rows:
        f = figures[row["指标编号"]]
        assert row["口径"] == calibers[f["figure_id"]] != f["definition"]
        assert not re.search(r"[A-Za-z=]", row["口径"]), row["口径"]


def test_one_number_rule_in_the_workbook_and_the_draft(demo_warehouse, demo_report):
    """Tables: integers with separators, rates to one decimal with %; 报告稿写法 is exactly what the draft writes."""
    figures = figures_of(demo_warehouse)
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    drafted = {figure_id: p.text[start:end] for p in draft(published(YEAR, demo_warehouse, deployment().office()))
               for figure_id, start, end in p.spans}
    checked = set()
    for ws in section_sheets(wb, figures):
        header_row, header, rows = table_of(ws)
        value_column = header.index("数值")
        for offset, row in enumerate(rows, start=1):
            f = figures[row["指标编号"]]
            cell = ws.cell(header_row + offset, value_column + 1)
            if f["unit"] == "%":
                assert cell.number_format == '0.0"%"' and drafted[f["figure_id"]] == f"{f['value']:.1f}%"
            else:
                assert cell.number_format == "#,##0" and float(f["value"]).is_integer()
                assert re.fullmatch(rf"\d+余?{re.escape(f['unit'])}", drafted[f["figure_id"]])  # no separator in text
            assert row["报告稿写法"] == drafted[f["figure_id"]]
            checked.add(f["figure_id"])
    assert checked == set(figures)


def test_monthly_sheets_hold_the_published_months_six_a_sheet(demo_warehouse, demo_report):
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    monthly = {(f, m): v for f, m, v in read_report(
        demo_warehouse,
        "SELECT figure_id, left(CAST(month AS VARCHAR), 7), value FROM report_figures_monthly WHERE year = ?", [YEAR])}
    figures = figures_of(demo_warehouse)
    for sheet, months in (("月度（上半年）", range(1, 7)), ("月度（下半年）", range(7, 13))):
        _, header, rows = table_of(wb[sheet])
        assert header[2:8] == [f"{m}月" for m in months] and header[-1] == "指标编号"
        assert sorted(r["指标编号"] for r in rows) == sorted(figures)
        for row in rows:
            for m in months:
                key = (row["指标编号"], f"{YEAR}-{m:02d}")
                assert row[f"{m}月"] == (shown(monthly[key]) if key in monthly else NOT_AVAILABLE)
            assert row["全年"] == shown(figures[row["指标编号"]]["value"])


def test_community_sheet_splits_the_figures_of_sources_with_a_community(demo_warehouse, demo_report):
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    _, header, rows = table_of(wb["社区"])
    assert header == ["指标", "社区", "数值", "单位", "标注", "指标编号"]
    communities = {r["社区"] for r in rows} - {"全街道"}
    figures = figures_of(demo_warehouse)
    with open_report(demo_warehouse) as con:
        with_community = {r[0].removeprefix("stg_") for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'community'").fetchall()
            if r[0].startswith("stg_")}
        stg_communities = {r[0] for s in with_community for r in con.execute(
            f"SELECT DISTINCT community FROM stg_{s} WHERE year = ? AND community IS NOT NULL", [YEAR]).fetchall()}
    assert with_community, "the demo has sources with a community column"
    by_figure: dict[str, dict[str, object]] = {}
    for row in rows:
        by_figure.setdefault(row["指标编号"], {})[row["社区"]] = row["数值"]
    assert sorted(by_figure) == sorted(i for i, f in figures.items() if f["source_id"] in with_community)
    assert stg_communities <= communities
    for figure_id, values in by_figure.items():
        f = figures[figure_id]
        assert set(values) == communities | {"全街道"}  # every community a row, then the total
        assert values["全街道"] == shown(f["value"])
        if f["unit"] != "%":  # counts and sums add up over the communities
            assert sum(v for c, v in values.items() if c != "全街道") == pytest.approx(f["value"])


def test_provisional_and_revised_figures_are_marked_and_only_they(changed):
    figures = figures_of(changed["warehouse"])
    revised = revised_ids(changed["warehouse"])
    assert any(f["is_provisional"] for f in figures.values()) and revised  # the copy really was changed
    wb = openpyxl.load_workbook(output(changed["paths"], ".xlsx"))
    for ws in [*section_sheets(wb, figures), wb["月度（上半年）"], wb["月度（下半年）"]]:
        for row in table_of(ws)[2]:
            f, marks = figures[row["指标编号"]], row["标注"] or ""
            assert (PROVISIONAL in marks) == f["is_provisional"], (ws.title, f["figure_id"])
            assert (REVISED in marks) == (f["figure_id"] in revised), (ws.title, f["figure_id"])


def test_the_demo_year_has_no_markers(demo_report):
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    assert all(not r["标注"] for ws in wb.worksheets[3:] if ws.title != "口径" for r in table_of(ws)[2])


def test_a_formula_in_a_label_arrives_as_plain_text(changed):
    path = output(changed["paths"], ".xlsx")
    cells = [c for ws in openpyxl.load_workbook(path) for row in ws.iter_rows() for c in row if c.value == INJECTED]
    assert len(cells) >= 2  # its section sheet, the monthly sheet (and the community sheet if it has one)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    with zipfile.ZipFile(path) as xlsx:
        sheets = [xlsx.read(n).decode() for n in xlsx.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any("<f>" in s or "<f " in s for s in sheets)  # no formula anywhere in the workbook


def test_year_over_year_columns_where_the_previous_year_has_data(changed):
    figures, previous = figures_of(changed["warehouse"]), changed["previous"]
    wb = openpyxl.load_workbook(output(changed["paths"], ".xlsx"))
    rows = {r["指标编号"]: r for ws in section_sheets(wb, figures) for r in table_of(ws)[2]}
    for figure_id, row in rows.items():
        value = figures[figure_id]["value"]
        if figure_id not in previous:
            assert (row["上年数值"], row["比上年增减"], row["比上年增减（%）"]) == (NOT_AVAILABLE,) * 3
            continue
        before = previous[figure_id]
        assert row["上年数值"] == before
        assert row["比上年增减"] == pytest.approx(value - before)
        if figures[figure_id]["unit"] == "%" or before == 0:
            assert row["比上年增减（%）"] == NOT_APPLICABLE
        else:
            assert row["比上年增减（%）"] == pytest.approx(100 * (value - before) / before, abs=0.05)


# ---------------------------------------------------------------- draft


def markdown_sections(path: Path) -> dict[str, str]:
    """### heading → the paragraph under it."""
    text = path.read_text(encoding="utf-8")
    return dict(re.findall(r"^### (.+)\n\n(.+)$", text, flags=re.M))


def check_draft(warehouse: Path, paths: list[Path]) -> None:
    """Every figure's number in the Markdown, read back at the place the renderer put it, equals report_figures."""
    figures = figures_of(warehouse)
    revised = revised_ids(warehouse)
    approximate = approximate_multiples()
    paragraphs = draft(published(YEAR, warehouse, deployment().office()))
    in_file = markdown_sections(output(paths, ".md"))
    found = {}
    for p in paragraphs:
        assert in_file[p.heading] == p.text  # the file holds what the renderer produced
        for figure_id, start, end in p.spans:
            f = figures[figure_id]
            assert f["section"] == p.section, figure_id
            written = in_file[p.heading][start:end]
            number, about = DRAFT_NUMBER.match(written).groups()
            if number == "—":
                assert f["value"] is None
            elif about:  # 余: the exact value rounded down to the declared multiple, and more than that
                multiple = approximate[figure_id]
                assert int(number) == f["value"] // multiple * multiple < f["value"] and int(number) % multiple == 0
            else:  # exact: not approximate, below its multiple, or a multiple of it already
                assert float(number) == pytest.approx(f["value"], abs=0.05)
                multiple = approximate.get(figure_id)
                assert multiple is None or f["value"] < multiple or f["value"] % multiple == 0
            markers = (PROVISIONAL if f["is_provisional"] else "") + (REVISED if figure_id in revised else "")
            assert written[len(number) + len(about):] == f["unit"] + markers
            found[figure_id] = found.get(figure_id, 0) + 1
    assert found == {i: 1 for i in figures}  # every figure, once


def test_every_figure_of_the_markdown_draft_equals_report_figures(demo_warehouse, demo_report):
    check_draft(demo_warehouse, demo_report["paths"])


def test_provisional_and_revised_figures_are_marked_in_the_draft_and_figures_without_a_sentence_get_one(changed):
    check_draft(changed["warehouse"], changed["paths"])
    text = output(changed["paths"], ".md").read_text(encoding="utf-8")
    assert PROVISIONAL in text and REVISED in text and "未写入句子的指标" in text


def test_the_draft_follows_the_whole_outline_and_says_where_a_section_has_no_figures(demo_warehouse, demo_report):
    text = output(demo_report["paths"], ".md").read_text(encoding="utf-8")
    headings = re.findall(r"^(#{1,3}) (.+)$", text, flags=re.M)
    assert headings[0] == ("#", report_title(deployment().office(), YEAR))
    expected, part = [], None
    for part_heading, _, heading in outline_sections():
        if part_heading != part:
            part = part_heading
            expected.append(("##", part.format(year=YEAR, next_year=YEAR + 1)))
        expected.append(("###", heading))
    assert headings[1:] == expected
    # No holes: each part numbers its sections （一）, （二）, … without a gap, as the report does.
    numerals = "一二三四五六七八九十"
    for p in outline():
        assert [s.heading[1:s.heading.index("）")] for s in p.sections] == list(numerals[:len(p.sections)]), p.part
    sections_with_figures = {f["section"] for f in figures_of(demo_warehouse).values()}
    paragraphs = markdown_sections(output(demo_report["paths"], ".md"))
    for _, section, heading in outline_sections():
        assert (paragraphs[heading] == NO_FIGURES) == (section not in sections_with_figures), section


def test_the_draft_writes_yu_where_the_2023_report_has_it_and_only_when_it_is_true(demo_warehouse):
    """The template declares 余 exactly where the 2023 report has it. The demo's values are exactly the
    numbers the report printed (2502, 3000 …, multiples of their rounding): "more than" would be false, so
    the draft writes them exactly."""
    with REFERENCE_FIGURES.open(encoding="utf-8") as f:
        reference = {r["figure_id"]: r for r in csv.DictReader(f)}
    approximate = approximate_multiples()
    assert set(approximate) == {i for i, r in reference.items() if r["approx"] == APPROXIMATE}
    drafted = {i: p.text[s:e] for p in draft(published(YEAR, demo_warehouse, deployment().office())) for i, s, e in p.spans}
    for figure_id, multiple in approximate.items():
        ref = reference[figure_id]
        assert int(ref["value"]) % multiple == 0, figure_id
        assert drafted[figure_id] == f"{ref['value']}{ref['unit']}", figure_id


def test_the_workbook_notes_state_the_rounding_rule_of_every_approximate_figure(demo_warehouse, demo_report):
    wb = openpyxl.load_workbook(output(demo_report["paths"], ".xlsx"))
    (note,) = [r["说明"] for r in table_of(wb["注释"])[2] if r["标注或栏目"] == APPROXIMATE]
    figures = figures_of(demo_warehouse)
    for figure_id, multiple in approximate_multiples().items():
        assert f"{figures[figure_id]['label']}（{approximation_rule(multiple)}）" in note


def test_the_template_names_every_figure_with_a_sentence(demo_warehouse):
    # A figure without a sentence still appears (as a plain fallback), but the report's sentences should name all.
    assert set(figures_of(demo_warehouse)) <= set(template_order())


def test_a_template_naming_a_figure_of_another_section_is_refused(demo_warehouse):
    pub = published(YEAR, demo_warehouse, deployment().office())
    other = next(f for f in pub.figures if f.section != pub.figures[0].section)
    with pytest.raises(TemplateError, match=other.figure_id):
        filled(f"共{{{other.figure_id}}}。", pub, pub.figures[0].section)


def test_docx_has_the_paragraphs_of_the_markdown(demo_report):
    import docx

    markdown = [re.sub(r"^#+ ", "", line) for line in output(demo_report["paths"], ".md").read_text(encoding="utf-8").splitlines()]
    document = docx.Document(str(output(demo_report["paths"], ".docx")))
    # The DOCX sets a title too long for one line on two (a line break between its words).
    assert [p.text.replace("\n", "") for p in document.paragraphs if p.text] == [line for line in markdown if line]


def test_docx_is_a_gb_t_9704_document(demo_report):
    """A4, the standard's margins, 三号 仿宋_GB2312 body on a 22-line page, 二号 方正小标宋简体 title,
    黑体 and 楷体_GB2312 headings, "— 1 —" page numbers, Chinese; fonts named, not embedded."""
    import docx
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Emu, Mm, Pt

    document = docx.Document(str(output(demo_report["paths"], ".docx")))
    section = document.sections[0]
    mm = lambda length: round(Emu(length).mm, 1)  # noqa: E731  Word stores twips: 210 mm is 11906 of them
    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.left_margin)) == (37, 28)
    # The type area (版心) is 156 mm × 225 mm; the page number's line sits 7 mm below it.
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156
    assert mm(section.page_height - section.top_margin - section.bottom_margin) == 225
    assert mm(section.bottom_margin - section.footer_distance) == 7
    requested = {}
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = document.styles[name]
        fonts = style.element.rPr.rFonts
        requested[name] = ({fonts.get(f"{{{fonts.nsmap['w']}}}{a}") for a in ("ascii", "hAnsi", "eastAsia", "cs")}, style.font.size)
        assert style.font.color.rgb == (0, 0, 0) and not style.font.bold, name
        assert style.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
        # 22 lines fill the type area's height, 23 would not.
        assert 22 * style.paragraph_format.line_spacing <= Mm(225) < 23 * style.paragraph_format.line_spacing
    assert requested == {"Normal": ({"仿宋_GB2312"}, Pt(16)), "Title": ({"方正小标宋简体"}, Pt(22)),
                         "Heading 1": ({"黑体"}, Pt(16)), "Heading 2": ({"楷体_GB2312"}, Pt(16))}
    styles_xml = document.styles.element.xml
    assert 'w:eastAsia="zh-CN"' in styles_xml and "Theme" not in re.search(r"<w:rPrDefault>.*?</w:rPrDefault>", styles_xml, re.S)[0]
    assert document.core_properties.language == "zh-CN"
    for footer in (section.footer, section.even_page_footer):
        (number,) = footer.paragraphs
        assert number.text == "— 1 —" and "PAGE" in number._element.xml
    with zipfile.ZipFile(output(demo_report["paths"], ".docx")) as package:
        assert not [n for n in package.namelist() if n.startswith("word/fonts/")]  # named, not embedded
        # Word 2010 would take the default template's blue headings from stylesWithEffects.xml.
        assert "word/stylesWithEffects.xml" not in package.namelist()
        assert document.paragraphs[0].style.name == "Title"
    assert document.paragraphs[0].text.replace("\n", "") == report_title(deployment().office(), YEAR)  # no line to delete above the text


# ---------------------------------------------------------------- provenance and reproducibility


def test_outputs_show_the_publication_time_and_are_stamped_with_it(changed):
    """Times shown are the publication's (table `publication`), also in the files' properties and zip entries."""
    shown_time = PUBLISHED_AT.astimezone(ZoneInfo(TIMEZONE))
    stamp = shown_time.strftime("%Y-%m-%d %H:%M")
    md = output(changed["paths"], ".md").read_text(encoding="utf-8")
    # The draft closes with its date, the publication's day; where its numbers come from is beside it.
    assert md.rstrip().splitlines()[-1] == f"{shown_time.year}年{shown_time.month}月{shown_time.day}日"
    sources = output(changed["paths"], ".txt").read_text(encoding="utf-8")
    assert sources.count(stamp) == 1 and "abababababababab" in sources and "abababababababab" not in md
    cover = " ".join(str(c.value) for (c,) in openpyxl.load_workbook(output(changed["paths"], ".xlsx"))["封面"].iter_rows(max_col=1))
    assert set(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", md + sources + cover)) == {stamp}  # the only time shown
    import docx

    properties = docx.Document(str(output(changed["paths"], ".docx"))).core_properties
    assert properties.created == properties.modified == PUBLISHED_AT
    assert properties.identifier == "ab" * 32 and stamp in properties.comments
    assert properties.author == deployment().office().producer
    for suffix in (".docx", ".xlsx"):
        with zipfile.ZipFile(output(changed["paths"], suffix)) as package:
            assert {i.date_time for i in package.infolist()} == {shown_time.timetuple()[:6]}
            core = package.read("docProps/core.xml").decode()
            assert core.count(PUBLISHED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")) == 2  # created and modified


def test_writing_twice_from_the_same_report_duckdb_gives_the_same_bytes(changed, tmp_path):
    again = write_with_cli(changed["warehouse"], tmp_path)
    assert [p.name for p in again] == [p.name for p in changed["paths"]]
    for first, second in zip(changed["paths"], again):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_the_office_comes_from_its_entry_in_the_offices_file(demo_warehouse, tmp_path):
    config = tmp_path / "offices.yaml"
    config.write_text('offices:\n  - id: jiaodaokou\n    name: 东华门街道\n    communities: [多福巷社区]\n'
                      '    title: "{name}|{year}年法治政府建设情况报告"\n    producer: 东华门街道司法所\n'
                      "    contact: 东华门街道司法所（电话 12345）\n", encoding="utf-8")
    office = load(config).office()
    assert office.signature == "东华门街道办事处"  # the default: its name
    pub = published(YEAR, demo_warehouse, office)
    paragraphs = draft(pub)
    md = markdown_draft(pub, paragraphs, tmp_path / "draft.md").read_text(encoding="utf-8")
    xlsx = workbook(pub, tmp_path / "book.xlsx")
    docx_path = docx_draft(pub, paragraphs, tmp_path / "draft.docx")
    import docx

    cover = [c.value for (c,) in openpyxl.load_workbook(xlsx)["封面"].iter_rows(max_col=1)]
    document = docx.Document(str(docx_path))
    assert md.startswith("# 东华门街道2023年法治政府建设情况报告\n")
    assert document.paragraphs[0].text == cover[0].removesuffix("：统计数据") == "东华门街道2023年法治政府建设情况报告"
    assert "东华门街道司法所（电话 12345）" in cover and document.core_properties.author == "东华门街道司法所"
    texts = [md, " ".join(map(str, cover)), "".join(p.text for p in document.paragraphs)]
    assert not any("交道口街道" in t for t in texts)


# ---------------------------------------------------------------- charts


def test_charts_are_pngs_in_the_cjk_font(demo_report, demo_warehouse):
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    charts = [p for p in demo_report["paths"] if p.suffix == ".png"]
    assert len(charts) == len(draft_template()["charts"])
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in charts)
    found = font_manager.findfont(font_manager.FontProperties(family=cjk_font()), fallback_to_default=False)
    import pylopdf_fonts_zh_cn

    assert Path(found) == pylopdf_fonts_zh_cn.sans_path() and "DejaVu" not in found
    # No tofu: matplotlib warned of no missing glyph, and the font has every character of the labels.
    assert demo_report["missing_glyphs"] == []
    charmap = FT2Font(found).get_charmap()
    text = "".join(f["label"] + f["unit"] for f in figures_of(demo_warehouse).values())
    text += "".join(c["title"] for c in draft_template()["charts"]) + "年月单位来源全按"
    assert [c for c in set(text) if ord(c) not in charmap] == []


def test_an_unpublished_year_is_refused(demo_warehouse, tmp_path):
    refused = cli("report", "--year", "1999", "--out", tmp_path, "--warehouse", demo_warehouse)
    assert refused.code == 1
    assert "1999" in refused.err


def test_the_statistics_dag_rewrites_every_year_as_a_whole_folder(changed, tmp_path):
    """publish_reports (the statistics DAG's task) writes each published year and leaves no partial folder."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    shutil.copy(changed["warehouse"] / "report.duckdb", warehouse / "report.duckdb")
    reports = warehouse / "reports" / deployment().office().id
    (reports / ".2023.building").mkdir(parents=True)  # as a killed run leaves it
    first = publish_reports(warehouse)
    years = [y for (y,) in read_report(warehouse, "SELECT DISTINCT year FROM report_figures ORDER BY 1")]
    assert first == [reports / str(y) for y in years] and len(years) == 2
    names = sorted(p.name for p in first[-1].iterdir())
    written = {p: p.stat().st_ino for p in first[-1].iterdir()}
    assert publish_reports(warehouse) == first
    assert sorted(p.name for p in first[-1].iterdir()) == names
    assert sorted(p.name for p in reports.iterdir()) == [str(y) for y in years]
    # Nothing was published since: the folders are left as they were, not written again.
    assert {p: p.stat().st_ino for p in first[-1].iterdir()} == written
    # A new publication (another content) writes them again.
    with duckdb.connect(str(warehouse / "report.duckdb")) as con:
        con.execute("UPDATE publication SET content_sha256 = ?", ["cd" * 32])
    assert publish_reports(warehouse) == first
    assert {p: p.stat().st_ino for p in first[-1].iterdir()} != written
