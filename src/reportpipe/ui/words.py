"""The operator's page in the language of the Airflow UI: 简体中文 or English.

The language comes from `?lang=` (the page's own script asks for the UI's, see static/language.js),
then the cookie that remembers it, then the browser's Accept-Language. Every text of the pages is here,
by key; what a delivered file or the pipeline says (file names, problems, SQL) is shown as it is.
"""

from __future__ import annotations

from reportpipe.statistics.status import LEGEND

LANGUAGES = ("zh-CN", "en")
COOKIE = "reportpipe_lang"

WORDS: dict[str, tuple[str, str]] = {  # key: (简体中文, English)
    "status": ("报告数据状态", "Report status"),
    "data_docs": ("全部校验结果（Data Docs）", "every validation (Data Docs)"),
    "published": ("发布于 {at}（北京时间）；{year}年已载入 {files} 个文件。数据取自 report.duckdb。",
                  "Published {at} (Beijing time); {files} files of {year} loaded. Read from report.duckdb."),
    "nothing": ("尚无任何提交。", "Nothing has been delivered yet."),
    "awaited": ("等待中的导出", "Exports awaited"),
    "awaited_intro": ("以下业务系统{month}月的导出尚未收到：对应的 ingest 任务处于等待（deferred）状态，"
                      "收到文件后自动载入，不占用工作进程。",
                      "The exports of {month} below have not arrived: their ingest runs wait for them (deferred, "
                      "holding no worker) and load them when they come."),
    "due": ("截止 {due}", "due {due}"),
    "overdue_now": ("已逾期", "overdue"),
    "grid": ("各来源逐月提交情况", "Deliveries by source and month"),
    "source": ("来源", "source"),
    "month": ("{m}月", "{m}月"),
    "validation_of": ("{file} 的校验结果", "validation of {file}"),
    "why": ("原因", "why"),
    "why_title": ("被拒收的原因", "why rejected"),
    "flag": ("标记", "flag"),
    "flags": ("提醒", "Flags"),
    "overdue": ("{source} {month}：已逾期，截至 {due} 未收到", "{source} {month}: overdue, no delivery by {due}"),
    "accepted": (" — 已确认：{note}", " — accepted: {note}"),
    "accept_hint": ("（核实后执行 {command} 可解除）", " ({command} clears it)"),
    "rejected": ("被拒收的提交", "Rejected deliveries"),
    "none_in": ("{year}年没有。", "None in {year}."),
    "rows": ("{rows} 行", "{rows} rows"),
    "validation": ("校验结果", "validation"),
    "figures": ("{year}年指标", "Figures {year}"),
    "no_figures": ("{year}年尚无发布的指标。", "No figures published for {year}."),
    "markers": ("{p} 暂定数：该来源有月份缺失、最新一次提交被拒收，或与历史数据不符尚未确认。"
                "{r} 已修订：某月重新提交后，已发布的数值发生了变化。点击指标查看计算说明。",
                "{p} provisional: a month of the source is missing, its latest delivery was rejected, or its "
                "history flagged it. {r} revised: a re-delivered month changed the published value. Each figure "
                "links to its explanation."),
    "section": ("章节", "section"),
    "figure": ("指标", "figure"),
    "value": ("数值", "value"),
    "marker": ("标注", "marker"),
    "back": ("← {year}年报告数据状态", "← report status {year}"),
    "caliber": ("口径", "What it counts"),
    "computation": ("计算方法（与 {command} 相同）", "How it is computed (the same as {command})"),
    "district_title": ("{district}各街道比较", "{district}: its offices side by side"),
    "to_offices": ("← 各街道报告数据状态", "← each office's report status"),
    "district_link": ("{district}各街道比较", "{district}: offices compared"),
    "district_intro": ("发布于 {at}（北京时间）。全区数值按全区各街道的全部记录以各指标自身的口径计算：计数与合计为各街道之和，"
                       "比率由分子、分母之和重新计算。各街道数值下为其占全区的百分比（比率不计算）。"
                       "{p} 暂定数：该街道（或全区中某街道）尚有月份未载入或未确认。",
                       "Published {at} (Beijing time). The district's figures are computed over every office's rows, "
                       "each by its own definition: counts and sums add up, rates come from the summed numerators "
                       "and denominators. Under each office's value, its share of the district's (none for rates). "
                       "{p} provisional: a month of the office (or of an office of the district) is missing or in doubt."),
    "share": ("占 {share}%", "{share}% of it"),
    "comparison_workbook": ("比较工作簿（xlsx）", "comparison workbook (xlsx)"),
    "problem": ("出错了", "Something went wrong"),
    "login": ("请先登录 Airflow，再打开本页。", "Log in to Airflow, then open this page again."),
    "login_link": ("登录 Airflow", "Log in to Airflow"),
}
# The grid's legend, by the state a cell is in (the page's CSS class too): in English as
# `reportpipe status` prints it (statistics.status.LEGEND), in Chinese here.
LEGEND_ZH = {
    "loaded": "vN：已载入第 N 版",
    "newer-rejected": "vN!：已载入，较新的一次提交被拒收",
    "anomaly": "vN?：与该来源的历史数据不符（核实后 reportpipe accept 可解除）",
    "accepted": "vN✓：已核实并确认",
    "rejected": "✗vN：仅有被拒收的提交",
    "missing": "·：尚未提交",
    "overdue": "late：截止日前未提交",
}
WORDS |= {f"legend:{state}": (LEGEND_ZH[state], english) for state, english in LEGEND.items()}


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """zh-CN or en: the one asked for, else the one remembered, else the browser's first choice."""
    for wanted in (query, cookie):
        if wanted in LANGUAGES:
            return wanted
    first = (accept_language or "").split(",")[0].strip().lower()
    return "zh-CN" if first.startswith("zh") else "en"


def words(language: str):
    """`t(key, **values)` for the templates, in `language`."""
    index = LANGUAGES.index(language)

    def t(key: str, **values) -> str:
        return WORDS[key][index].format(**values)

    return t
