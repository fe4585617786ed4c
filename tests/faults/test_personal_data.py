"""Personal data never reaches analysts in clear, even from the hostile files' rejection messages.

Scanned: every text column of report.duckdb, every Parquet file, every report output
under warehouse/reports/, the rows behind a figure of each source with personal data
(`explain --rows`), and what the runs printed. Looked for: mobile numbers,
010 landlines, 18-character ID numbers, and the demo's personal names, collected
from the demo inbox by the contracts' `pii` columns.
"""

from __future__ import annotations

import functools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import decode, read_table, require_run, text_columns, xlsx_rows
from tests.helpers import cli

# Digits inside a longer run of letters and digits (a sha256, a file id) are no phone number.
PATTERNS = {
    "mobile number": re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])"),
    "landline": re.compile(r"(?<![0-9A-Za-z])010-\d{8}(?![0-9A-Za-z])"),
    "ID number": re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),
}
# One figure per source with personal data: the rows behind it carry its personal columns (hashed).
ROWS_OF = ("orders_zhengtong", "petition_visits", "cases_closed", "disputes_received")


@dataclass
class Personal:
    names: frozenset[str]

    def found_in(self, where: str, text: str) -> list[str]:
        hits = [f"{where}: {kind} {m.group()}" for kind, p in PATTERNS.items() for m in p.finditer(text)]
        # Names are 2-4 characters: look at each place where one could start.
        for m in self.first_characters.finditer(text):
            i = m.start()
            hits += [f"{where}: name {text[i:i + n]}" for n in (2, 3, 4) if text[i:i + n] in self.names]
        return hits

    @functools.cached_property
    def first_characters(self) -> re.Pattern:
        return re.compile("[" + "".join(sorted({re.escape(n[0]) for n in self.names})) + "]")


def export_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and records of a demo export, every cell as trimmed text."""
    if path.suffix == ".csv":
        header, rows, _ = read_table(path)
    else:
        header, rows = xlsx_rows(path)
    trim = lambda v: str(v).strip(" \t\u3000")
    return header, [[trim(v) for v in r] for r in rows]


@pytest.fixture(scope="session")
def personal(demo_inbox) -> Personal:
    """The demo's personal names (a cell may hold several: 孙淑珍、韩宝山).

    A name that also stands in a column without personal data (an official's, such as
    the 接待人 王静) is public where it stands there, and is left out.
    """
    import duckdb
    import pyarrow as pa

    from reportpipe.contracts import sources

    names, public = set(), []
    con = duckdb.connect()
    for source in sources().values():
        english = {c.name: c.column for c in source.columns}
        columns = {c.column: [] for c in source.columns}
        for path in sorted((demo_inbox / source.source_id).iterdir()):
            header, rows = export_cells(path)
            for i, name in enumerate(header):
                columns[english[name]] += [r[i] for r in rows]
        con.register("cells", pa.table(columns))
        for c in source.columns:
            if c.pii is None:
                public += [v for v, in con.execute(f"SELECT DISTINCT {c.column} FROM cells").fetchall()]
                continue
            # Personal only under a condition (a party that is a person): published in clear otherwise.
            public += [v for v, in con.execute(f"SELECT {c.column} FROM cells WHERE NOT ({c.pii})").fetchall()]
            found = con.execute(f"SELECT {c.column} FROM cells WHERE ({c.pii}) AND {c.column} <> ''").fetchall()
            names.update(n for v, in found for n in re.split(r"[、，,;；\s]+", v)
                         if 2 <= len(n) <= 4 and not re.search(r"[0-9A-Za-z]", n))
        con.unregister("cells")
    public = "\n".join(public)
    names = {n for n in names if n not in public}
    assert len(names) > 100, "the demo inbox has personal names"
    return Personal(frozenset(names))


def database_texts(db: Path) -> list[tuple[str, str]]:
    columns = text_columns(db)
    assert columns
    return [(f"{db.name} {column}", "\n".join(values)) for column, values in columns.items()]


def parquet_texts(warehouse: Path) -> list[tuple[str, str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted((warehouse / "parquet").resolve().rglob("*.parquet"))
    assert files, f"no Parquet files under {warehouse / 'parquet'}"
    texts = []
    for path in files:
        table = pq.read_table(path)
        for name, column in zip(table.column_names, table.columns):
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                texts.append((f"{path.parent.name}/{path.name} {name}", "\n".join(v for v in column.to_pylist() if v is not None)))
    return texts


def report_texts(warehouse: Path) -> list[tuple[str, str]]:
    """Every report output under warehouse/reports/, as the text a reader gets from it."""
    import docx
    import openpyxl
    from PIL import Image

    from reportpipe.outputs.reports import publish_reports

    publish_reports(warehouse)  # what the statistics DAG writes after publishing
    files = sorted(p for p in (warehouse / "reports").rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".xlsx", ".md"}, files
    texts = []
    for path in files:
        if path.suffix == ".xlsx":
            cells = [str(v) for ws in openpyxl.load_workbook(path).worksheets
                     for row in ws.iter_rows(values_only=True) for v in row if v is not None]
            text = "\n".join(cells)
        elif path.suffix == ".docx":
            document = docx.Document(path)
            text = "\n".join([p.text for p in document.paragraphs]
                             + [c.text for t in document.tables for row in t.rows for c in row.cells])
        elif path.suffix == ".png":
            text = "\n".join(f"{k}: {v}" for k, v in Image.open(path).text.items())
        else:
            text = path.read_text(encoding="utf-8")
        texts.append((str(path.relative_to(warehouse)), text))
        if path.suffix in (".xlsx", ".docx"):  # and whatever else the package holds (comments, properties)
            with zipfile.ZipFile(path) as z:
                texts += [(f"{path.name}/{n}", z.read(n).decode("utf-8", "replace")) for n in z.namelist() if n.endswith(".xml")]
    return texts


def rows_texts(warehouse: Path, folder: Path) -> list[tuple[str, str]]:
    texts = []
    for figure_id in ROWS_OF:
        out = folder / f"{figure_id}.csv"
        run = cli("explain", figure_id, "--year", 2023, "--warehouse", warehouse, "--rows", out)
        require_run(run)
        assert out.exists(), run.err
        texts.append((out.name, out.read_text(encoding="utf-8-sig")))
    return texts


TARGETS = {
    "report.duckdb": lambda runs, tmp: database_texts(runs.warehouse / "report.duckdb"),
    "parquet": lambda runs, tmp: parquet_texts(runs.warehouse),
    "reports": lambda runs, tmp: report_texts(runs.warehouse),
    "explain --rows": lambda runs, tmp: rows_texts(runs.warehouse, tmp),
    "run output": lambda runs, tmp: [("first run", runs.first.output), ("re-run", runs.rerun.output)],
}


@pytest.mark.parametrize("target", TARGETS)
def test_no_personal_data_in_clear(runs, personal, tmp_path, target):
    require_run(runs.first)
    hits = [hit for where, text in TARGETS[target](runs, tmp_path) for hit in personal.found_in(where, text)]
    assert not hits, f"{len(hits)} personal values in clear, e.g.:\n" + "\n".join(hits[:20])


def test_the_scan_finds_personal_data_in_the_exports(personal, demo_inbox):
    """The scan can fail: on the delivered files themselves it finds all three kinds and names."""
    text = "\n".join(decode(p.read_bytes())[0] for p in sorted((demo_inbox / "petitions").glob("*.csv")))
    hits = personal.found_in("petitions", text)
    assert {h.split(": ")[1].rsplit(" ", 1)[0] for h in hits} >= {"mobile number", "ID number", "name"}
