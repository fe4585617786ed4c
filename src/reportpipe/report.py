"""The report-ready outputs of a published year: workbook, draft (Markdown and DOCX), charts.

Everything is read from the published `report.duckdb`, opened read-only, so the
outputs show exactly what analysts can query. Who publishes the report is declared
in `transforms/organisation.yaml`; the report's outline, the draft's sentences and
the charts in `transforms/report_draft.yaml`; each figure's 口径 in plain Chinese in
its `figures.yaml`.

One number rule for every output: integers without separators in running text
(2502件), with separators in tables (2,502); rates to one decimal with % in both
(100.0%); other numbers to at most two decimals. The draft writes the figures the
template declares approximate the report's way (90余块); the workbook keeps the exact value.

Markers (as in the UK Government Statistical Service's spreadsheet guidance):
[p] provisional (a month of the figure's source is missing or in doubt),
[r] revised (a re-delivered month changed the published value),
[x] not available, [z] not applicable.

The files are reproducible: written twice from the same report.duckdb they are the
same bytes. Every time they show is the publication's, never the time of writing.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from reportpipe.figures import FORMULA_TRIGGERS
from reportpipe.settings import TIMEZONE, TRANSFORMS_DIR

DRAFT_TEMPLATE = TRANSFORMS_DIR / "report_draft.yaml"
ORGANISATION = TRANSFORMS_DIR / "organisation.yaml"
REPORT_DB = "report.duckdb"

PROVISIONAL = "[p]"
REVISED = "[r]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
RATE_UNIT = "%"
APPROXIMATE = "余"
NO_COMMUNITY = "未注明社区"
NO_FIGURES = "（本节无统计数据。）"

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class TemplateError(ValueError):
    """report_draft.yaml or organisation.yaml does not say what the outputs need."""


@dataclass(frozen=True)
class FigureRow:
    """One published figure of the year, with its markers and last year's value."""

    figure_id: str
    section: str
    label: str
    value: float | None
    unit: str
    source_id: str
    definition: str
    months_loaded: int
    is_provisional: bool
    is_revised: bool
    has_previous: bool  # the previous year has this figure in report_figures
    previous: float | None
    caliber: str = ""  # the 口径 in plain Chinese (figures.yaml); the definition when the figure has none

    @property
    def marker_list(self) -> list[str]:
        return [m for m, on in ((PROVISIONAL, self.is_provisional), (REVISED, self.is_revised)) if on]

    @property
    def markers(self) -> str:
        return " ".join(self.marker_list)

    @property
    def is_rate(self) -> bool:
        return self.unit == RATE_UNIT


@dataclass(frozen=True)
class Published:
    """What the outputs of one year are made of, read once from report.duckdb."""

    year: int
    figures: tuple[FigureRow, ...]  # in the outline's order, then in the order the draft names them
    monthly: dict[str, dict[str, float | None]]  # figure_id → YYYY-MM → value, loaded months only
    communities: tuple[str, ...]
    by_community: dict[str, dict[str, float | None]]  # figure_id → community → value
    source_titles: dict[str, str]
    files_loaded: int
    published_at: dt.datetime
    content_sha256: str | None
    report_db: Path

    @property
    def sections(self) -> list[str]:
        return list(dict.fromkeys(f.section for f in self.figures))

    @property
    def months(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in range(1, 13)]

    def in_section(self, section: str) -> list[FigureRow]:
        return [f for f in self.figures if f.section == section]


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


@dataclass(frozen=True)
class Paragraph:
    """A section of the draft; `spans` say which figure each number came from."""

    part_heading: str
    section: str
    heading: str
    text: str
    spans: tuple[tuple[str, int, int], ...] = ()  # (figure_id, start, end) into text


# ---------------------------------------------------------------- reading


@functools.cache
def draft_template(path: Path = DRAFT_TEMPLATE) -> dict:
    """The committed outline, sentence templates and chart declarations."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def organisation() -> dict[str, str]:
    """Who publishes the report (organisation.yaml): name, title template, producer, contact."""
    declared = yaml.safe_load(ORGANISATION.read_text(encoding="utf-8")) or {}
    missing = [k for k in ("name", "title", "producer", "contact") if not declared.get(k)]
    if missing:
        raise TemplateError(f"{ORGANISATION} does not say the organisation's {', '.join(missing)}")
    return {k: str(v) for k, v in declared.items()}


def report_title(year: int) -> str:
    """交道口街道2023年法治政府建设年度情况报告: the organisation's title template, filled in."""
    return organisation()["title"].format(name=organisation()["name"], year=year)


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


