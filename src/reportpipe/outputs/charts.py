"""The report's charts (transforms/report_draft.yaml): one PNG per chart at print resolution (300 dpi), one unit
per chart, Chinese labels, markers kept."""

from __future__ import annotations

import functools
from pathlib import Path

from reportpipe.outline import DRAFT_TEMPLATE, TemplateError, draft_template
from reportpipe.outputs.numbers import PROVISIONAL, figure_text
from reportpipe.outputs.published import Published


@functools.cache
def cjk_font() -> str:
    """Register the Noto Sans SC font shipped by the pinned pylopdf-fonts-zh-cn wheel; its family name."""
    import pylopdf_fonts_zh_cn
    from matplotlib import font_manager

    path = str(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


PRINT_DPI = 300


def chart(pub: Published, spec: dict, path: Path) -> Path | None:
    """One PNG: the monthly trend of a few figures sharing a unit."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    by_id = {f.figure_id: f for f in pub.figures}
    shown = [by_id[i] for i in spec["figures"] if i in by_id]
    if not shown:
        return None
    units = {f.unit for f in shown}
    if len(units) > 1:
        raise TemplateError(f"{DRAFT_TEMPLATE.name}: chart {spec['name']} mixes the units {'、'.join(sorted(units))}"
                            " on one axis: give each unit a chart of its own")
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
        provisional = any(f.is_provisional for f in shown)
        ax.set_title(f"{pub.year}年{spec['title']}（按月）" + (f"　{PROVISIONAL} 含暂定数" if provisional else ""))
        ax.set_xticks(months, [f"{m}月" for m in months])
        ax.set_ylabel(f"单位：{units.pop()}")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        # The source goes where an axis label would (the months need none); the legend below, off the data.
        ax.set_xlabel(f"来源：{'、'.join(dict.fromkeys(pub.source_titles.get(f.source_id, f.source_id) for f in shown))}",
                      fontsize=9, color="#555555", loc="left")
        figure.legend(loc="outside lower center", ncols=2, fontsize=9, frameon=False)
        figure.savefig(path, format="png", dpi=PRINT_DPI)
    return path


def charts(pub: Published, out_dir: Path) -> list[Path]:
    """The declared monthly-trend charts, one PNG each."""
    written = [chart(pub, spec, out_dir / f"chart_{pub.year}_{spec['name']}.png") for spec in draft_template().get("charts", [])]
    return [p for p in written if p is not None]
