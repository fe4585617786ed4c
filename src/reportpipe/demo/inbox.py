"""Demo inbox: a reproducible year of monthly exports of every source, as SPEC.md describes them.

The twelve sources of the 2023 report each have a generator of their own that reproduces the
report's figures exactly (GENERATORS). A source added since gets rows from its contract alone
(`from_contract`), so that adding a source is adding a folder under transforms/, demo data included.

A demo district (`write_district`) gives each other office the same year, thinned to a volume of its
own and moved to its own communities and name, so that each office's figures are its own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from reportpipe.contracts import sources
from reportpipe.demo.contract_rows import from_contract
from reportpipe.demo.sources import GENERATORS
from reportpipe.demo.values import ALL_MONTHS, COMMUNITIES
from reportpipe.offices import Deployment, Office
from reportpipe.outputs.office_zip import reproducible
from reportpipe.settings import PROJECT_DIR, TIMEZONE

FIGURES_CSV = PROJECT_DIR / "reference" / "figures_2023.csv"

# CSV encoding per source, and the months in which the exporting system wrote another one.
ENCODINGS = {
    "work_orders": ("utf-8", {}),
    "inspections": ("gb18030", {11: "utf-8", 12: "utf-8"}),  # the old system was replaced in November
    "petitions": ("gb18030", {6: "utf-8-sig"}),
    "petition_receptions": ("utf-8-sig", {}),
    "mediations": ("utf-8", {2: "gb18030", 3: "gb18030"}),
    "supplies": ("utf-8-sig", {}),
    "litigation": ("utf-8", {}),
}
# XLSX layout per source: title text, months with a title row, with a 合计 row, with Excel date cells.
XLSX_LAYOUT = {
    "penalty_cases": ("交道口街道综合执法队结案案件统计（{}年{}月）", ALL_MONTHS, ALL_MONTHS, range(1, 7)),
    "patrol_logs": ("交道口街道综合执法队勤务日志（{}年{}月）", (), range(7, 13), (1, 3, 5, 7, 9, 11)),
    "disputes": ("交道口街道矛盾纠纷受理台账（{}年{}月）", (1, 2, 3), (), range(4, 13)),
    "npc_items": ("交道口街道人大代表建议意见办理情况（{}年{}月）", ALL_MONTHS, (), ()),
    "activity_ledger": ("交道口街道工作台账（{}年{}月）", (), (6, 12), ALL_MONTHS),
}
DATE_STYLES = ("{0:%Y-%m-%d}", "{0.year}/{0.month}/{0.day}", "{0.year}年{0.month}月{0.day}日")
DATETIME_STYLES = ("{0:%Y-%m-%d %H:%M}", "{0:%Y-%m-%d %H:%M:%S}", "{0.year}/{0.month}/{0.day} {0:%H:%M}")
SPACES = (" ", "  ", "\u3000")

# Monthly weights: street business peaks in summer, dust in spring and autumn, fire safety in November.
def read_figures(path: Path = FIGURES_CSV) -> dict[str, int]:
    """Target value per figure_id."""
    with path.open(encoding="utf-8") as f:
        return {row["figure_id"]: int(row["value"]) for row in csv.DictReader(f)}


# ---- writing the files ---------------------------------------------------------------------

def file_look(source: str, year: int, month: int):
    """The exporting habits of one file: its usual date style and how often cells carry stray spaces."""
    rng = random.Random(f"{source}/{year}-{month:02d}")  # same seed for a re-delivery: same look, same spaces
    style, pad_rate = rng.randrange(3), rng.choice((0, 0.003, 0.01, 0.03))

    def render(value, excel_dates: bool = False):
        """The cell as exported: a date in this file's style (or an Excel date), text now and then padded."""
        if isinstance(value, dt.date) and excel_dates:
            return value
        if isinstance(value, dt.date):
            styles = DATETIME_STYLES if isinstance(value, dt.datetime) else DATE_STYLES
            value = styles[style if rng.random() < 0.95 else rng.randrange(3)].format(value)
        if isinstance(value, str) and rng.random() < pad_rate:
            value = rng.choice(("", *SPACES)) + value + rng.choice(SPACES)
        return value

    return render


