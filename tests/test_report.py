"""The report-ready outputs (reportpipe.report): workbook, Markdown and DOCX draft, charts.

Expected values always come from report.duckdb itself, never from constants: the
outputs must show exactly what is published. The demo warehouse is only read; the
markers, the year-over-year columns and formula injection are checked on a copy of
its report.duckdb changed by SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from reportpipe import report
from reportpipe.cli import main

YEAR = 2023
INJECTED = '=HYPERLINK("http://x","y")'
FIGURE_NUMBER = re.compile(r"^(—|\d+(?:\.\d+)?)")


def figures_of(warehouse: Path, year: int = YEAR) -> dict[str, dict]:
    """report_figures of a year as figure_id → row dict, read directly with SQL."""
    with duckdb.connect(str(warehouse / "report.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM report_figures WHERE year = ?", [year])
        names = [d[0] for d in cur.description]
        return {row[1]: dict(zip(names, row)) for row in cur.fetchall()}


def revised_ids(warehouse: Path, year: int = YEAR) -> set[str]:
    with duckdb.connect(str(warehouse / "report.duckdb"), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT figure_id FROM figure_revisions WHERE year = ?", [year]).fetchall()}


def table_of(ws) -> tuple[int, list[str], list[dict]]:
    """The sheet's single Excel table: its header row number, header and body rows as dicts."""
    (table,) = ws.tables.values()
    first, last = re.fullmatch(r"A(\d+):[A-Z]+(\d+)", table.ref).groups()
    rows = list(ws.iter_rows(min_row=int(first), max_row=int(last), values_only=True))
    header = list(rows[0])
    return int(first), header, [dict(zip(header, r)) for r in rows[1:]]


def shown(value):
    """What a workbook cell must hold for a figure value: the number, or [x] when there is none."""
    return report.NOT_AVAILABLE if value is None else value


def write_with_cli(warehouse: Path, out: Path) -> tuple[list[Path], list[str]]:
    """Run `reportpipe report` and return the paths it printed and the font warnings raised."""
    stdout = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
        warnings.simplefilter("always")
        code = main(["report", "--year", str(YEAR), "--out", str(out), "--warehouse", str(warehouse)])
    assert code == 0
    missing_glyphs = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    return [Path(line) for line in stdout.getvalue().splitlines()], missing_glyphs


@pytest.fixture(scope="module")
def demo_outputs(demo_warehouse, tmp_path_factory):
    """The outputs of the demo year, written once by the CLI."""
    before = hashlib.sha256((demo_warehouse / "report.duckdb").read_bytes()).hexdigest()
    paths, missing_glyphs = write_with_cli(demo_warehouse, tmp_path_factory.mktemp("report"))
    after = hashlib.sha256((demo_warehouse / "report.duckdb").read_bytes()).hexdigest()
    return {"paths": paths, "missing_glyphs": missing_glyphs, "unchanged": before == after}


@pytest.fixture(scope="module")
def changed(demo_warehouse, tmp_path_factory):
    """A copy of the demo's report.duckdb where one source is provisional, two figures were revised,
    one label is a formula, one figure has no sentence and the previous year holds three figures; and its outputs."""
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
                "INSERT INTO figure_revisions SELECT year, figure_id, value - 1, value, 'x_v2.csv', now()"
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
    paths, _ = write_with_cli(warehouse, tmp_path_factory.mktemp("changed_report"))
    return {"warehouse": warehouse, "paths": paths, **plan}


def output(paths: list[Path], suffix: str) -> Path:
    (path,) = [p for p in paths if p.suffix == suffix]
    return path


def section_sheets(wb, figures: dict[str, dict]) -> list:
    return [wb[report.sheet_name(s)] for s in sorted({f["section"] for f in figures.values()})]


# ---------------------------------------------------------------- workbook