def outline_of(pub: Published) -> list[tuple[str, list[Section]]]:
    """The draft's parts (heading filled in) and sections: the outline, plus any section a figure names that it lacks."""
    # A figure whose section the outline lacks still reaches the draft: its section goes at the
    # end of its part (一（九） after 一（八）), or of the draft, headed by the section's name.
    parts = [(p.part, p.heading.format(year=pub.year, next_year=pub.year + 1), list(p.sections)) for p in outline()]
    declared = outline_order()
    for section in pub.sections:
        if section not in declared:
            part = next((p for p in parts if section.startswith(p[0] + "（")), None)
            if part is None:
                part = (section, section, [])
                parts.append(part)
            part[2].append(Section(section, section))
    return [(heading, sections) for _, heading, sections in parts]


def community_breakdown(con, year: int, figure_ids: set[str]) -> dict[str, dict[str, float | None]]:
    """figure_id → community → value, for figures whose source's staging table has a community column."""
    # The figure's own aggregate over its fct_ table: a community's value is the annual figure for it alone.
    from reportpipe.contracts import figures
    from reportpipe.figures import aggregate_sql

    with_community = {
        r[0].removeprefix("stg_")
        for r in con.execute("SELECT table_name FROM information_schema.columns WHERE column_name = 'community'").fetchall()
        if r[0].startswith("stg_")
    }
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    breakdown = {}
    for figure in figures():
        if figure.figure_id not in figure_ids or figure.source_id not in with_community:
            continue
        if f"fct_{figure.source_id}" not in tables:
            continue
        rows = con.execute(
            f"SELECT coalesce(community, ?), {aggregate_sql(figure)} FROM fct_{figure.source_id}"
            f" WHERE year = ? AND ({figure.where}) GROUP BY ALL",
            [NO_COMMUNITY, year],
        ).fetchall()
        breakdown[figure.figure_id] = {c: (None if v is None else float(v)) for c, v in rows}
    return breakdown


def publication_time(con) -> tuple[dt.datetime, str]:
    """When report.duckdb's content was published, and its digest (table `publication`)."""
    return con.execute("SELECT published_at, content_sha256 FROM publication").fetchone()


def published(year: int, warehouse_dir: Path) -> Published:
    """Everything the outputs need for `year`, read from warehouse_dir/report.duckdb (read-only)."""
    import duckdb

    from reportpipe.contracts import figures as contract_figures
    from reportpipe.contracts import sources

    report_db = Path(warehouse_dir) / REPORT_DB
    if not report_db.exists():
        raise FileNotFoundError(f"{report_db} does not exist: run the pipeline first")
    calibers = {f.figure_id: f.caliber for f in contract_figures()}
    with duckdb.connect(str(report_db), read_only=True) as con:
        rows = con.execute(
            """
            SELECT f.figure_id, f.section, f.label, f.value, f.unit, f.source_id, f.definition,
                   f.months_loaded, f.is_provisional,
                   f.figure_id IN (SELECT figure_id FROM figure_revisions WHERE year = f.year) AS is_revised,
                   p.figure_id IS NOT NULL AS has_previous, p.value AS previous
            FROM report_figures f
            LEFT JOIN report_figures p ON p.year = f.year - 1 AND p.figure_id = f.figure_id
            WHERE f.year = ?
            """,
            [year],
        ).fetchall()
        if not rows:
            raise LookupError(f"{report_db} has no figures for {year}")
        figures = [FigureRow(*r[:8], bool(r[8]), bool(r[9]), bool(r[10]), r[11], calibers.get(r[0], r[6])) for r in rows]
        monthly: dict[str, dict[str, float | None]] = {}
        for figure_id, month, value in con.execute(
            "SELECT figure_id, strftime(month, '%Y-%m'), value FROM report_figures_monthly WHERE year = ?", [year]
        ).fetchall():
            monthly.setdefault(figure_id, {})[month] = value
        by_community = community_breakdown(con, year, {f.figure_id for f in figures})
        (files_loaded,) = con.execute(
            "SELECT count(*) FROM loaded_months WHERE year(month) = ?", [year]
        ).fetchone()
        published_at, content_sha256 = publication_time(con)
    sections, order = outline_order(), template_order()
    figures.sort(key=lambda f: (sections.get(f.section, len(sections)), f.section, order.get(f.figure_id, len(order)), f.figure_id))
    communities = sorted({c for values in by_community.values() for c in values}, key=lambda c: (c == NO_COMMUNITY, c))
    return Published(
        year=year,
        figures=tuple(figures),
        monthly=monthly,
        communities=tuple(communities),
        by_community=by_community,
        source_titles={s.source_id: s.title for s in sources().values()},
        files_loaded=files_loaded,
        published_at=published_at,
        content_sha256=content_sha256,
        report_db=report_db,
    )


# ---------------------------------------------------------------- the number rule


def figure_text(value: float | None, unit: str, markers: list[str] = (), approximate: int | None = None) -> str:
    """A value in running text: 2502件, 100.0%, 90余块 (rounded down to a multiple of `approximate`), then its markers."""
    if value is None:
        shown = "—"  # a rate with nothing to divide by
    elif unit == RATE_UNIT:
        shown = f"{value:.1f}"
    elif approximate and value >= approximate:  # below the multiple "0余" would say nothing: exact
        shown = f"{int(value // approximate * approximate)}{APPROXIMATE}"
    elif float(value).is_integer():
        shown = f"{int(value)}"
    else:
        shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{shown}{unit}{''.join(markers)}"


