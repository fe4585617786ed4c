"""The district's comparison of its offices, read from the district's report.duckdb (read-only): a workbook
(office × figure, a sheet per section of the report, the district's value and each office's share, markers
kept) and a chart per headline figure (each section's first count or sum), a bar per office, under
`<warehouse>/reports/<district_id>/<year>/`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reportpipe.offices import deployment
from reportpipe.outline import outline_of
from reportpipe.outputs.charts import PRINT_DPI, cjk_font
from reportpipe.outputs.numbers import (
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    PROVISIONAL,
    RATE_UNIT,
    REVISED,
    figure_text,
    table_number,
)
from reportpipe.outputs.published import publication_time
from reportpipe.outputs.reports import REPORTS, written_whole
from reportpipe.outputs.spreadsheet import Cover, Settings, Table, write
from reportpipe.outputs.workbook import ID_WIDTH, section_heading
from reportpipe.warehouse.publication import open_published
from reportpipe.warehouse.session import locked


@dataclass(frozen=True)
class Row:
    figure_id: str
    section: str
    label: str
    unit: str
    values: dict[str, tuple[float | None, str]]  # office or district id → (value, markers)


@dataclass(frozen=True)
class Compared:
    year: int
    names: dict[str, str]  # the district's id, then each office's, in the offices file's order → name
    figures: tuple[Row, ...]  # in the report's order
    published_at: dt.datetime

    @property
    def district_id(self) -> str:
        return next(iter(self.names))


def compared(year: int, warehouse_dir: Path) -> Compared:
    district = deployment().district
    names = {district.id: district.name, **{o.id: o.name for o in deployment().offices}}
    with open_published(warehouse_dir) as con:
        rows = con.execute(
            "SELECT f.figure_id, f.section, f.label, f.unit, f.office_id, f.value, f.is_provisional,"
            " EXISTS (SELECT 1 FROM figure_revisions r WHERE r.office_id = f.office_id AND r.year = f.year"
            "         AND r.figure_id = f.figure_id)"
            " FROM report_figures f WHERE f.year = ? ORDER BY f.section_position, f.figure_position", [year]).fetchall()
        published_at = publication_time(con)[0]
    figures: dict[str, Row] = {}
    for figure_id, section, label, unit, office_id, value, provisional, revised in rows:
        row = figures.setdefault(figure_id, Row(figure_id, section, label, unit, {}))
        row.values[office_id] = (value, " ".join(m for m, on in ((PROVISIONAL, provisional), (REVISED, revised)) if on))
    return Compared(year, names, tuple(figures.values()), published_at)


def share(c: Compared, f: Row, office_id: str) -> float | str:
    """An office's share of the district's value, in per cent to one decimal; a marker where there is none."""
    total = f.values.get(c.district_id, (None, ""))[0]
    value = f.values.get(office_id, (None, ""))[0]
    if f.unit == RATE_UNIT:  # rates do not add up
        return NOT_APPLICABLE
    if value is None or not total:  # no figure, or nothing in the district to be a share of
        return NOT_AVAILABLE
    return round(100 * value / total, 1)


def _section_table(c: Compared, section: str, number: int) -> Table:
    rows = []
    for f in (f for f in c.figures if f.section == section):
        for office_id, name in c.names.items():
            value, markers = f.values.get(office_id, (None, ""))
            part = share(c, f, office_id)
            rows.append([f.label, name, table_number(value, f.unit), f.unit,
                         part if isinstance(part, str) else table_number(part, RATE_UNIT), markers, f.figure_id])
    heading = re.sub(r"^（[^）]*）", "", section_heading(section))
    return Table(
        section, f"表{number}　{c.year}年 {section}{heading}：各街道比较",
        (f"每个指标先列{c.names[c.district_id]}全区，再按街道逐行列出；全区数值按全区记录以同一口径计算。",
         "占全区：该街道数值占全区数值的百分比；比率不能相加，不计算占比。"),
        ("指标", "单位名称", "数值", "单位", "占全区", "标注", "指标编号"), rows, f"table_compare_{number}",
        widths={1: 18, 2: 13, 3: 10, 4: 5, 5: 8, 6: 6, 7: ID_WIDTH},
        description=f"{section}{heading}各指标：全区及各街道",
    )


def comparison_workbook(c: Compared, path: Path) -> Path:
    district = c.names[c.district_id]
    sections = list(dict.fromkeys(f.section for f in c.figures))
    ordered = [s.section for _, part in outline_of(c.year, sections) for s in part if s.section in sections]
    tables = [_section_table(c, s, i) for i, s in enumerate(ordered, start=1)]
    title = f"{district}{c.year}年法治政府建设年度情况：各街道比较"
    cover = Cover(title, (
        ("本工作簿内容", (f"{district}所辖{len(c.names) - 1}个街道{c.year}年法治政府建设年度情况报告中的统计数据，"
                          "每部分一表：全区数值及各街道数值、占全区的比重。",)),
        ("计算方法", ("全区数值按全区各街道的全部记录以各指标自身的口径计算：计数与合计为各街道之和，"
                      "比率由全区的分子、分母之和重新计算，不是各街道比率之和或平均。",)),
        ("标注说明", (f"{PROVISIONAL} 暂定数：该街道（或全区中某街道）本年度尚有月份未载入，或最新提交被拒收。",
                      f"{REVISED} 已修订：重新提交的数据改变了已发布的数值。",
                      f"{NOT_AVAILABLE} 无数据；{NOT_APPLICABLE} 不适用（比率不计算占比）。")),
    ))
    notes = Table("注释", "注释", ("本表解释各表使用的标注和栏目。",), ("标注或栏目", "含义"), [
        [PROVISIONAL, "暂定数：全区数值在任一街道为暂定数时亦为暂定数。"],
        [REVISED, "已修订：重新提交的月份改变了已发布的数值。"],
        [NOT_AVAILABLE, "无数据：该街道本年度无该指标。"],
        [NOT_APPLICABLE, "不适用：比率不能相加，不计算占全区比重。"],
        ["占全区", "该街道数值÷全区数值×100%，保留一位小数。"],
    ], "table_notes", widths={1: 12, 2: 80}, description="标注和栏目的含义")
    return write(path, cover, notes, tables, Settings(creator=district, published_at=c.published_at))


def headline_figures(c: Compared) -> list[Row]:
    """Each section's first count or sum: what the district compares its offices on."""
    firsts: dict[str, Row] = {}
    for f in c.figures:
        if f.unit != RATE_UNIT:
            firsts.setdefault(f.section, f)
    return list(firsts.values())


