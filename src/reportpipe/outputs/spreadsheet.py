"""An accessible statistical workbook from data, after the model of gptables (UK Government Statistical Service).

A `Table` is a body of rows plus what a reader needs around it: its title, explanatory lines
(units, source, markers), one header row, column widths; a `Cover` is the title and headed
paragraphs; `write()` makes the whole workbook in one call: cover, contents (one linked row per
table, in order, and an unlinked row for an outline entry without a table, a `Gap`), notes, then
one table per sheet. Print setup, Chinese text and byte-reproducibility are its `Settings`.

gptables itself cannot write this workbook: version 2.0.2 refuses every cell without an ASCII
letter or digit (`^[^a-zA-Z0-9]*$` in `_write_table_elements`), so every Chinese cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from reportpipe.outline import width_in_characters
from reportpipe.outputs.numbers import NOT_AVAILABLE, Number
from reportpipe.outputs.office_zip import reproducible
from reportpipe.untrusted import FORMULA_TRIGGERS

NO_SHEET = "（无）"  # the contents' sheet name of a Gap


@dataclass(frozen=True)
class Table:
    """One table on a sheet of its own."""

    sheet: str  # the sheet's name (made legal for Excel)
    title: str  # A1
    lines: tuple[str, ...]  # explanatory lines under the title, each shorter than the table is wide
    header: tuple[str, ...]  # one header row; a line break only between words, each line fitting its column
    rows: list[list]  # text, numbers, Number (a value with its format), None
    name: str  # the Excel table's name
    widths: dict[int, float] = field(default_factory=dict)  # column number → width in Excel's units
    description: str = ""  # what the contents say it holds


@dataclass(frozen=True)
class Gap:
    """An entry of the contents without a table (a section of the outline that reports no figures)."""

    title: str
    description: str


@dataclass(frozen=True)
class Cover:
    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # (heading, paragraphs)


@dataclass(frozen=True)
class Settings:
    """What every sheet shares: print setup, the words a reader meets, the file's properties."""

    creator: str
    published_at: dt.datetime  # the only time in the file (its properties and zip entries): reproducible
    language: str = "zh-CN"
    contents_sheet: str = "目录"
    contents_title: str = "目录"
    contents_intro: str = "本工作簿每个工作表一张表；点击工作表名称可跳转。"
    contents_header: tuple[str, str, str] = ("工作表", "表格标题", "说明")
    header_text: str = "&A"  # the sheet's name above each printed page
    footer_text: str = "第 &P 页，共 &N 页"
    line_height_pt: float = 15  # a line of 11 pt text (openpyxl's default font), Chinese or not
    side_margin_inches: float = 0.25  # printers keep 5 mm clear; every millimetre of width keeps the text larger
    cover_width: float = 100


def sheet_name(text: str) -> str:
    """A legal, unique-enough sheet name (Excel forbids []:*?/\\ and more than 31 characters)."""
    return re.sub(r"[\[\]:*?/\\']", "_", text)[:31]


def text_width(text: str) -> float:
    """Width in Excel's column units (one digit): a Chinese character takes two."""
    return 2 * width_in_characters(text)


def as_text_cell(cell) -> None:
    """Make a text cell plain text, whatever it starts with."""
    # openpyxl stores a string starting with "=" as a formula; data_type "s" writes it as an
    # inline string instead, and Excel's quote prefix keeps it text when someone edits the
    # cell or saves the sheet as CSV.
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if cell.value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True


def append_row(ws, values: list) -> None:
    """ws.append: numbers in their format, every text cell a text cell, never a formula."""
    ws.append([v.value if isinstance(v, Number) else v for v in values])
    for cell, value in zip(ws[ws.max_row], values):
        if isinstance(value, Number):
            cell.number_format = value.format
        as_text_cell(cell)


