"""The workbook of a published year, as data: its cover, notes and tables (reportpipe.outputs.spreadsheet writes it).

One sheet per report section with figures (value, markers, the draft's wording, the change on last
year, source, 口径), the figures month by month and by community, in the outline's order.
"""

from __future__ import annotations

import re
from pathlib import Path

from reportpipe.outline import NO_FIGURES, outline, outline_of, report_title
from reportpipe.outputs.numbers import (
    APPROXIMATE,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    POINTS,
    PROVISIONAL,
    REVISED,
    approximation_rule,
    figure_text,
    table_number,
)
from reportpipe.outputs.published import FigureRow, Published, provenance
from reportpipe.outputs.spreadsheet import Cover, Gap, Settings, Table, write
from reportpipe.statistics.figures import NO_COMMUNITY


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
    return {i: m for _, sections in outline_of(pub.year, pub.sections) for s in sections for i, m in s.approximate.items()}


# Columns sized so that every sheet printed one page wide on A4 landscape keeps its text at 10 pt or
# more (tests/test_report_print.py): at most about 120 of Excel's width units a sheet; long labels,
# sources and definitions wrap; a heading breaks only where it has a line break. A figure_id stays on
# one line (the longest has 29 characters).
ID_WIDTH = 30
TOTAL = "全街道"
SECTION_HEADER = ("指标", "数值", "单位", "标注", "报告稿\n写法", "上年数值", "比上年\n增减", "比上年\n增减（%）",
                  "来源", "已载入\n月份数", "指标编号")
HALVES = (("上半年", range(1, 7)), ("下半年", range(7, 13)))


def section_table(pub: Published, section: str, number: int) -> Table:
    """One report section's figures: value, unit, markers, the draft's wording, year-over-year change, source."""
    approximate = approximations(pub)
    figures = pub.in_section(section)
    rows = [
        [f.label, table_number(f.value, f.unit), f.unit, f.markers,
         figure_text(f.value, f.unit, approximate=approximate.get(f.figure_id)), *year_over_year(f),
         pub.source_titles.get(f.source_id, f.source_id), f.months_loaded, f.figure_id]
        for f in figures
    ]
    return Table(
        section, section_title(pub, section, number),
        (
            "本表每行一个报告指标；单位见“单位”列，比率以百分数（%）计，其增减以百分点计。",
            source_line(pub, (f.source_id for f in figures)),
            f"标注：{PROVISIONAL} 暂定数，{REVISED} 已修订，{NOT_AVAILABLE} 无数据，{NOT_APPLICABLE} 不适用；“{APPROXIMATE}”见“注释”表；"
            "各指标的口径见“口径”表。",
        ),
        SECTION_HEADER, rows, f"table_{number}",
        widths={1: 16, 2: 9, 3: 5, 4: 5, 5: 10, 6: 9, 7: 8, 8: 10, 9: 10, 10: 7, 11: ID_WIDTH},
        description=f"该部分 {len(figures)} 个指标的数值、标注、报告稿写法、与上年比较和来源",
    )


def caliber_table(pub: Published) -> Table:
    """What each figure counts, in plain Chinese: too long for the section tables' rows."""
    rows = [[f.section, f.label, f.caliber, pub.source_titles.get(f.source_id, f.source_id), f.figure_id]
            for f in pub.figures]
    return Table(
        "口径", f"{pub.year}年各指标口径", (
            "每行一个指标：统计哪些记录，均按参照日期（如收件时间、结案日期）在报告年度内的记录计算。",
            "机器可读的计算规则见 reportpipe explain <指标编号>。",
        ),
        ("章节", "指标", "口径", "来源", "指标编号"), rows, "table_caliber",
        widths={1: 9, 2: 18, 3: 50, 4: 12, 5: ID_WIDTH},
        description="每个指标统计哪些记录",
    )


def monthly_tables(pub: Published) -> list[Table]:
    """Every figure month by month, with the annual value beside it: a half year a sheet, to print legibly."""
    tables = []
    for number, (half, months) in enumerate(HALVES, start=1):
        rows = []
        for f in pub.figures:
            monthly = pub.monthly.get(f.figure_id, {})
            keys = [f"{pub.year}-{m:02d}" for m in months]
            rows.append([f.label, f.unit, *[table_number(monthly[k], f.unit) if k in monthly else NOT_AVAILABLE for k in keys],
                         table_number(f.value, f.unit), f.markers, f.figure_id])
        tables.append(Table(
            f"月度（{half}）", f"{pub.year}年各指标月度数据（{half}）", (
                f"每行一个指标，{months[0]}月至{months[-1]}月各一列，全年数值在后；比率为当月比率，不能相加。",
                source_line(pub, (f.source_id for f in pub.figures)),
                f"{NOT_AVAILABLE} 表示该月数据尚未载入；{PROVISIONAL}、{REVISED} 见“注释”表。",
            ),
            ("指标", "单位", *[f"{m}月" for m in months], "全年", "标注", "指标编号"), rows, f"table_monthly_{number}",
            widths={1: 16, 2: 5, **{c: 8 for c in range(3, 9)}, 9: 9, 10: 5, 11: ID_WIDTH},
            description=f"每个指标{months[0]}月至{months[-1]}月的数值和全年数值",
        ))
    return tables


