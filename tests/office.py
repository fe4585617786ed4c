"""LibreOffice and poppler for tests: render Office files to PDF as a reader would print them, read the PDF back.

LibreOffice runs with a private profile (parallel runs do not clash) and, through
fontconfig, the pinned Noto Sans/Serif SC of the pylopdf-fonts-zh-cn wheel: the machine
needs no Chinese system font, and Chinese is laid out with real glyph widths.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.system import require

PROGRAMS = {"soffice": "libreoffice-writer-nogui / libreoffice-calc-nogui", "pdftotext": "poppler-utils",
            "pdfinfo": "poppler-utils"}


def require_office() -> None:
    for program, package in PROGRAMS.items():
        require(shutil.which(program) is not None, f"{program} ({package})", "the test renders the report outputs to PDF")


def fontconfig(folder: Path) -> Path:
    """A fontconfig file: the system's fonts plus the pinned Chinese fonts."""
    import pylopdf_fonts_zh_cn

    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{pylopdf_fonts_zh_cn.sans_path().parent}</dir>\n  <cachedir>{folder / 'fontcache'}</cachedir>\n"
        "</fontconfig>\n", encoding="utf-8")
    return config


def to_pdf(files: list[Path], out_dir: Path) -> list[Path]:
    """Each file rendered to out_dir/<stem>.pdf by headless LibreOffice (stems must differ)."""
    require_office()
    with tempfile.TemporaryDirectory(prefix="reportpipe-soffice-") as scratch:
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig(Path(scratch)))}
        done = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{scratch}/profile", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, files)],
            capture_output=True, text=True, timeout=300, env=env)
    pdfs = [out_dir / f"{f.stem}.pdf" for f in files]
    missing = [p.name for p in pdfs if not p.is_file()]
    if done.returncode != 0 or missing:
        raise RuntimeError(f"soffice did not render {missing} (exit {done.returncode}): {done.stdout}{done.stderr}")
    return pdfs


def pages(pdf: Path) -> list[str]:
    """The text of each page, laid out as printed."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, flags=re.M)]


def words(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """Every word poppler finds, as (page, left, right, top, text) in points from the page's top left."""
    xhtml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found, page = [], 0
    for line in xhtml.splitlines():
        if "<page " in line:
            page += 1
        elif match := re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', line):
            found.append((page, float(match[1]), float(match[3]), float(match[2]), match[4]))
    return found


def font_sizes(pdf: Path) -> list[list[float]]:
    """The size of every run of text on each page, as printed (LibreOffice writes a scaled page's sizes scaled)."""
    import zlib

    data = pdf.read_bytes()
    objects = {int(m[1]): m[2] for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def content(number: int) -> bytes:
        # The stream's bytes are as long as its /Length says (direct or a reference to an object): a
        # compressed stream may itself end in a byte that looks like the line break before `endstream`.
        stream = re.search(rb"/Length (\d+)( 0 R)?.*?stream\r?\n", objects[number], re.S)
        if not stream:
            return b""
        length = int(objects[int(stream[1])].strip()) if stream[2] else int(stream[1])
        return zlib.decompress(objects[number][stream.end():stream.end() + length])

    pages = []
    for number in sorted(objects):
        if re.search(rb"/Type\s*/Page\b", objects[number]):
            contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", objects[number])
            streams = [int(i) for i in re.findall(rb"(\d+) 0 R", contents[1])] if contents else []
            pages.append([float(size) for i in streams for size in re.findall(rb"/F\d+ ([\d.]+) Tf", content(i))])
    return pages
