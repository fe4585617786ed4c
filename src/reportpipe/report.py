"""The report-ready outputs of a published year: workbook, draft (Markdown and DOCX), charts.

Everything is read from the published `report.duckdb`, opened read-only, so the
outputs show exactly what analysts can query. The draft's sentences, the part and
section headings and the charts are declared in `transforms/report_draft.yaml`.

Markers (as in the UK Government Statistical Service's spreadsheet guidance):
[p] provisional (a month of the figure's source is missing or in doubt),
[r] revised (a re-delivered month changed the published value),
[x] not available, [z] not applicable.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from reportpipe.settings import TIMEZONE, TRANSFORMS_DIR

DRAFT_TEMPLATE = TRANSFORMS_DIR / "report_draft.yaml"
REPORT_DB = "report.duckdb"

PROVISIONAL = "[p]"
REVISED = "[r]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
RATE_UNIT = "%"
NO_COMMUNITY = "未注明社区"

# Characters that make Excel (or a CSV export of the sheet) read text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
CHINESE_NUMERALS = "〇一二三四五六七八九十"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


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

    @property
    def markers(self) -> str:
        return " ".join(m for m, on in ((PROVISIONAL, self.is_provisional), (REVISED, self.is_revised)) if on)

    @property
    def is_rate(self) -> bool:
        return self.unit == RATE_UNIT


@dataclass(frozen=True)
class Published:
    """What the outputs of one year are made of, read once from report.duckdb."""

    year: int
    figures: tuple[FigureRow, ...]  # in section order, then in the order the draft names them
    monthly: dict[str, dict[str, float | None]]  # figure_id → YYYY-MM → value, loaded months only
    communities: tuple[str, ...]
    by_community: dict[str, dict[str, float | None]]  # figure_id → community → value
    source_titles: dict[str, str]
    files_loaded: int
    last_loaded_at: dt.datetime | None
    published_at: dt.datetime
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
class Paragraph:
    """A paragraph of the draft; `spans` say which figure each number came from."""

    section: str
    heading: str
    text: str
    spans: tuple[tuple[str, int, int], ...] = ()  # (figure_id, start, end) into text


# ---------------------------------------------------------------- reading


@functools.cache
def draft_template(path: Path = DRAFT_TEMPLATE) -> dict:
    """The committed sentence templates, headings and chart declarations."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def section_key(section: str) -> tuple:
    """Sort key of a section such as 一（四）: part, then number (Chinese numerals up to 九十九)."""

    def number(text: str) -> int:
        digits = [CHINESE_NUMERALS.find(c) for c in text]
        if not text or -1 in digits:
            return 10_000
        if len(digits) == 1:
            return digits[0]
        if digits[0] == 10:  # 十X
            return 10 + (digits[1] if len(digits) > 1 else 0)
        return digits[0] * 10 + (digits[2] if len(digits) > 2 else 0)

    match = re.fullmatch(r"(\S+?)（(\S+?)）", section)
    if not match:
        return (10_000, 10_000, section)
    return (number(match[1]), number(match[2]), section)


def template_order() -> dict[str, int]:
    """Each figure's position in the draft's sentences: the report's own order."""
    ids = [m for s in draft_template()["sections"].values() for m in PLACEHOLDER.findall(s.get("text", ""))]
    return {figure_id: i for i, figure_id in enumerate(dict.fromkeys(i for i in ids if i != "year"))}


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


def published(year: int, warehouse_dir: Path) -> Published:
    """Everything the outputs need for `year`, read from warehouse_dir/report.duckdb (read-only)."""
    import duckdb

    from reportpipe.contracts import sources

    report_db = Path(warehouse_dir) / REPORT_DB
    if not report_db.exists():
        raise FileNotFoundError(f"{report_db} does not exist: run the pipeline first")
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
        figures = [FigureRow(*r[:8], bool(r[8]), bool(r[9]), bool(r[10]), r[11]) for r in rows]
        monthly: dict[str, dict[str, float | None]] = {}
        for figure_id, month, value in con.execute(
            "SELECT figure_id, month, value FROM report_figures_monthly WHERE year = ?", [year]
        ).fetchall():
            monthly.setdefault(figure_id, {})[month] = value
        by_community = community_breakdown(con, year, {f.figure_id for f in figures})
        files_loaded, last_loaded_at = con.execute(
            "SELECT count(*), max(loaded_at) FROM loaded_months WHERE left(month, 4) = ?", [str(year)]
        ).fetchone()
    order = template_order()
    figures.sort(key=lambda f: (section_key(f.section), order.get(f.figure_id, len(order)), f.figure_id))
    communities = sorted({c for values in by_community.values() for c in values}, key=lambda c: (c == NO_COMMUNITY, c))
    return Published(
        year=year,
        figures=tuple(figures),
        monthly=monthly,
        communities=tuple(communities),
        by_community=by_community,
        source_titles={s.source_id: s.title for s in sources().values()},
        files_loaded=files_loaded,
        last_loaded_at=last_loaded_at,
        published_at=dt.datetime.fromtimestamp(report_db.stat().st_mtime, dt.timezone.utc),
        report_db=report_db,
    )