def community_table(pub: Published) -> Table:
    """Figures whose exports record a community, community by community, each figure's total after them."""
    rows = []
    for f in pub.figures:
        if f.figure_id not in pub.by_community:
            continue
        values = pub.by_community[f.figure_id]
        for c in pub.communities:
            # No row for a community means none of its records matched: 0 for counts and sums.
            value = table_number(values[c], f.unit) if c in values else (NOT_AVAILABLE if f.is_rate else table_number(0, f.unit))
            rows.append([f.label, c, value, f.unit, f.markers, f.figure_id])
        rows.append([f.label, TOTAL, table_number(f.value, f.unit), f.unit, f.markers, f.figure_id])
    sources = sorted({f.source_id for f in pub.figures if f.figure_id in pub.by_community})
    return Table(
        "社区", f"{pub.year}年分社区数据", (
            f"每个指标每个社区一行，其后一行为{TOTAL}；按社区计算，口径与全年指标相同。比率为各社区自身的比率，不能相加。",
            source_line(pub, sources),
            f"{NOT_AVAILABLE} 表示该社区无可计算比率的记录；{NO_COMMUNITY}：记录未填所属社区。",
        ),
        ("指标", "社区", "数值", "单位", "标注", "指标编号"), rows, "table_community",
        widths={1: 18, 2: 13, 3: 10, 4: 5, 5: 6, 6: ID_WIDTH},
        description="导出记录所属社区的指标，按社区分列",
    )


def cover(pub: Published) -> Cover:
    """Title, what the workbook holds, where the data come from, who to contact, what the markers mean."""
    return Cover(report_title(pub.office, pub.year) + "：统计数据", (
        ("本工作簿内容", (f"{report_title(pub.office, pub.year)}中的统计数据：各部分指标及与上年的比较、各指标口径、月度数据、分社区数据。",)),
        ("报告年度", (str(pub.year),)),
        ("数据来源", (f"街道各业务系统每月导出的{len(set(f.source_id for f in pub.figures))}类数据，"
                      f"经校验后载入数据仓库；本年度已载入 {pub.files_loaded} 个来源月份。",)),
        ("生成方式", (f"由 reportpipe 读取{provenance(pub)}生成；所有数值由版本控制下的代码计算，未经人工修改。",)),
        ("数字格式", ("表中整数带千位分隔符（2,502），比率保留一位小数并带%（100.0%），与报告稿一致；"
                      "报告稿正文中整数不带分隔符（2502件）。",)),
        ("标注说明", (f"{PROVISIONAL} 暂定数：该指标来源本年度尚有月份未载入，或最新一次提交被拒收，数值可能变化。",
                      f"{REVISED} 已修订：某月数据重新提交后，已发布的数值发生了变化。",
                      f"{NOT_AVAILABLE} 无数据；{NOT_APPLICABLE} 不适用。")),
        ("联系方式", (pub.office.contact,)),
        ("制作单位", (pub.office.producer,)),
    ))




def notes_table(pub: Published) -> Table:
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
        ["口径", "指标的统计范围", "“口径”表用文字说明每个指标统计哪些记录，均按参照日期（如收件时间、结案日期）在报告年度内的记录计算；机器可读的计算规则见 reportpipe explain <指标编号>。"],
        ["社区", "分社区数据", "按导出记录的“所属社区”分组，用与全年指标相同的计算规则得出；计数和合计各社区之和等于全街道数值（未注明社区的记录单列）。"],
        ["月度", "月度数据", "每月数值按该月载入的数据计算，上半年、下半年各一表；计数和合计各月之和等于全年数值。"],
    ]
    return Table("注释", "注释", ("本表解释各表使用的标注和栏目。",), ("标注或栏目", "含义", "说明"), notes, "table_notes",
                 widths={1: 12, 2: 14, 3: 80}, description="各表使用的标注、数字格式、约数和栏目的含义")


def workbook(pub: Published, path: Path) -> Path:
    """The accessible workbook: cover, contents, notes, one sheet per section with figures, 口径, monthly, by community."""
    # The contents follow the report's outline: every section of a part that reports figures,
    # a section without figures listed (unlinked) so that the outline has no holes.
    entries: list[Table | Gap] = []
    for _, sections in outline_of(pub.year, pub.sections):
        if not any(pub.in_section(s.section) for s in sections):
            continue
        for s in sections:
            if pub.in_section(s.section):
                entries.append(section_table(pub, s.section, sum(isinstance(e, Table) for e in entries) + 1))
            else:
                entries.append(Gap(f"{pub.year}年 {s.section}{re.sub(r'^（[^）]*）', '', s.heading)}", NO_FIGURES))
    entries += [caliber_table(pub), *monthly_tables(pub), community_table(pub)]
    return write(path, cover(pub), notes_table(pub), entries,
                 Settings(creator=pub.office.producer, published_at=pub.published_at))