@dataclass(frozen=True)
class Number:
    """A numeric workbook cell: the value stays a number; the format shows it by the number rule."""

    value: int | float
    format: str


POINTS = "百分点"  # a rate's change


def table_number(value: float | None, unit: str):
    """A table cell for a value: 2,502 / 100.0% / 12.5 (percentage points), or [x] when there is none."""
    if value is None:
        return NOT_AVAILABLE
    value = int(value) if float(value).is_integer() else float(value)
    if unit == RATE_UNIT:
        return Number(value, '0.0"%"')
    if unit == POINTS:
        return Number(value, "0.0")
    return Number(value, "#,##0" if isinstance(value, int) else "#,##0.0#")


def approximation_rule(multiple: int) -> str:
    """How the draft writes an approximate figure, in words."""
    if multiple == 1:
        return f"写作整数加“{APPROXIMATE}”"
    return f"向下取整到{multiple}的倍数后加“{APPROXIMATE}”"


def local_time(moment: dt.datetime | None) -> str:
    """A timestamp in the subdistrict's time zone, to the minute."""
    if moment is None:
        return NOT_AVAILABLE
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M")


def provenance(pub: Published) -> str:
    """Where the numbers come from: the publication's file, time and content digest."""
    digest = f"，内容校验码 SHA-256 {pub.content_sha256[:16]}…" if pub.content_sha256 else ""
    return f"数据仓库 {pub.report_db.name}（发布于北京时间 {local_time(pub.published_at)}{digest}）"


def reproducible(path: Path, moment: dt.datetime) -> Path:
    """Rewrite an Office file so the same content gives the same bytes: every zip entry and the
    document's created/modified properties carry `moment` (the publication), not the time of writing."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    stamp = moment.astimezone(ZoneInfo(TIMEZONE)).timetuple()[:6]
    w3c = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as original:
        entries = [(info.filename, original.read(info)) for info in original.infolist()]
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as rewritten:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*", lambda m: m[1] + w3c, data)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            rewritten.writestr(info, data)
    partial.replace(path)
    return path


# ---------------------------------------------------------------- workbook


def neutralised(cell) -> None:
    """Make a text cell plain text, whatever it starts with."""
    # openpyxl stores a string starting with "=" as a formula; data_type "s" writes it as an
    # inline string instead, and Excel's quote prefix keeps it text when someone edits the
    # cell or saves the sheet as CSV.
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if cell.value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True


def append_row(ws, values: list) -> None:
    """ws.append: numbers in their format, every text cell neutralised against formula injection."""
    ws.append([v.value if isinstance(v, Number) else v for v in values])
    for cell, value in zip(ws[ws.max_row], values):
        if isinstance(value, Number):
            cell.number_format = value.format
        neutralised(cell)


def sheet_name(text: str) -> str:
    """A legal, unique-enough sheet name (Excel forbids []:*?/\\ and more than 31 characters)."""
    return re.sub(r"[\[\]:*?/\\']", "_", text)[:31]


def printable(ws, header_row: int | None = None) -> None:
    """Print on A4 landscape, one page wide, the table's header row on every page, the sheet's name above."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    if header_row:
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.oddHeader.center.text = "&A"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


LINE_HEIGHT_PT = 15  # a line of 11 pt text (openpyxl's default font), Chinese or not


def text_width(text: str) -> int:
    """Width in Excel's column units (one digit): a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit_height(ws, row) -> None:
    """Make a row as tall as its longest wrapped text needs."""
    # Neither Excel nor LibreOffice sizes the rows of a generated file to wrapped text when
    # printing: without a height the second line of a definition would be cut off.
    lines = 1
    for cell in row:
        if isinstance(cell.value, str):
            width = ws.column_dimensions[cell.column_letter].width or 8.43
            lines = max(lines, math.ceil(text_width(cell.value) / max(width - 1, 1)))
    if lines > 1:
        ws.row_dimensions[row[0].row].height = LINE_HEIGHT_PT * lines + 2


def table_sheet(wb, name: str, title: str, lines: list[str], header: list[str], rows: list[list],
                table_name: str, widths: dict[int, float]):
    """One table per sheet: a title in A1, explanatory lines, one header row, data as an Excel table; printable."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    ws = wb.create_sheet(sheet_name(name))
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    for line in lines:  # each shorter than the table is wide: fitted to the page, never cut
        append_row(ws, [line])
    append_row(ws, header)
    header_row = ws.max_row
    for row in rows or [[NOT_AVAILABLE] + [None] * (len(header) - 1)]:  # an Excel table needs a body row
        append_row(ws, row)
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    # Long labels and definitions wrap inside their column, so the table fits one page wide.
    for row in ws.iter_rows(min_row=header_row):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        fit_height(ws, row)
    table = Table(displayName=table_name, ref=f"A{header_row}:{get_column_letter(len(header))}{ws.max_row}")
    # Banded rows only: a bold first column would read as a second header.
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    printable(ws, header_row)
    return ws