def _print_setup(ws, settings: Settings, header_row: int | None = None) -> None:
    """Print on A4 landscape, one page wide, the table's header row on every page, the sheet's name above."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    if header_row:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_margins.left = ws.page_margins.right = settings.side_margin_inches
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.oddHeader.center.text = settings.header_text
    ws.oddFooter.center.text = settings.footer_text


def wrapped_lines(text: str, width: float) -> int:
    """How many lines a text takes in a column `width` wide, its own line breaks kept."""
    return sum(max(1, math.ceil(text_width(line) / max(width - 1, 1))) for line in text.split("\n"))


def _fit_height(ws, row, settings: Settings) -> None:
    """Make a row as tall as its longest wrapped text needs."""
    # Neither Excel nor LibreOffice sizes the rows of a generated file to wrapped text when
    # printing: without a height the second line of a definition would be cut off.
    lines = 1
    for cell in row:
        if isinstance(cell.value, str):
            lines = max(lines, wrapped_lines(cell.value, ws.column_dimensions[cell.column_letter].width or 8.43))
    if lines > 1:
        ws.row_dimensions[row[0].row].height = settings.line_height_pt * lines + 2


def _table_sheet(wb, table: Table, settings: Settings):
    """A title in A1, explanatory lines, one header row, the rows as an Excel table; printable."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table as ExcelTable
    from openpyxl.worksheet.table import TableStyleInfo

    for column, name in enumerate(table.header, start=1):
        width = table.widths.get(column, 8.43)
        if any(text_width(line) > width - 1 for line in name.split("\n")):
            raise ValueError(f"table {table.name}: header {name!r} is wider than its column ({width}): it would break "
                             "inside a word; break it between words with a line break, or widen the column")
    ws = wb.create_sheet(sheet_name(table.sheet))
    append_row(ws, [table.title])
    ws["A1"].font = Font(bold=True, size=14)
    for line in table.lines:
        append_row(ws, [line])
    append_row(ws, list(table.header))
    header_row = ws.max_row
    for row in table.rows or [[NOT_AVAILABLE] + [None] * (len(table.header) - 1)]:  # an Excel table needs a body row
        append_row(ws, row)
    for column, width in table.widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    # Long labels and definitions wrap inside their column, so the table fits one page wide. A number
    # keeps a space on its right: right-aligned, it would run into the text of the next cell.
    for row in ws.iter_rows(min_row=header_row):
        for cell in row:
            numeric = cell.row > header_row and isinstance(cell.value, (int, float))
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="right" if numeric else None,
                                       indent=1 if numeric else 0)
        _fit_height(ws, row, settings)
    excel = ExcelTable(displayName=table.name, ref=f"A{header_row}:{get_column_letter(len(table.header))}{ws.max_row}")
    # Banded rows only: a bold first column would read as a second header.
    excel.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(excel)
    _print_setup(ws, settings, header_row)
    return ws, header_row


def _cover_sheet(wb, cover: Cover, settings: Settings) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.active
    ws.title = "封面"
    append_row(ws, [cover.title])
    for heading, paragraphs in cover.sections:
        append_row(ws, [heading])
        for paragraph in paragraphs:
            append_row(ws, [paragraph])
    headings = {heading for heading, _ in cover.sections}
    ws.column_dimensions["A"].width = settings.cover_width
    for row in ws.iter_rows(max_col=1):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")  # long lines wrap instead of running off the page
        if row[0].value in headings:
            row[0].font = Font(bold=True, size=12)
        _fit_height(ws, row, settings)
    ws["A1"].font = Font(bold=True, size=14)
    _print_setup(ws, settings)


def _contents_sheet(wb, entries: list[Table | Gap], settings: Settings) -> None:
    """One row per table sheet, linked to it, with what it holds; a gap says so, unlinked."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    rows = [[sheet_name(e.sheet), e.title, e.description] if isinstance(e, Table) else
            [NO_SHEET, e.title, e.description] for e in entries]
    contents = Table(settings.contents_sheet, settings.contents_title, (settings.contents_intro,),
                     settings.contents_header, rows, "table_contents", widths={1: 16, 2: 44, 3: 50})
    ws, header_row = _table_sheet(wb, contents, settings)
    for (cell,) in ws.iter_rows(min_row=header_row + 1, max_col=1):
        if cell.value != NO_SHEET:
            # A location link stays inside the workbook (a "#..." target would become an external relationship).
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{cell.value}'!A1", display=cell.value)
            cell.style = "Hyperlink"


def write(path: Path, cover: Cover, notes: Table, entries: list[Table | Gap], settings: Settings) -> Path:
    """The workbook in one call: cover, contents, notes, then each table on its own sheet; reproducible."""
    import openpyxl

    wb = openpyxl.Workbook()
    _cover_sheet(wb, cover, settings)
    _contents_sheet(wb, [notes, *entries], settings)
    for table in [notes, *(e for e in entries if isinstance(e, Table))]:
        _table_sheet(wb, table, settings)
    # Screen readers announce the document title; GSS asks for it in the file's properties.
    wb.properties.title = cover.title
    wb.properties.creator = wb.properties.lastModifiedBy = settings.creator
    wb.properties.language = settings.language
    wb.properties.created = settings.published_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    wb.save(path)
    return reproducible(path, settings.published_at)