# ---------------------------------------------------------------- formatting


def figure_text(value: float | None, unit: str, provisional: bool = False) -> str:
    """A value as the report writes it: 2502件, 100.0%, with [p] while provisional."""
    if value is None:
        shown = "—"  # a rate with nothing to divide by
    elif unit == RATE_UNIT:
        shown = f"{value:.1f}"
    elif float(value).is_integer():
        shown = f"{int(value)}"
    else:
        shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{shown}{unit}{PROVISIONAL if provisional else ''}"


def local_time(moment: dt.datetime | None) -> str:
    """A timestamp in the subdistrict's time zone, to the minute."""
    from zoneinfo import ZoneInfo

    if moment is None:
        return NOT_AVAILABLE
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M")


def excel_number(value: float | None):
    """A numeric cell value: int when whole, so Excel shows 2502, not 2502.0."""
    if value is None:
        return NOT_AVAILABLE
    return int(value) if float(value).is_integer() else float(value)


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
    """ws.append, with every text cell neutralised against formula injection."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        neutralised(cell)


def sheet_name(text: str) -> str:
    """A legal, unique-enough sheet name (Excel forbids []:*?/\\ and more than 31 characters)."""
    return re.sub(r"[\[\]:*?/\\']", "_", text)[:31]


def table_sheet(wb, name: str, title: str, lines: list[str], header: list[str], rows: list[list],
                table_name: str, widths: dict[int, float] | None = None):
    """One table per sheet: a title in A1, explanatory lines, one header row, data, as an Excel table."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    ws = wb.create_sheet(sheet_name(name))
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    for line in lines:
        append_row(ws, [line])
    append_row(ws, header)
    header_row = ws.max_row
    for row in rows or [[NOT_AVAILABLE] + [None] * (len(header) - 1)]:  # an Excel table needs a body row
        append_row(ws, row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.0"
    table = Table(displayName=table_name, ref=f"A{header_row}:{get_column_letter(len(header))}{ws.max_row}")
    # Banded rows only: a bold first column would read as a second header.
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    for column, width in (widths or {}).items():
        ws.column_dimensions[get_column_letter(column)].width = width
    return ws


def year_over_year(f: FigureRow) -> list:
    """Previous year's value, the change and the % change; [x] without a previous year."""
    if not f.has_previous or f.previous is None or f.value is None:
        return [excel_number(f.previous) if f.has_previous else NOT_AVAILABLE, NOT_AVAILABLE, NOT_AVAILABLE]
    change = round(f.value - f.previous, 1)
    # A rate's change is in percentage points; its % change would be a ratio of ratios.
    if f.is_rate or f.previous == 0:
        percent = NOT_APPLICABLE
    else:
        percent = round(100.0 * (f.value - f.previous) / f.previous, 1)
    return [excel_number(f.previous), excel_number(change), percent]


def source_line(pub: Published, source_ids) -> str:
    """Which exports a sheet's figures come from."""
    names = [f"{pub.source_titles.get(s, s)}（{s}）" for s in dict.fromkeys(source_ids)]
    return f"来源：{'、'.join(names)}月度导出，经 reportpipe 校验、入库后由 report.duckdb 计算。"


def section_title(pub: Published, section: str, number: int) -> str:
    """表3　2023年 一（四）加强行政执法规范与效能建设: the table's number, year, section and heading."""
    heading = draft_template()["sections"].get(section, {}).get("heading", "")
    return f"表{number}　{pub.year}年 {section}{re.sub(r'^（[^）]*）', '', heading)}"


SECTION_HEADER = ["指标编号", "指标", "数值", "单位", "标注", "上年数值", "比上年增减", "比上年增减（%）", "来源", "口径", "已载入月份数"]


def section_sheet(wb, pub: Published, section: str, number: int) -> None:
    """One report section's figures: value, unit, markers, year-over-year change, source and definition."""
    figures = pub.in_section(section)
    rows = [
        [f.figure_id, f.label, excel_number(f.value), f.unit, f.markers, *year_over_year(f),
         f"{pub.source_titles.get(f.source_id, f.source_id)}（{f.source_id}）", f.definition, f.months_loaded]
        for f in figures
    ]
    table_sheet(
        wb, section, section_title(pub, section, number),
        [
            "本表每行一个报告指标；单位见“单位”列，比率以百分数（%）计，其增减以百分点计。",
            source_line(pub, (f.source_id for f in figures)),
            f"标注：{PROVISIONAL} 暂定数，{REVISED} 已修订，{NOT_AVAILABLE} 无数据，{NOT_APPLICABLE} 不适用（详见“注释”表）。",
        ],
        SECTION_HEADER, rows, f"table_{number}",
        widths={1: 28, 2: 34, 3: 10, 4: 7, 5: 8, 6: 10, 7: 11, 8: 14, 9: 30, 10: 48, 11: 12},
    )


def monthly_sheet(wb, pub: Published) -> None:
    """Every figure month by month, with the annual value beside it."""
    header = ["指标编号", "报告部分", "指标", "单位", *[f"{m}月" for m in range(1, 13)], "全年", "标注"]
    rows = []
    for f in pub.figures:
        months = pub.monthly.get(f.figure_id, {})
        rows.append([
            f.figure_id, f.section, f.label, f.unit,
            *[excel_number(months[m]) if m in months else NOT_AVAILABLE for m in pub.months],
            excel_number(f.value), f.markers,
        ])
    table_sheet(
        wb, "月度", f"{pub.year}年各指标月度数据", [
            "每行一个指标，1月至12月各一列；比率为当月比率，不能相加。",
            source_line(pub, (f.source_id for f in pub.figures)),
            f"{NOT_AVAILABLE} 表示该月数据尚未载入；{PROVISIONAL}、{REVISED} 见“注释”表。",
        ],
        header, rows, "table_monthly", widths={1: 28, 2: 9, 3: 34, 4: 7, **{c: 8 for c in range(5, 17)}, 17: 9, 18: 8},
    )


def community_sheet(wb, pub: Published) -> None:
    """Figures whose exports record a community, broken down by community."""
    header = ["指标编号", "报告部分", "指标", "单位", *pub.communities, "全街道", "标注"]
    rows = []
    for f in pub.figures:
        if f.figure_id not in pub.by_community:
            continue
        values = pub.by_community[f.figure_id]
        # No row for a community means none of its records matched: 0 for counts and sums.
        cells = [excel_number(values[c]) if c in values else (NOT_AVAILABLE if f.is_rate else 0) for c in pub.communities]
        rows.append([f.figure_id, f.section, f.label, f.unit, *cells, excel_number(f.value), f.markers])
    sources = sorted({f.source_id for f in pub.figures if f.figure_id in pub.by_community})
    table_sheet(
        wb, "社区", f"{pub.year}年分社区数据", [
            "仅含导出记录所属社区的指标；按社区计算，口径与全年指标相同。比率为各社区自身的比率，不能相加。",
            source_line(pub, sources),
            f"{NOT_AVAILABLE} 表示该社区无可计算比率的记录；{NO_COMMUNITY}：记录未填所属社区。",
        ],
        header, rows, "table_community",
        widths={1: 28, 2: 9, 3: 34, 4: 7, **{c: 12 for c in range(5, 5 + len(pub.communities) + 1)}},
    )


def cover_sheet(wb, pub: Published) -> None:
    """Title, what the workbook holds, where the data come from, who to contact, what the markers mean."""
    from openpyxl.styles import Font

    template = draft_template()
    ws = wb.active
    ws.title = "封面"
    lines = [
        template["title"].format(year=pub.year) + "：统计数据",
        "本工作簿内容",
        f"交道口街道{pub.year}年法治政府建设年度情况报告中的统计数据：各部分指标、月度数据、分社区数据及与上年的比较。",
        "报告年度",
        str(pub.year),
        "数据来源",
        f"街道各业务系统每月导出的{len(set(f.source_id for f in pub.figures))}类数据，"
        f"经校验后载入数据仓库；本年度已载入 {pub.files_loaded} 个来源月份，最近一次载入于 {local_time(pub.last_loaded_at)}（北京时间）。",
        "生成方式",
        f"由 reportpipe report 于 {local_time(dt.datetime.now(dt.timezone.utc))}（北京时间）"
        f"读取 {pub.report_db.name}（发布于 {local_time(pub.published_at)}）生成；所有数值由版本控制下的代码计算，未经人工修改。",
        "标注说明",
        f"{PROVISIONAL} 暂定数：该指标来源本年度尚有月份未载入，或最新一次提交被拒收，数值可能变化。",
        f"{REVISED} 已修订：某月数据重新提交后，已发布的数值发生了变化。",
        f"{NOT_AVAILABLE} 无数据；{NOT_APPLICABLE} 不适用。",
        "联系方式",
        template["contact"],
        "制作单位",
        template["producer"],
    ]
    for line in lines:
        append_row(ws, [line])
    ws["A1"].font = Font(bold=True, size=14)
    for (cell,) in ws.iter_rows(min_row=2, max_col=1):
        if cell.value in {"本工作簿内容", "报告年度", "数据来源", "生成方式", "标注说明", "联系方式", "制作单位"}:
            cell.font = Font(bold=True, size=12)
    ws.column_dimensions["A"].width = 110


def contents_sheet(wb, tables: list[tuple[str, str, str]]) -> None:
    """One row per table sheet, linked to it, with what it holds."""
    from openpyxl.worksheet.hyperlink import Hyperlink

    ws = table_sheet(
        wb, "目录", "目录", ["本工作簿每个工作表一张表；点击工作表名称可跳转。"],
        ["工作表", "表格标题", "说明"], [list(t) for t in tables], "table_contents", widths={1: 14, 2: 50, 3: 70},
    )
    header_row = int(re.match(r"A(\d+)", ws.tables["table_contents"].ref)[1])
    for (cell,) in ws.iter_rows(min_row=header_row + 1, max_col=1):
        # A location link stays inside the workbook (a "#..." target would become an external relationship).
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{cell.value}'!A1", display=cell.value)
        cell.style = "Hyperlink"


def notes_sheet(wb) -> None:
    """What the markers and the less obvious columns mean."""
    notes = [
        [PROVISIONAL, "暂定数", "该指标来源在本年度有月份尚未载入，或该月最新一次提交未通过校验（被拒收）；补齐后数值可能变化。"],
        [REVISED, "已修订", "某月数据重新提交（_vN）后，已发布的数值发生了变化；原值与新值见数据仓库 figure_revisions 表（reportpipe revisions）。"],
        [NOT_AVAILABLE, "无数据", "该月尚未载入、上一年度没有该指标，或比率没有可计算的记录。"],
        [NOT_APPLICABLE, "不适用", "上年数值为0时不计算增减百分比；比率的增减以百分点计，不计算增减百分比。"],
        ["口径", "指标定义", "“口径”列为每个指标的计算规则，与 transforms/<来源>/figures.yaml 一致。"],
        ["社区", "分社区数据", "按导出记录的“所属社区”分组，用与全年指标相同的计算规则得出；计数和合计各社区之和等于全街道数值（未注明社区的记录单列）。"],
        ["月度", "月度数据", "每月数值按该月载入的数据计算；计数和合计各月之和等于全年数值。"],
    ]
    table_sheet(wb, "注释", "注释", ["本表解释各表使用的标注和栏目。"],
                ["标注或栏目", "含义", "说明"], notes, "table_notes", widths={1: 14, 2: 14, 3: 100})


def workbook(pub: Published, path: Path) -> Path:
    """The accessible workbook: cover, contents, notes, one sheet per section, monthly, by community."""
    import openpyxl

    wb = openpyxl.Workbook()
    cover_sheet(wb, pub)
    contents: list[tuple[str, str, str]] = []
    # Contents and notes come right after the cover; their rows are known once the tables are named.
    sections = sorted(pub.sections, key=section_key)
    for number, section in enumerate(sections, start=1):
        contents.append((sheet_name(section), section_title(pub, section, number), f"该部分 {len(pub.in_section(section))} 个指标的数值、标注、与上年比较、来源和口径"))
    contents.append(("月度", f"{pub.year}年各指标月度数据", "每个指标1月至12月的数值和全年数值"))
    contents.append(("社区", f"{pub.year}年分社区数据", "导出记录所属社区的指标，按社区分列"))
    contents_sheet(wb, [("注释", "注释", "各表使用的标注和栏目的含义"), *contents])
    notes_sheet(wb)
    for number, section in enumerate(sections, start=1):
        section_sheet(wb, pub, section, number)
    monthly_sheet(wb, pub)
    community_sheet(wb, pub)
    # Screen readers announce the document title; GSS asks for it in the file's properties.
    wb.properties.title = wb["封面"]["A1"].value
    wb.properties.creator = draft_template()["producer"]
    wb.properties.language = "zh-CN"
    wb.save(path)
    return path


# ---------------------------------------------------------------- draft


def filled(text: str, pub: Published, section: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
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
                raise ValueError(f"{DRAFT_TEMPLATE.name}: section {section} names {name}, a figure of {figure.section}")
            start = sum(map(len, out))
            out.append(figure_text(figure.value, figure.unit, figure.is_provisional))
            spans.append((name, start, start + len(out[-1])))
        else:  # a figure not published for this year: say so rather than fail the whole draft
            out.append(NOT_AVAILABLE)
        at = match.end()
    out.append(text[at:])
    return "".join(out), tuple(spans)


def draft(pub: Published) -> list[Paragraph]:
    """The draft's paragraphs: one per section, its figures in the report's sentences."""
    # A figure no sentence names gets a plain sentence of its own: a figure added to
    # figures.yaml shows up in the draft before anyone writes its sentence.
    template = draft_template()
    paragraphs = []
    for section in sorted(pub.sections, key=section_key):
        declared = template["sections"].get(section, {})
        text, spans = filled(declared.get("text", ""), pub, section)
        named = {s[0] for s in spans}
        extra = []
        for f in pub.in_section(section):
            if f.figure_id not in named:
                start = len(text) + sum(map(len, extra)) + len(f.label)
                shown = figure_text(f.value, f.unit, f.is_provisional)
                extra.append(f"{f.label}{shown}。")
                spans += ((f.figure_id, start, start + len(shown)),)
        paragraphs.append(Paragraph(section, declared.get("heading", section), text + "".join(extra), spans))
    return paragraphs


def part_headings(pub: Published, paragraphs: list[Paragraph]) -> dict[str, str]:
    """The heading of each report part (一、…), keyed by the first section under it."""
    parts, seen = {}, set()
    for p in paragraphs:
        part = p.section.split("（")[0]
        if part not in seen:
            seen.add(part)
            parts[p.section] = draft_template().get("parts", {}).get(part, part).format(year=pub.year)
    return parts


def draft_title(pub: Published) -> str:
    """The draft's title: the report's, marked as the statistics draft."""
    return draft_template()["title"].format(year=pub.year) + "（统计数据稿）"


def draft_note(pub: Published) -> str:
    """The line under the title saying where the numbers come from and what [p] means."""
    provisional = sum(f.is_provisional for f in pub.figures)
    note = f"本稿数字由 reportpipe 从 {pub.report_db.name}（发布于北京时间 {local_time(pub.published_at)}）自动填入。"
    if provisional:
        note += f"标有{PROVISIONAL}的{provisional}个数字为暂定数：其来源本年度尚有月份未载入或被拒收。"
    return note


def markdown_draft(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    """The draft as Markdown: title, note, part and section headings, one paragraph per section."""
    parts = part_headings(pub, paragraphs)
    lines = [f"# {draft_title(pub)}", "", draft_note(pub), ""]
    for p in paragraphs:
        if p.section in parts:
            lines += [f"## {parts[p.section]}", ""]
        lines += [f"### {p.heading}", "", p.text, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def docx_draft(pub: Published, paragraphs: list[Paragraph], path: Path) -> Path:
    """The same draft as a Word document, for the people who finish the report's prose."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    for style in ("Normal", "Title", "Heading 1", "Heading 2"):
        # Word picks the East Asian font separately; without it Chinese falls back to whatever is installed.
        document.styles[style].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    document.add_heading(draft_title(pub), level=0)
    document.add_paragraph(draft_note(pub))
    parts = part_headings(pub, paragraphs)
    for p in paragraphs:
        if p.section in parts:
            document.add_heading(parts[p.section], level=1)
        document.add_heading(p.heading, level=2)
        document.add_paragraph(p.text)
    document.core_properties.title = draft_title(pub)
    document.core_properties.author = draft_template()["producer"]
    document.save(path)
    return path


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
            label = f"{f.label}（全年{figure_text(f.value, f.unit, f.is_provisional)}）"
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