def year_over_year(f: FigureRow) -> list:
    """Previous year's value, the change and the % change; [x] without a previous year."""
    if not f.has_previous or f.previous is None or f.value is None:
        return [table_number(f.previous, f.unit) if f.has_previous else NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE]
    change = round(f.value - f.previous, 1)
    # A rate's change is in percentage points; its % change would be a ratio of ratios.
    if f.is_rate or f.previous == 0:
        percent = NOT_APPLICABLE
    else:
        percent = table_number(round(100.0 * (f.value - f.previous) / f.previous, 1), POINTS)
    return [table_number(f.previous, f.unit), table_number(change, POINTS if f.is_rate else f.unit), percent]


def source_line(pub: Published, source_ids) -> str:
    """Which exports a sheet's figures come from (named when few, else counted: the line must fit the page)."""
    names = [f"{pub.source_titles.get(s, s)}" for s in dict.fromkeys(source_ids)]
    exports = "、".join(names) if len(names) <= 4 else f"{len(names)}类业务系统（各指标来源见各部分表的“来源”列）"
    return f"来源：{exports}月度导出，经 reportpipe 校验、入库后计算。"


def section_heading(section: str) -> str:
    """The section's heading as the outline declares it (its own name when the outline lacks it)."""
    return next((s.heading for p in outline() for s in p.sections if s.section == section), section)


def section_title(pub: Published, section: str, number: int) -> str:
    """表3　2023年 一（四）加强行政执法规范与效能建设: the table's number, year, section and heading."""
    return f"表{number}　{pub.year}年 {section}{re.sub(r'^（[^）]*）', '', section_heading(section))}"


def approximations(pub: Published) -> dict[str, int]:
    """figure_id → the multiple the draft rounds it down to, for the figures it writes approximately."""
    return {i: m for _, sections in outline_of(pub) for s in sections for i, m in s.approximate.items()}


ID_WIDTH = 30  # the longest figure_id on one line

SECTION_HEADER = ["指标", "数值", "单位", "标注", "报告稿写法", "上年数值", "比上年增减", "比上年增减（%）",
                  "来源", "口径", "已载入月份数", "指标编号"]


def section_sheet(wb, pub: Published, section: str, number: int) -> None:
    """One report section's figures: value, unit, markers, the draft's wording, year-over-year change, source, 口径."""
    approximate = approximations(pub)
    figures = pub.in_section(section)
    rows = [
        [f.label, table_number(f.value, f.unit), f.unit, f.markers,
         figure_text(f.value, f.unit, approximate=approximate.get(f.figure_id)), *year_over_year(f),
         pub.source_titles.get(f.source_id, f.source_id), f.caliber, f.months_loaded, f.figure_id]
        for f in figures
    ]
    table_sheet(
        wb, section, section_title(pub, section, number),
        [
            "本表每行一个报告指标；单位见“单位”列，比率以百分数（%）计，其增减以百分点计。",
            source_line(pub, (f.source_id for f in figures)),
            f"标注：{PROVISIONAL} 暂定数，{REVISED} 已修订，{NOT_AVAILABLE} 无数据，{NOT_APPLICABLE} 不适用；“{APPROXIMATE}”见“注释”表。",
        ],
        SECTION_HEADER, rows, f"table_{number}",
        widths={1: 24, 2: 9, 3: 6, 4: 6, 5: 11, 6: 9, 7: 9, 8: 9, 9: 19, 10: 36, 11: 7, 12: ID_WIDTH},
    )


def monthly_sheet(wb, pub: Published) -> None:
    """Every figure month by month, with the annual value beside it."""
    header = ["报告部分", "指标", "单位", *[f"{m}月" for m in range(1, 13)], "全年", "标注", "指标编号"]
    rows = []
    for f in pub.figures:
        months = pub.monthly.get(f.figure_id, {})
        rows.append([
            f.section, f.label, f.unit,
            *[table_number(months[m], f.unit) if m in months else NOT_AVAILABLE for m in pub.months],
            table_number(f.value, f.unit), f.markers, f.figure_id,
        ])
    table_sheet(
        wb, "月度", f"{pub.year}年各指标月度数据", [
            "每行一个指标，1月至12月各一列；比率为当月比率，不能相加。",
            source_line(pub, (f.source_id for f in pub.figures)),
            f"{NOT_AVAILABLE} 表示该月数据尚未载入；{PROVISIONAL}、{REVISED} 见“注释”表。",
        ],
        header, rows, "table_monthly", widths={1: 8, 2: 26, 3: 5, **{c: 7 for c in range(4, 16)}, 16: 8, 17: 6, 18: ID_WIDTH},
    )


