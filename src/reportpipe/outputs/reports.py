"""The report-ready outputs of a published year: workbook, draft (Markdown and DOCX), charts.

Everything is read from the office's published `report.duckdb`. Who publishes the report is
declared in the offices file (reportpipe.offices); the report's outline, the draft's sentences and the
charts in `transforms/report_draft.yaml`; each figure's 口径 in plain Chinese in its
`figures.yaml`. The files are reproducible: written twice from the same report.duckdb they
are the same bytes.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from reportpipe.offices import Office, deployment
from reportpipe.outline import DRAFT_TEMPLATE
from reportpipe.outputs.charts import charts
from reportpipe.outputs.docx import docx_draft
from reportpipe.outputs.draft import draft, markdown_draft, provenance_file
from reportpipe.outputs.published import publication_time, published
from reportpipe.outputs.workbook import workbook
from reportpipe.warehouse.publication import open_published
from reportpipe.warehouse.session import locked


def write_report(year: int, out_dir: Path, folder: Path, office: Office) -> list[Path]:
    """Write an office's workbook, Markdown and DOCX drafts, where their numbers come from, and the charts of
    `year` into out_dir, from the report.duckdb in `folder`; their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pub = published(year, Path(folder), office)
    paragraphs = draft(pub)
    # Each a base name of its own: a writer who turns them into PDFs in one folder gets one PDF each.
    return [
        workbook(pub, out_dir / f"report_{year}_figures.xlsx"),
        markdown_draft(pub, paragraphs, out_dir / f"report_{year}_text.md"),
        docx_draft(pub, paragraphs, out_dir / f"report_{year}_draft.docx"),
        provenance_file(pub, paragraphs, out_dir / f"report_{year}_sources.txt"),
        *charts(pub, out_dir),
    ]


REPORTS = "reports"  # <warehouse>/reports/<office_id>/<year>/: each office's outputs
WRITTEN_FROM = ".written_from"  # in a year's folder: what its outputs were written from


def _source_of_outputs(content_sha256: str, office: Office) -> str:
    """The publication's content and the declarations the outputs are made with: when both are the same,
    so are the outputs."""
    digest = hashlib.sha256(content_sha256.encode())
    digest.update(DRAFT_TEMPLATE.read_bytes())
    digest.update(office.model_dump_json().encode())
    return digest.hexdigest()


def publish_reports(warehouse_dir: Path, office_id: str | None = None, wait_s: float = 3600,
                    on_wait: Callable[[str], None] | None = None) -> list[Path]:
    """Rewrite the outputs of every year an office has published into warehouse_dir/reports/<office_id>/<year>/,
    each folder swapped whole; a year whose publication and templates are as when its folder was written is
    left as it is."""
    office = deployment().office(office_id)
    folder = deployment().folder(warehouse_dir, office.id)
    with locked(folder, wait_s, on_wait):  # one writer of the office's outputs at a time
        return _publish_reports(Path(warehouse_dir), folder, office)


def _publish_reports(warehouse_dir: Path, folder: Path, office: Office) -> list[Path]:
    with open_published(folder) as con:
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM report_figures ORDER BY year").fetchall()]
        written_from = _source_of_outputs(publication_time(con)[1] or "", office)
    written = []
    for year in years:
        target = Path(warehouse_dir) / REPORTS / office.id / str(year)
        marker = target / WRITTEN_FROM
        if marker.is_file() and marker.read_text(encoding="utf-8") == written_from:
            written.append(target)
            continue

        def write(building: Path, year: int = year) -> None:
            write_report(year, building, folder, office)
            (building / WRITTEN_FROM).write_text(written_from, encoding="utf-8")

        written.append(written_whole(target, write))
    return written


def written_whole(target: Path, write: Callable[[Path], None]) -> Path:
    """A folder written beside `target` (`write` fills it), then swapped in: nobody ever finds a half-written
    folder; the old one moves aside and goes, the new one takes its name."""
    building, old = target.with_name(f".{target.name}.building"), target.with_name(f".{target.name}.old")
    for leftover in (building, old):  # of a run that was killed
        shutil.rmtree(leftover, ignore_errors=True)
    building.mkdir(parents=True)
    write(building)
    if target.exists():
        target.rename(old)
    building.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target