def comparison_chart(c: Compared, f: Row, path: Path) -> Path:
    """A bar per office, largest first, each labelled with its value (and markers): legible with 17 offices."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    offices = sorted(((name, *f.values.get(i, (None, ""))) for i, name in list(c.names.items())[1:]),
                     key=lambda o: -(o[1] or 0))
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": [cjk_font(), "DejaVu Sans"]}):
        figure = Figure(figsize=(8, 1.5 + 0.35 * len(offices)), dpi=120, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        bars = ax.barh([o[0] for o in offices], [o[1] or 0 for o in offices], color="#4472c4")
        ax.bar_label(bars, [NOT_AVAILABLE if value is None else figure_text(value, f.unit, markers.split())
                            for _, value, markers in offices],
                     padding=3, fontsize=9)
        ax.invert_yaxis()
        total, markers = f.values.get(c.district_id, (None, ""))
        ax.set_title(f"{c.year}年各街道{f.label}（全区{figure_text(total, f.unit, markers.split())}）")
        ax.set_xlabel(f"单位：{f.unit}")
        ax.set_xlim(0, max([o[1] or 0 for o in offices] + [1]) * 1.2)  # room for the labels; 0 at the left
        figure.savefig(path, format="png", dpi=PRINT_DPI)
    return path


def write_comparison(year: int, out_dir: Path, warehouse_dir: Path) -> list[Path]:
    """The district's comparison of `year` into out_dir, from `<warehouse>/report.duckdb`: its paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    c = compared(year, Path(warehouse_dir))
    if not c.figures:
        raise LookupError(f"{c.names[c.district_id]} has no figures of {year} in {Path(warehouse_dir) / 'report.duckdb'}")
    return [comparison_workbook(c, out_dir / f"district_{year}_comparison.xlsx"),
            *(comparison_chart(c, f, out_dir / f"district_{year}_{f.figure_id}.png") for f in headline_figures(c))]


def publish_comparison(warehouse_dir: Path, wait_s: float = 3600,
                       on_wait: Callable[[str], None] | None = None) -> list[Path]:
    """Write the district's comparison of every published year to `reports/<district_id>/<year>/`, each folder
    swapped whole; nothing for a deployment without a district."""
    if deployment().district is None:
        return []
    with open_published(warehouse_dir) as con:
        years = [y for y, in con.execute("SELECT DISTINCT year FROM report_figures WHERE office_id = ? ORDER BY 1",
                                         [deployment().district.id]).fetchall()]
    written = []
    with locked(Path(warehouse_dir), wait_s, on_wait):  # the district's own lock: one writer of its outputs
        for year in years:
            written.append(written_whole(Path(warehouse_dir) / REPORTS / deployment().district.id / str(year),
                                         lambda building, year=year: write_comparison(year, building, warehouse_dir)))
    return written