def community_sheet(wb, pub: Published) -> None:
    """Figures whose exports record a community, broken down by community."""
    header = ["报告部分", "指标", "单位", *pub.communities, "全街道", "标注", "指标编号"]
    rows = []
    for f in pub.figures:
        if f.figure_id not in pub.by_community:
            continue
        values = pub.by_community[f.figure_id]
        # No row for a community means none of its records matched: 0 for counts and sums.
        cells = [table_number(values[c], f.unit) if c in values else (NOT_AVAILABLE if f.is_rate else table_number(0, f.unit))
                 for c in pub.communities]
        rows.append([f.section, f.label, f.unit, *cells, table_number(f.value, f.unit), f.markers, f.figure_id])
    sources = sorted({f.source_id for f in pub.figures if f.figure_id in pub.by_community})
    table_sheet(
        wb, "社区", f"{pub.year}年分社区数据", [
            "仅含导出记录所属社区的指标；按社区计算，口径与全年指标相同。比率为各社区自身的比率，不能相加。",
            source_line(pub, sources),
            f"{NOT_AVAILABLE} 表示该社区无可计算比率的记录；{NO_COMMUNITY}：记录未填所属社区。",
        ],
        header, rows, "table_community",
        widths={1: 8, 2: 26, 3: 5, **{c: 9 for c in range(4, 4 + len(pub.communities))},
                4 + len(pub.communities): 9, 5 + len(pub.communities): 6, 6 + len(pub.communities): ID_WIDTH},
    )


COVER_HEADINGS = ("本工作簿内容", "报告年度", "数据来源", "生成方式", "数字格式", "标注说明", "联系方式", "制作单位")


def cover_sheet(wb, pub: Published) -> None:
    """Title, what the workbook holds, where the data come from, who to contact, what the markers mean."""
    from openpyxl.styles import Alignment, Font

    org = organisation()
    ws = wb.active
    ws.title = "封面"
    lines = [
        report_title(pub.year) + "：统计数据",
        "本工作簿内容",
        f"{report_title(pub.year)}中的统计数据：各部分指标、月度数据、分社区数据及与上年的比较。",
        "报告年度",
        str(pub.year),
        "数据来源",
        f"街道各业务系统每月导出的{len(set(f.source_id for f in pub.figures))}类数据，"
        f"经校验后载入数据仓库；本年度已载入 {pub.files_loaded} 个来源月份。",
        "生成方式",
        f"由 reportpipe 读取{provenance(pub)}生成；所有数值由版本控制下的代码计算，未经人工修改。",
        "数字格式",
        "表中整数带千位分隔符（2,502），比率保留一位小数并带%（100.0%），与报告稿一致；报告稿正文中整数不带分隔符（2502件）。",
        "标注说明",
        f"{PROVISIONAL} 暂定数：该指标来源本年度尚有月份未载入，或最新一次提交被拒收，数值可能变化。",
        f"{REVISED} 已修订：某月数据重新提交后，已发布的数值发生了变化。",
        f"{NOT_AVAILABLE} 无数据；{NOT_APPLICABLE} 不适用。",
        "联系方式",
        org["contact"],
        "制作单位",
        org["producer"],
    ]
    for line in lines:
        append_row(ws, [line])
    ws.column_dimensions["A"].width = 100
    for row in ws.iter_rows(max_col=1):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")  # long lines wrap instead of running off the page
        if row[0].value in COVER_HEADINGS:
            row[0].font = Font(bold=True, size=12)
        fit_height(ws, row)
    ws["A1"].font = Font(bold=True, size=14)
    printable(ws)


NO_SHEET = "（无）"


