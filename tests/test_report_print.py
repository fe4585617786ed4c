"""The report outputs as the report writer prints them: rendered to PDF by LibreOffice.

The demo year's draft and workbook (`demo_report`) are rendered once; each page is read
back with poppler's pdftotext. LibreOffice stands in for the writer's Word and Excel: it
lacks the 公文 fonts and substitutes them (the fonts requested are checked in the DOCX
itself, test_report.py), but page size, lines per page, page breaks and number formats are
its own.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata

import openpyxl

from reportpipe.outputs.docx import CHARS, LINES
from tests.helpers import figures_of, table_of

A4 = (595.3, 841.9)  # points, portrait


def is_size(size: tuple[float, float], expected: tuple[float, float]) -> bool:
    return all(abs(a - b) < 1 for a, b in zip(size, expected))


def width_in_characters(line: str) -> float:
    """A line's width in Chinese characters: a Latin letter or digit is about half of one."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in line.strip() if c != " ")


def test_the_draft_prints_on_a4_with_22_lines_of_28_characters_and_numbered_pages(printed):
    pages, sizes = printed["draft"], printed["draft_sizes"]
    assert len(pages) == len(sizes) >= 2 and all(is_size(s, A4) for s in sizes)
    body_lines, widths = [], []
    for number, page in enumerate(pages, start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        # GB/T 9704's page number, "— 1 —", last on the page.
        assert re.fullmatch(rf"—\s*{number}\s*—", lines[-1].strip()), (number, lines[-1])
        body_lines.append(len(lines) - 1)
        widths += [width_in_characters(line) for line in lines[:-1]]
    assert max(body_lines) == LINES and all(n <= LINES for n in body_lines[:-1])
    # Lines hold up to 28 characters: none more, and a typical full line close to it.
    assert max(widths) <= CHARS and statistics.median(w for w in widths if w > 20) >= CHARS - 3


def book_pages(printed) -> dict[str, list[str]]:
    """The workbook's printed pages by sheet, known by the page header (the sheet's name)."""
    by_sheet: dict[str, list[str]] = {}
    for page in printed["book"]:
        lines = [line for line in page.splitlines() if line.strip()]
        by_sheet.setdefault(lines[0].strip(), []).append(page)
    return by_sheet


def test_every_sheet_prints_on_a4_landscape_one_page_wide_in_few_pages(printed):
    wb = openpyxl.load_workbook(printed["workbook"])
    assert all(is_size(s, tuple(reversed(A4))) for s in printed["book_sizes"])
    by_sheet = book_pages(printed)
    assert list(by_sheet) == wb.sheetnames  # every sheet prints, in order, under its own name
    assert [len(by_sheet[name]) for name in ("封面", "目录", "注释")] == [1, 1, 1]
    for ws in wb.worksheets[1:]:
        header_row, _, body = table_of(ws)
        # Rows are at most two lines high: ten rows (and the title lines) fit on a page with room to spare.
        assert len(by_sheet[ws.title]) <= math.ceil((header_row + len(body)) / 10), ws.title
    # The cover's long lines wrap instead of running off the page: every word of it is printed.
    cover = re.sub(r"\s", "", by_sheet["封面"][0])
    for (cell,) in wb["封面"].iter_rows(max_col=1):
        assert re.sub(r"\s", "", str(cell.value)) in cover


def test_each_page_of_a_table_repeats_its_header_and_no_row_is_split(printed, demo_warehouse):
    wb = openpyxl.load_workbook(printed["workbook"])
    figures = figures_of(demo_warehouse)
    by_sheet = book_pages(printed)
    for ws in wb.worksheets[3:]:  # the sheets of figures
        _, header, body = table_of(ws)
        ids = [row["指标编号"] for row in body]
        seen = []
        for page in by_sheet[ws.title]:
            lines = page.splitlines()
            # The header row is on the page, above every row of figures on it.
            header_line = next((i for i, line in enumerate(lines) if header[0] in line and header[-1] in line), None)
            on_page = [(i, figure_id) for i, line in enumerate(lines) for figure_id in set(ids)
                       if re.search(rf"\b{figure_id}\b", line)]
            assert header_line is not None and on_page and all(i > header_line for i, _ in on_page), ws.title
            text = re.sub(r"\s", "", page)
            for _, figure_id in on_page:
                f = figures[figure_id]
                # The whole row is on this page, one page wide: its label (first column) with its id (last),
                # and the value as the number rule formats it in tables.
                assert re.sub(r"\s", "", f["label"])[:6] in text, (ws.title, figure_id)
                if ws.title not in ("口径", "月度（上半年）", "月度（下半年）", "社区"):
                    value = f"{f['value']:.1f}%" if f["unit"] == "%" else f"{int(f['value']):,}"
                    assert value in text, (ws.title, figure_id, value)
            seen += [figure_id for _, figure_id in on_page]
        assert sorted(seen) == sorted(ids), ws.title  # every row printed once


def test_every_sheet_prints_its_text_at_10_pt_or_more(printed):
    """Fitted one page wide, a sheet is printed smaller: its columns are narrow enough that no text goes below 10 pt."""
    sizes = printed["book_fonts"]
    assert len(sizes) == len(printed["book"]) and all(sizes)
    assert min(min(page) for page in sizes) >= 10


def test_headings_break_only_between_words_and_no_number_runs_into_the_next_cell(printed):
    wb = openpyxl.load_workbook(printed["workbook"])
    by_sheet = book_pages(printed)
    for ws in wb.worksheets[1:]:
        header_row = int(re.match(r"A(\d+)", next(iter(ws.tables.values())).ref)[1])
        printed_text = [re.sub(r"\s", "", line) for page in by_sheet[ws.title] for line in page.splitlines()]
        for cell in ws[header_row]:
            for piece in cell.value.split("\n"):  # a heading's own line breaks are between words
                assert any(piece in line for line in printed_text), (ws.title, piece)  # never cut inside
        for page in by_sheet[ws.title]:
            for line in page.splitlines():
                # A right-aligned value keeps clear of the marker or text in the next cell.
                assert not re.search(r"[\d%]\[[xzpr]\]", line), (ws.title, line)