def test_the_cli_prints_every_file_it_wrote_without_changing_the_warehouse(demo_outputs):
    paths = demo_outputs["paths"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert {p.suffix for p in paths} == {".xlsx", ".md", ".docx", ".png"}
    assert demo_outputs["unchanged"]


def test_workbook_has_cover_contents_notes_a_sheet_per_section_monthly_and_community(demo_warehouse, demo_outputs):
    wb = openpyxl.load_workbook(output(demo_outputs["paths"], ".xlsx"))
    sections = {report.sheet_name(f["section"]) for f in figures_of(demo_warehouse).values()}
    assert wb.sheetnames[:3] == ["封面", "目录", "注释"]
    assert wb.sheetnames[-2:] == ["月度", "社区"]
    assert set(wb.sheetnames[3:-2]) == sections and len(wb.sheetnames) == len(sections) + 5
    # The contents list every other sheet, linked to it.
    _, _, contents = table_of(wb["目录"])
    assert [r["工作表"] for r in contents] == wb.sheetnames[2:]
    for (cell,) in wb["目录"].iter_rows(min_row=table_of(wb["目录"])[0] + 1, max_col=1):
        assert cell.hyperlink.location == f"'{cell.value}'!A1"


def test_no_merged_cells_and_exactly_one_header_row_per_table_sheet(demo_outputs):
    wb = openpyxl.load_workbook(output(demo_outputs["paths"], ".xlsx"))
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


def test_section_sheets_hold_exactly_the_published_figures(demo_warehouse, demo_outputs):
    figures = figures_of(demo_warehouse)
    wb = openpyxl.load_workbook(output(demo_outputs["paths"], ".xlsx"))
    seen = []
    for ws in section_sheets(wb, figures):
        _, _, rows = table_of(ws)
        for row in rows:
            f = figures[row["指标编号"]]
            assert report.sheet_name(f["section"]) == ws.title
            assert (row["指标"], row["数值"], row["单位"]) == (f["label"], shown(f["value"]), f["unit"])
            assert isinstance(row["数值"], (int, float))  # numbers stay numbers, markers go elsewhere
            seen.append(row["指标编号"])
        # Units and source are stated on the sheet.
        text = " ".join(str(c.value) for (c,) in ws.iter_rows(max_row=4, max_col=1))
        assert "单位" in text and "来源" in text
    assert sorted(seen) == sorted(figures)


def test_monthly_sheet_holds_the_published_months(demo_warehouse, demo_outputs):
    wb = openpyxl.load_workbook(output(demo_outputs["paths"], ".xlsx"))
    _, header, rows = table_of(wb["月度"])
    assert header[4:16] == [f"{m}月" for m in range(1, 13)]
    with duckdb.connect(str(demo_warehouse / "report.duckdb"), read_only=True) as con:
        monthly = {(f, m): v for f, m, v in con.execute(
            "SELECT figure_id, month, value FROM report_figures_monthly WHERE year = ?", [YEAR]).fetchall()}
    figures = figures_of(demo_warehouse)
    assert sorted(r["指标编号"] for r in rows) == sorted(figures)
    for row in rows:
        for m in range(1, 13):
            key = (row["指标编号"], f"{YEAR}-{m:02d}")
            assert row[f"{m}月"] == (shown(monthly[key]) if key in monthly else report.NOT_AVAILABLE)
        assert row["全年"] == shown(figures[row["指标编号"]]["value"])


def test_community_sheet_splits_the_figures_of_sources_with_a_community(demo_warehouse, demo_outputs):
    wb = openpyxl.load_workbook(output(demo_outputs["paths"], ".xlsx"))
    _, header, rows = table_of(wb["社区"])
    communities = header[4:-2]
    figures = figures_of(demo_warehouse)
    with duckdb.connect(str(demo_warehouse / "report.duckdb"), read_only=True) as con:
        with_community = {r[0].removeprefix("stg_") for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'community'").fetchall()
            if r[0].startswith("stg_")}
        stg_communities = {r[0] for s in with_community for r in con.execute(
            f"SELECT DISTINCT community FROM stg_{s} WHERE year = ? AND community IS NOT NULL", [YEAR]).fetchall()}
    assert with_community, "the demo has sources with a community column"
    assert sorted(r["指标编号"] for r in rows) == sorted(i for i, f in figures.items() if f["source_id"] in with_community)
    assert stg_communities <= set(communities)
    for row in rows:
        f = figures[row["指标编号"]]
        assert row["全街道"] == shown(f["value"])
        if f["unit"] != "%":  # counts and sums add up over the communities
            assert sum(row[c] for c in communities) == pytest.approx(f["value"])


def test_provisional_and_revised_figures_are_marked_and_only_they(changed):
    figures = figures_of(changed["warehouse"])
    revised = revised_ids(changed["warehouse"])
    assert any(f["is_provisional"] for f in figures.values()) and revised  # the copy really was changed
    wb = openpyxl.load_workbook(output(changed["paths"], ".xlsx"))
    for ws in [*section_sheets(wb, figures), wb["月度"]]:
        for row in table_of(ws)[2]:
            f, marks = figures[row["指标编号"]], row["标注"] or ""
            assert (report.PROVISIONAL in marks) == f["is_provisional"], (ws.title, f["figure_id"])
            assert (report.REVISED in marks) == (f["figure_id"] in revised), (ws.title, f["figure_id"])


def test_the_demo_year_has_no_markers(demo_outputs):
    wb = openpyxl.load_workbook(output(demo_outputs["paths"], ".xlsx"))
    assert all(not r["标注"] for ws in wb.worksheets[3:] for r in table_of(ws)[2])


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
            assert (row["上年数值"], row["比上年增减"], row["比上年增减（%）"]) == (report.NOT_AVAILABLE,) * 3
            continue
        before = previous[figure_id]
        assert row["上年数值"] == before
        assert row["比上年增减"] == pytest.approx(value - before)
        if figures[figure_id]["unit"] == "%" or before == 0:
            assert row["比上年增减（%）"] == report.NOT_APPLICABLE
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
    paragraphs = report.draft(report.published(YEAR, warehouse))
    in_file = markdown_sections(output(paths, ".md"))
    found = {}
    for p in paragraphs:
        assert in_file[p.heading] == p.text  # the file holds what the renderer produced
        for figure_id, start, end in p.spans:
            f = figures[figure_id]
            assert f["section"] == p.section, figure_id
            written = in_file[p.heading][start:end]
            number = FIGURE_NUMBER.match(written)[1]
            assert (None if number == "—" else float(number)) == (None if f["value"] is None else pytest.approx(f["value"], abs=0.05))
            assert written[len(number):] == f["unit"] + (report.PROVISIONAL if f["is_provisional"] else "")
            found[figure_id] = found.get(figure_id, 0) + 1
    assert found == {i: 1 for i in figures}  # every figure, once


def test_every_figure_of_the_markdown_draft_equals_report_figures(demo_warehouse, demo_outputs):
    check_draft(demo_warehouse, demo_outputs["paths"])


def test_provisional_figures_are_marked_in_the_draft_and_figures_without_a_sentence_get_one(changed):
    check_draft(changed["warehouse"], changed["paths"])
    text = output(changed["paths"], ".md").read_text(encoding="utf-8")
    assert report.PROVISIONAL in text and "未写入句子的指标" in text


def test_the_template_names_every_figure_with_a_sentence(demo_warehouse):
    # A figure without a sentence still appears (as a plain fallback), but the report's sentences should name all.
    assert set(figures_of(demo_warehouse)) <= set(report.template_order())


def test_a_template_naming_a_figure_of_another_section_is_refused(demo_warehouse):
    pub = report.published(YEAR, demo_warehouse)
    other = next(f for f in pub.figures if f.section != pub.figures[0].section)
    with pytest.raises(ValueError, match=other.figure_id):
        report.filled(f"共{{{other.figure_id}}}。", pub, pub.figures[0].section)


def test_docx_has_the_paragraphs_of_the_markdown(demo_outputs):
    import docx

    markdown = [re.sub(r"^#+ ", "", line) for line in output(demo_outputs["paths"], ".md").read_text(encoding="utf-8").splitlines()]
    document = docx.Document(str(output(demo_outputs["paths"], ".docx")))
    assert [p.text for p in document.paragraphs if p.text] == [line for line in markdown if line]


# ---------------------------------------------------------------- charts


def test_charts_are_pngs_in_the_cjk_font(demo_outputs, demo_warehouse):
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    charts = [p for p in demo_outputs["paths"] if p.suffix == ".png"]
    assert len(charts) == len(report.draft_template()["charts"])
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in charts)
    found = font_manager.findfont(font_manager.FontProperties(family=report.cjk_font()), fallback_to_default=False)
    import pylopdf_fonts_zh_cn

    assert Path(found) == pylopdf_fonts_zh_cn.sans_path() and "DejaVu" not in found
    # No tofu: matplotlib warned of no missing glyph, and the font has every character of the labels.
    assert demo_outputs["missing_glyphs"] == []
    charmap = FT2Font(found).get_charmap()
    text = "".join(f["label"] + f["unit"] for f in figures_of(demo_warehouse).values())
    text += "".join(c["title"] for c in report.draft_template()["charts"]) + "年月单位来源全按"
    assert [c for c in set(text) if ord(c) not in charmap] == []


def test_an_unpublished_year_is_refused(demo_warehouse, tmp_path, capsys):
    assert main(["report", "--year", "1999", "--out", str(tmp_path), "--warehouse", str(demo_warehouse)]) == 1
    assert "1999" in capsys.readouterr().err


def test_the_statistics_dag_rewrites_every_year_as_a_whole_folder(changed, tmp_path):
    """publish_reports (the statistics DAG's task) writes each published year and leaves no partial folder."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    shutil.copy(changed["warehouse"] / "report.duckdb", warehouse / "report.duckdb")
    (warehouse / "reports" / ".2023.building").mkdir(parents=True)  # as a killed run leaves it
    first = report.publish_reports(warehouse)
    with duckdb.connect(str(warehouse / "report.duckdb"), read_only=True) as con:
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM report_figures ORDER BY 1").fetchall()]
    assert first == [warehouse / "reports" / str(y) for y in years] and len(years) == 2
    names = sorted(p.name for p in first[-1].iterdir())
    assert report.publish_reports(warehouse) == first
    assert sorted(p.name for p in first[-1].iterdir()) == names
    assert sorted(p.name for p in (warehouse / "reports").iterdir()) == [str(y) for y in years]