def contents_sheet(wb, tables: list[tuple[str, str, str]]) -> None:
    """One row per table sheet, linked to it, with what it holds; a section without figures says so, unlinked."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    ws = table_sheet(
        wb, "目录", "目录", ["本工作簿每个工作表一张表；点击工作表名称可跳转。"],
        ["工作表", "表格标题", "说明"], [list(t) for t in tables], "table_contents", widths={1: 14, 2: 50, 3: 60},
    )
    header_row = int(re.match(r"A(\d+)", ws.tables["table_contents"].ref)[1])
    for (cell,) in ws.iter_rows(min_row=header_row + 1, max_col=1):
        if cell.value != NO_SHEET:
            # A location link stays inside the workbook (a "#..." target would become an external relationship).
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{cell.value}'!A1", display=cell.value)
            cell.style = "Hyperlink"


def notes_sheet(wb, pub: Published) -> None:
    """What the markers, the number format, 余 and the less obvious columns mean."""
    figures = {f.figure_id: f for f in pub.figures}
    approximate = "；".join(f"{figures[i].label}（{approximation_rule(m)}）" for i, m in approximations(pub).items() if i in figures)
    notes = [
        [PROVISIONAL, "暂定数", "该指标来源在本年度有月份尚未载入，或该月最新一次提交未通过校验（被拒收）；补齐后数值可能变化。"],
        [REVISED, "已修订", "某月数据重新提交（_vN）后，已发布的数值发生了变化；原值与新值见数据仓库 figure_revisions 表（reportpipe revisions）。"],
        [NOT_AVAILABLE, "无数据", "该月尚未载入、上一年度没有该指标，或比率没有可计算的记录。"],
        [NOT_APPLICABLE, "不适用", "上年数值为0时不计算增减百分比；比率的增减以百分点计，不计算增减百分比。"],
        ["数字格式", "数字的写法", "所有输出同一规则：正文中整数不带千位分隔符（2502件），表格中带（2,502）；比率保留一位小数并带%（100.0%），正文与表格相同；其他数值至多保留两位小数。"],
        [APPROXIMATE, "约数", "报告稿按报告惯例把以下指标写作约数（精确值向下取整后加“余”），本工作簿始终为精确值，“报告稿写法”列为报告稿中的写法："
         + (approximate or "本年无") + "。"],
        ["口径", "指标的统计范围", "“口径”列用文字说明每个指标统计哪些记录，均按参照日期（如收件时间、结案日期）在报告年度内的记录计算；机器可读的计算规则见 reportpipe explain <指标编号>。"],
        ["社区", "分社区数据", "按导出记录的“所属社区”分组，用与全年指标相同的计算规则得出；计数和合计各社区之和等于全街道数值（未注明社区的记录单列）。"],
        ["月度", "月度数据", "每月数值按该月载入的数据计算；计数和合计各月之和等于全年数值。"],
    ]
    table_sheet(wb, "注释", "注释", ["本表解释各表使用的标注和栏目。"],
                ["标注或栏目", "含义", "说明"], notes, "table_notes", widths={1: 12, 2: 14, 3: 100})


def workbook(pub: Published, path: Path) -> Path:
    """The accessible workbook: cover, contents, notes, one sheet per section with figures, monthly, by community."""
    import openpyxl

    wb = openpyxl.Workbook()
    cover_sheet(wb, pub)
    # The contents follow the report's outline: every section of a part that reports figures,
    # a section without figures listed (unlinked) so that the outline has no holes.
    contents: list[tuple[str, str, str]] = []
    numbered = []
    for _, sections in outline_of(pub):
        if not any(pub.in_section(s.section) for s in sections):
            continue
        for s in sections:
            if pub.in_section(s.section):
                numbered.append(s.section)
                contents.append((sheet_name(s.section), section_title(pub, s.section, len(numbered)),
                                 f"该部分 {len(pub.in_section(s.section))} 个指标的数值、标注、报告稿写法、与上年比较、来源和口径"))
            else:
                contents.append((NO_SHEET, f"{pub.year}年 {s.section}{re.sub(r'^（[^）]*）', '', s.heading)}", NO_FIGURES))
    contents.append(("月度", f"{pub.year}年各指标月度数据", "每个指标1月至12月的数值和全年数值"))
    contents.append(("社区", f"{pub.year}年分社区数据", "导出记录所属社区的指标，按社区分列"))
    contents_sheet(wb, [("注释", "注释", "各表使用的标注、数字格式、约数和栏目的含义"), *contents])
    notes_sheet(wb, pub)
    for number, section in enumerate(numbered, start=1):
        section_sheet(wb, pub, section, number)
    monthly_sheet(wb, pub)
    community_sheet(wb, pub)
    # Screen readers announce the document title; GSS asks for it in the file's properties.
    wb.properties.title = wb["封面"]["A1"].value
    wb.properties.creator = wb.properties.lastModifiedBy = organisation()["producer"]
    wb.properties.language = "zh-CN"
    wb.properties.created = pub.published_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    wb.save(path)
    return reproducible(path, pub.published_at)


# ---------------------------------------------------------------- draft


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
    for part_heading, sections in outline_of(pub):
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


# GB/T 9704-2012 (党政机关公文格式): A4; a type area (版心) of 156 mm × 225 mm, 37 mm from the
# top and 28 mm from the left edge; 22 lines of 28 characters of 三号 (16 pt) type; the page
# number in 四号 (14 pt) 宋体 as "— 1 —", 7 mm below the type area, right on odd pages and left
# on even ones, one character in from the edge of the type area.
A4_MM = (210, 297)
TYPE_AREA_MM = (156, 225)
MARGIN_TOP_MM, MARGIN_LEFT_MM = 37, 28
LINES, CHARS = 22, 28
BODY_PT, TITLE_PT, PAGE_NUMBER_PT = 16, 22, 14  # 三号, 二号, 四号
PAGE_NUMBER_BELOW_MM = 7
FONTS = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "part": "黑体", "section": "楷体_GB2312", "page_number": "宋体"}
LINE_PITCH_TWIPS = int(TYPE_AREA_MM[1] / 25.4 * 1440 / LINES)  # 579 (28.95 pt): rounded down, so 22 lines fit
# 28 full-width characters of 16 pt need 448 pt, the line is 442.2 pt: each character is set
# 0.25 pt closer (character spacing, in twentieths of a point, rounded down). Word's character
# grid would do the same in Word only; LibreOffice and WPS give a glyph wider than the grid two cells.
CHAR_SPACING = math.floor((TYPE_AREA_MM[0] / 25.4 * 72 / CHARS - BODY_PT) * 20)  # -5


def gongwen_style(style, font: str, size_pt: float, alignment=None, indent_chars: int = 2) -> None:
    """Set a paragraph style to one named font (Latin and Chinese alike) in black, on the fixed line pitch."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor, Twips

    rPr = style.element.get_or_add_rPr()
    for child in list(rPr):  # the default template's theme fonts, colours and bold
        rPr.remove(child)
    style.font.name = font
    fonts = rPr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)
    fonts.set(qn("w:cs"), font)
    style.font.bold = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    style.font.size = Pt(size_pt)
    if size_pt == BODY_PT:
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(CHAR_SPACING))
        rPr.find(qn("w:sz")).addprevious(spacing)
    pPr = style.element.get_or_add_pPr()
    for child in list(pPr):  # borders and spacing of the default template; a heading keeps its outline level
        if child.tag not in (qn("w:outlineLvl"), qn("w:keepNext")):
            pPr.remove(child)
    paragraph = style.paragraph_format
    paragraph.space_before = paragraph.space_after = Pt(0)
    paragraph.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.line_spacing = Twips(LINE_PITCH_TWIPS)
    paragraph.alignment = alignment
    if indent_chars:
        paragraph.first_line_indent = Pt(size_pt * indent_chars)
        pPr.find(qn("w:ind")).set(qn("w:firstLineChars"), str(indent_chars * 100))