def write_csv(path: Path, encoding: str, columns: list[str], rows: list[dict], render) -> None:
    """One CSV export in the given encoding."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(columns)
    out.writerows([render(row[c]) for c in columns] for row in rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_xlsx(path: Path, layout: tuple, year: int, month: int, columns: list[str], rows: list[dict], render) -> None:
    """One XLSX export, with the title row, 合计 row and date cells its layout asks for."""
    title, title_months, total_months, date_months = layout
    wb = openpyxl.Workbook()
    ws = wb.active
    if month in title_months:
        ws.append([title.format(year, month)])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.append(columns)
    for row in rows:
        ws.append([render(row[c], month in date_months) for c in columns])
    if month in total_months:
        ws.append(["合计"] + [sum(r[c] for r in rows) if rows and all(type(r[c]) is int for r in rows) else None
                              for c in columns[1:]])
    wb.save(path)
    # A fixed export time (the 3rd of the next month, 09:00), so that the same year is the same bytes.
    reproducible(path, dt.datetime(year + month // 12, month % 12 + 1, 3, 9, 0, tzinfo=ZoneInfo(TIMEZONE)))


DEMO_OFFICE = "交道口街道"


def _moved_to(office: Office | None):
    """(keep a row?, the row in the office's words): the demo's own office keeps every row as it is; another
    office keeps a share of them of its own (40 to 100 %), its communities for the demo's and its name for
    the demo office's."""
    if office is None or (office.name == DEMO_OFFICE and tuple(COMMUNITIES) == office.communities):
        return (lambda rng: True), (lambda row: row)
    share = 0.4 + 0.6 * (zlib.crc32(office.id.encode()) % 1000) / 1000
    names = {old: office.communities[i % len(office.communities)] for i, old in enumerate(COMMUNITIES)}
    names[DEMO_OFFICE] = office.name
    pattern = re.compile("|".join(map(re.escape, names)))

    def moved(row: dict) -> dict:
        return {k: pattern.sub(lambda m: names[m.group()], v) if isinstance(v, str) else
                moved(v) if isinstance(v, dict) else v for k, v in row.items()}

    return (lambda rng: rng.random() < share), moved


def write_district(inbox: Path, deployment: Deployment, year: int = 2023) -> list[Path]:
    """Write a year of exports for each office of a deployment into `<inbox>/<office_id>/`; the files written."""
    return [p for office in deployment.offices for p in write_inbox(Path(inbox) / office.id, year, office)]


def write_inbox(inbox: Path, year: int = 2023, office: Office | None = None) -> list[Path]:
    """Write a year of monthly exports for every source (of the demo office, or moved to `office`); return the
    files written."""
    fig = read_figures()
    keep, moved = _moved_to(office)
    written = []
    for source, contract in sources().items():
        prefix, columns = contract.file_prefix, [c.name for c in contract.columns]
        ref = contract.column(contract.reference_date).name
        rng = random.Random(f"{source}/{year}")
        generate, ext = GENERATORS.get(source, (None, "csv"))
        rows = generate(fig, year, rng) if generate else from_contract(contract, year, rng)
        thinning = random.Random(f"{source}/{year}/{office.id if office else ''}")
        rows = [moved(r) for r in rows if keep(thinning)]
        folder = Path(inbox) / source
        folder.mkdir(parents=True, exist_ok=True)
        for month in ALL_MONTHS:
            current = [r for r in rows if r[ref].month == month]
            versions = [current]
            if any("_v1" in r for r in current):  # re-delivered month: the first delivery held older values
                versions.insert(0, [{**r, **r.get("_v1", {})} for r in current])
            for version, version_rows in enumerate(versions, 1):
                path = folder / f"{prefix}_{year}{month:02d}{f'_v{version}' if version > 1 else ''}.{ext}"
                render = file_look(source, year, month)
                if ext == "csv":
                    encoding, exceptions = ENCODINGS.get(source, ("utf-8", {}))
                    write_csv(path, exceptions.get(month, encoding), columns, version_rows, render)
                else:
                    layout = XLSX_LAYOUT[source]
                    layout = (moved({"title": layout[0]})["title"], *layout[1:])
                    write_xlsx(path, layout, year, month, columns, version_rows, render)
                written.append(path)
    return written