def page_number(paragraph) -> None:
    """— PAGE — in 四号 宋体: the page number as a Word field."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    def run(text: str = "", field: str | None = None, instruction: str | None = None):
        r = paragraph.add_run(text)
        r.font.name = FONTS["page_number"]
        r.font.size = Pt(PAGE_NUMBER_PT)
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONTS["page_number"])
        if field:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), field)
            r._element.append(char)
        if instruction:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = instruction
            r._element.append(instr)

    run("— ")
    run(field="begin")
    run(instruction=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


def gongwen_document(pub: Published, paragraphs: list[Paragraph]):
    """A python-docx Document set up as GB/T 9704 asks: page, type area, grid, fonts, page numbers, language."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = docx.Document()
    # Word 2010 takes its styles from stylesWithEffects.xml when there is one: drop the default
    # template's (blue theme headings), and the thumbnail of the template's empty page.
    for rels, kind in ((document.part.rels, "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"),
                       (document.part.package.rels, RT.THUMBNAIL)):
        for rel_id in [i for i, rel in rels.items() if rel.reltype == kind]:
            del rels[rel_id]
    section = document.sections[0]
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    section.top_margin, section.left_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_LEFT_MM)
    section.right_margin = Mm(A4_MM[0] - MARGIN_LEFT_MM - TYPE_AREA_MM[0])
    section.bottom_margin = Mm(A4_MM[1] - MARGIN_TOP_MM - TYPE_AREA_MM[1])
    section.footer_distance = Mm(A4_MM[1] - MARGIN_TOP_MM - TYPE_AREA_MM[1] - PAGE_NUMBER_BELOW_MM)
    grid = section._sectPr.find(qn("w:docGrid"))
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_PITCH_TWIPS))

    # Defaults for every run: the body font, 三号, Chinese; no theme fonts.
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONTS["body"])
    for size in ("w:sz", "w:szCs"):
        defaults.find(qn(size)).set(qn("w:val"), str(BODY_PT * 2))
    # The text is Chinese (eastAsia zh-CN). w:val is the language of the Latin-script runs, the
    # digits: en-US there, as in Word's own Chinese template; zh-CN would let a line break inside 2079.
    for language in (defaults.find(qn("w:lang")), document.settings.element.find(qn("w:themeFontLang"))):
        language.set(qn("w:val"), "en-US")
        language.set(qn("w:eastAsia"), "zh-CN")

    gongwen_style(document.styles["Normal"], FONTS["body"], BODY_PT, WD_ALIGN_PARAGRAPH.JUSTIFY)
    gongwen_style(document.styles["Title"], FONTS["title"], TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER, indent_chars=0)
    gongwen_style(document.styles["Heading 1"], FONTS["part"], BODY_PT)
    gongwen_style(document.styles["Heading 2"], FONTS["section"], BODY_PT)

    document.settings.odd_and_even_pages_header_footer = True
    for footer, alignment, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right_indent"),
                                    (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left_indent")):
        (number,) = footer.paragraphs
        number.alignment = alignment
        number.paragraph_format.first_line_indent = Pt(0)
        setattr(number.paragraph_format, side, Pt(PAGE_NUMBER_PT))
        page_number(number)
    return document


def docx_draft(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    """The same draft as a Word document in the form of GB/T 9704-2012, for the people who finish its prose."""
    document = gongwen_document(pub, paragraphs)
    document.add_paragraph(report_title(pub.year), style="Title")
    document.add_paragraph()  # GB/T 9704: one empty line under the title
    part = None
    for p in paragraphs:
        if p.part_heading != part:
            part = p.part_heading
            document.add_paragraph(part, style="Heading 1")
        document.add_paragraph(p.heading, style="Heading 2")
        document.add_paragraph(p.text)
    note = closing_note(pub, paragraphs)
    document.add_paragraph(note)
    properties = document.core_properties
    properties.title = report_title(pub.year)
    properties.subject = "统计数据稿"
    properties.author = properties.last_modified_by = organisation()["producer"]
    properties.comments = note.strip("（）")
    properties.keywords = f"统计数据稿; {REPORT_DB}; {local_time(pub.published_at)}"
    properties.identifier = pub.content_sha256 or ""
    properties.language = "zh-CN"
    properties.revision = 1
    properties.created = properties.modified = pub.published_at.astimezone(dt.timezone.utc)
    document.save(path)
    return reproducible(path, pub.published_at)


# ---------------------------------------------------------------- charts


@functools.cache
def cjk_font() -> str:
    """Register the Noto Sans SC font shipped by the pinned pylopdf-fonts-zh-cn wheel; its family name."""
    import pylopdf_fonts_zh_cn
    from matplotlib import font_manager

    path = str(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def chart(pub: Published, spec: dict, path: Path) -> Path | None:
    """One PNG: the monthly trend of a few figures sharing a unit."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    by_id = {f.figure_id: f for f in pub.figures}
    shown = [by_id[i] for i in spec["figures"] if i in by_id]
    if not shown:
        return None
    # rc_context rather than rcParams: importing or calling this never changes a caller's matplotlib settings.
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": [cjk_font(), "DejaVu Sans"],
                                "axes.unicode_minus": False}):
        figure = Figure(figsize=(8, 5), dpi=120, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        months = list(range(1, 13))
        for f in shown:
            values = [pub.monthly.get(f.figure_id, {}).get(m) for m in pub.months]
            label = f"{f.label}（全年{figure_text(f.value, f.unit, f.marker_list)}）"
            ax.plot(months, [float("nan") if v is None else v for v in values], marker="o", label=label)
        units = "、".join(dict.fromkeys(f.unit for f in shown))
        provisional = any(f.is_provisional for f in shown)
        ax.set_title(f"{pub.year}年{spec['title']}（按月）" + (f"　{PROVISIONAL} 含暂定数" if provisional else ""))
        ax.set_xticks(months, [f"{m}月" for m in months])
        ax.set_ylabel(f"单位：{units}")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        # The source goes where an axis label would (the months need none); the legend below, off the data.
        ax.set_xlabel(f"来源：{'、'.join(dict.fromkeys(pub.source_titles.get(f.source_id, f.source_id) for f in shown))}",
                      fontsize=9, color="#555555", loc="left")
        figure.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
        figure.savefig(path, format="png")
    return path


def charts(pub: Published, out_dir: Path) -> list[Path]:
    """The declared monthly-trend charts, one PNG each."""
    written = [chart(pub, spec, out_dir / f"chart_{pub.year}_{spec['name']}.png") for spec in draft_template().get("charts", [])]
    return [p for p in written if p is not None]


# ---------------------------------------------------------------- entry point


def write_report(year: int, out_dir: Path, warehouse_dir: Path) -> list[Path]:
    """Write the workbook, the Markdown and DOCX drafts and the charts of `year` into out_dir; their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pub = published(year, Path(warehouse_dir))
    paragraphs = draft(pub)
    return [
        workbook(pub, out_dir / f"report_{year}.xlsx"),
        markdown_draft(pub, paragraphs, out_dir / f"report_{year}.md"),
        docx_draft(pub, paragraphs, out_dir / f"report_{year}.docx"),
        *charts(pub, out_dir),
    ]


def publish_reports(warehouse_dir: Path) -> list[Path]:
    """Rewrite the outputs of every published year into warehouse_dir/reports/<year>/, each folder swapped whole."""
    import duckdb

    with duckdb.connect(str(Path(warehouse_dir) / "report.duckdb"), read_only=True) as con:
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM report_figures ORDER BY year").fetchall()]
    written = []
    for year in years:
        target = Path(warehouse_dir) / "reports" / str(year)
        building, old = target.with_name(f".{year}.building"), target.with_name(f".{year}.old")
        for leftover in (building, old):  # of a run that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        write_report(year, building, warehouse_dir)
        # Nobody ever finds a half-written folder: the old one moves aside, the new one takes its name.
        if target.exists():
            target.rename(old)
        building.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        written.append(target)
    return written
