"""Hostile files, and one pipeline run over an inbox full of them (issue 9).

The good files are January and February of eight demo sources: CSV in UTF-8,
UTF-8 with BOM and GB18030, XLSX with title and 合计 rows. Every hostile file sits
in a source-month of its own, either as a `_v2` of a good month (which must keep
its good version) or as a month nobody delivered well, so no bad file hides
another. The same inbox without them is the clean run that the published figures
must equal.

`reportpipe run` is called in-process (the slow imports are paid once): on the
clean inbox, on the hostile one, and on the hostile one again (the re-run). Each
case is then one test reading that shared result.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import TEST_PII_KEY, Run, cli, open_read_only, query, write_csv

HERE = Path(__file__).resolve().parent
# A demo penalty_cases workbook encrypted with the password 2023 by msoffcrypto-tool 6.1.0
# (`msoffcrypto-tool -e -p 2023 处罚案件_202305.xlsx out.xlsx`): what Excel writes for a
# workbook with a password, an OLE2 compound file holding EncryptionInfo and EncryptedPackage.
PASSWORD_PROTECTED = HERE / "password_protected.xlsx"
BASE_SOURCES = ("work_orders", "petitions", "inspections", "litigation", "mediations",
                "penalty_cases", "disputes", "supplies")
BASE_MONTHS = (1, 2)
# The run's REPORTPIPE_MAX_FILE_MB: above every good file and the cell of several MB, below the oversize file.
MAX_FILE_MB = 5
# Cells a spreadsheet would evaluate (OWASP's CSV injection list), delivered in January's 问题地址.
FORMULAS = ('=HYPERLINK("http://x","y")', "=1+1", "+1+1", "-2+3", "@SUM(A1)")
ZIP_BOMB_MB = 600  # the sheet XML inflates to this (over the 512 MB part limit), at a ratio of about 0.004
XXE = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
FAKE_PROGRESS = "2023-09: 12 loaded, 0 rejected, 1 sources"
# What a followed link to /etc/passwd or a resolved external entity would show: root:x:0:0
PASSWD = ":".join(Path("/etc/passwd").read_text().splitlines()[0].split(":")[:4])


# ---------------------------------------------------------------- reading and writing exports

def demo_file(demo: Path, source_id: str, month: int) -> Path:
    """The demo's first delivery of a source-month."""
    return next((demo / source_id).glob(f"*_2023{month:02d}.*"))


def decode(data: bytes) -> tuple[str, str]:
    """A demo CSV's text and encoding."""
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def read_table(path: Path) -> tuple[list[str], list[list[str]], str]:
    """Header, records and encoding of a CSV export."""
    text, encoding = decode(path.read_bytes())
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    return header, rows, encoding


def xlsx_rows(path: Path) -> tuple[list[str], list[list]]:
    """Header and records of an XLSX export (title rows above the header, 合计 row dropped)."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    at = next(i for i, r in enumerate(rows) if sum(v != "" for v in r) > 1)
    records = [r for r in rows[at + 1:] if any(v != "" for v in r) and r[0] != "合计"]
    return [str(v) for v in rows[at]], records


# ---------------------------------------------------------------- the hostile files

@dataclass
class Delivery:
    """Where one hostile file goes, and what it may be made from."""

    demo: Path  # the demo inbox
    target: Path  # the file to write in the hostile inbox
    outside: Path  # a folder outside the inbox
    zip_bomb: Path

    @property
    def original(self) -> Path:
        """The demo's good delivery of the target's source-month."""
        month = int(re.search(r"_2023(\d\d)", self.target.name).group(1))
        return demo_file(self.demo, self.target.parent.name, month)


def lines_of(d: Delivery) -> list[bytes]:
    """The original's lines (CRLF, as the demo systems write); index i is row i + 1."""
    return d.original.read_bytes().removesuffix(b"\r\n").split(b"\r\n")


def edit_csv(row: int, column: str, value: str) -> Callable[[Delivery], None]:
    """The original with one cell (row as a person counts, header = 1) replaced."""
    def make(d: Delivery) -> None:
        header, rows, encoding = read_table(d.original)
        rows[row - 2][header.index(column)] = value
        write_csv(d.target, header, rows, encoding)
    return make


def edit_header(change: Callable[[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]):
    def make(d: Delivery) -> None:
        header, rows, encoding = read_table(d.original)
        write_csv(d.target, *change(header, rows), encoding)
    return make


def without_column(name: str):
    def change(header, rows):
        i = header.index(name)
        return header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows]
    return change


def renamed(old: str, new: str):
    return lambda header, rows: ([new if h == old else h for h in header], rows)


def with_column(name: str, copy_of: str | None = None, value: str = ""):
    def change(header, rows):
        i = header.index(copy_of) if copy_of else None
        return header + [name], [r + [r[i] if copy_of else value] for r in rows]
    return change


def edit_xlsx(row: int, column: str, value=None, copy_row: int | None = None) -> Callable[[Delivery], None]:
    """The original workbook with one cell (Excel's row number) set to value, or to another row's cell."""
    def make(d: Delivery) -> None:
        import openpyxl

        wb = openpyxl.load_workbook(d.original)
        ws = wb.active
        header = next(r for r in ws.iter_rows() if sum(c.value is not None for c in r) > 1)
        col = next(c.column for c in header if c.value == column)
        ws.cell(row, col).value = ws.cell(copy_row, col).value if copy_row else value
        wb.save(d.target)
    return make


def zero_bytes(d: Delivery) -> None:
    d.target.write_bytes(b"")


def header_only(encoding: str):
    def make(d: Delivery) -> None:
        header, _, _ = read_table(d.original)
        write_csv(d.target, header, [], encoding)
    return make


def cut_mid_row(d: Delivery) -> None:
    """The transfer broke off in row 150, right after the caller's phone number."""
    lines = lines_of(d)
    fields = lines[149].split(b",")
    assert fields[6], "the demo's row 150 carries a phone number"
    d.target.write_bytes(b"\r\n".join(lines[:149] + [b",".join(fields[:7])]))


def cut_mid_character(d: Delivery) -> None:
    """Cut after the first byte of the last character (a 3-byte UTF-8 Chinese character) of row 274."""
    data = d.original.read_bytes().removesuffix(b"\r\n")
    assert data.count(b"\r\n") + 1 == 274, "the demo's February has 273 work orders"
    d.target.write_bytes(data[: max(i for i, b in enumerate(data) if b >= 0xE0) + 1])


def byte_in_row(row: int, after: bytes, byte: bytes) -> Callable[[Delivery], None]:
    """One stray byte in a row of an otherwise valid file."""
    def make(d: Delivery) -> None:
        lines = lines_of(d)
        assert after in lines[row - 1], f"the demo's row {row} contains {after!r}"
        lines[row - 1] = lines[row - 1].replace(after, after + byte, 1)
        d.target.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return make


def utf16(bom: bytes, codec: str):
    def make(d: Delivery) -> None:
        text, _ = decode(d.original.read_bytes())
        d.target.write_bytes(bom + text.encode(codec))
    return make


def id_of_february(d: Delivery) -> None:
    """Row 4 repeats an inspection loaded for February."""
    _, february, _ = read_table(demo_file(d.demo, "inspections", 2))
    edit_csv(4, "检查编号", february[0][0])(d)


def oversize(d: Delivery) -> None:
    """A valid month, copied with fresh ids until it is bigger than REPORTPIPE_MAX_FILE_MB."""
    header, rows, encoding = read_table(d.original)
    copies = (MAX_FILE_MB + 1) * 2**20 // d.original.stat().st_size + 1
    write_csv(d.target, header, [[f"{r[0]}-{k}", *r[1:]] for k in range(copies) for r in rows], encoding)


def copy_of(path: Path):
    return lambda d: shutil.copyfile(path, d.target)


def zip_bomb_copy(d: Delivery) -> None:
    shutil.copyfile(d.zip_bomb, d.target)


def same_month(d: Delivery) -> None:
    """The good delivery of the month, under another name."""
    shutil.copyfile(d.original, d.target)


def link_to_export_outside(d: Delivery) -> None:
    """A valid export elsewhere on the disk, linked under an export's name."""
    elsewhere = d.outside / d.target.name
    shutil.copyfile(d.original, elsewhere)
    d.target.symlink_to(elsewhere)


def link_to(path: str):
    return lambda d: d.target.symlink_to(path)


def folder(d: Delivery) -> None:
    d.target.mkdir()


def not_a_zip(d: Delivery) -> None:
    """An HTML table saved as .xlsx, as some systems' "export to Excel" does."""
    header, _ = xlsx_rows(d.original)
    cells = "".join(f"<td>{h}</td>" for h in header)
    d.target.write_text(f'<html><head><meta charset="utf-8"></head><body><table><tr>{cells}</tr></table></body></html>',
                        encoding="utf-8")


def rewrite_zip(d: Delivery, parts: Callable[[str, bytes], bytes | None]) -> None:
    """The original workbook with each part replaced by parts(name, data) (None: left out)."""
    with zipfile.ZipFile(d.original) as src, zipfile.ZipFile(d.target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = parts(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info, data)


def no_sheet(d: Delivery) -> None:
    """A well-formed workbook whose sheet list is empty."""
    def parts(name: str, data: bytes) -> bytes | None:
        text = data.decode("utf-8")
        if name.startswith("xl/worksheets/"):
            return None
        if name == "xl/workbook.xml":
            text = re.sub(r"<sheets>.*</sheets>", "<sheets/>", text, flags=re.S)
        if name == "xl/_rels/workbook.xml.rels":
            text = re.sub(r'<Relationship [^>]*worksheets/[^>]*/>', "", text)
        if name == "[Content_Types].xml":
            text = re.sub(r'<Override [^>]*worksheets/[^>]*/>', "", text)
        return text.encode("utf-8")
    rewrite_zip(d, parts)


def external_entity(d: Delivery) -> None:
    """The first record's 当事人名称 is an external entity: the content of /etc/passwd."""
    def parts(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        text, found = re.subn(r'(<c r="G3" t="inlineStr"><is><t>)[^<]*', r"\1&xxe;", data.decode("utf-8"))
        assert found == 1, "the demo's G3 is an inline string"
        return (XXE + text).encode("utf-8")
    rewrite_zip(d, parts)


def write_zip_bomb(original: Path, target: Path) -> None:
    """A valid workbook (the original's rows) whose sheet XML carries ZIP_BOMB_MB of blanks.

    Read, it would load; only the sizes in the zip's directory give it away. Written
    as a stream (deflate level 1: about a second), never held in memory.
    """
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, data)
                continue
            head, tail = data.split(b"<sheetData>")
            blanks = b" " * 2**20
            with dst.open(info.filename, "w") as sheet:
                sheet.write(head + b"<sheetData>")
                for _ in range(ZIP_BOMB_MB):
                    sheet.write(blanks)
                sheet.write(tail)


@dataclass(frozen=True)
class Case:
    id: str
    source_id: str
    name: str  # the file's name in <inbox>/<source_id>/
    make: Callable[[Delivery], None]
    # rejected: one message naming it; accepted: loaded; stray: reported, left alone;
    # reported: named with one of the keywords, as a rejection or as a stray
    outcome: str = "rejected"
    row: int | None = None  # as a person sees the file: CSV header = 1, XLSX: Excel's row
    column: str | None = None  # named on the line of that row
    keywords: tuple[str, ...] = ()  # the message holds at least one (case-insensitive)
    columns: tuple[str, ...] = ()  # the message names every one (header problems)


ENCODING = ("utf-8", "utf8")
CASES = [
    # work_orders: UTF-8 CSV, January and February good (January with formula cells)
    Case("cut_mid_row", "work_orders", "执法工单_202301_v2.csv", cut_mid_row, row=150),
    Case("cut_mid_multibyte_character", "work_orders", "执法工单_202302_v2.csv", cut_mid_character,
         row=274, keywords=ENCODING),
    # A Latin-1 "·" in row 400: the message must not blame the header.
    Case("invalid_byte_in_utf8", "work_orders", "执法工单_202303.csv", byte_in_row(400, "号".encode(), b"\xb7"),
         row=400, keywords=("0xb7",)),
    Case("zero_bytes", "work_orders", "执法工单_202304.csv", zero_bytes, keywords=("empty", "header")),
    Case("header_only", "work_orders", "执法工单_202305.csv", header_only("utf-8"), outcome="accepted"),
    Case("nul_byte", "work_orders", "执法工单_202306.csv", byte_in_row(10, "号".encode(), b"\x00"),
         row=10, keywords=("nul", "0x00", "\\x00", "null byte", "zero byte")),
    Case("symlink_to_an_export_outside", "work_orders", "执法工单_202307.csv", link_to_export_outside,
         keywords=("symbolic link", "symlink")),
    Case("over_the_size_limit", "work_orders", "执法工单_202308.csv", oversize,
         keywords=("REPORTPIPE_MAX_FILE_MB", "MB", "size", "large")),
    Case("control_characters_in_name", "work_orders", f"执法工单_202309\t\x1b[2K\r{FAKE_PROGRESS}\n.csv",
         same_month, outcome="stray"),
    Case("dots_in_name", "work_orders", "执法工单_202310..csv", same_month, outcome="stray"),
    Case("wrong_extension", "work_orders", "执法工单_202311.xls", same_month, outcome="stray"),
    Case("folder_named_like_an_export", "work_orders", "执法工单_202312.csv", folder, outcome="reported",
         keywords=("folder", "directory", "not a file", "not a regular file")),
    # petitions: GB18030 CSV with names, ID numbers and phones
    Case("invalid_byte_in_gb18030", "petitions", "信访件_202301_v2.csv", byte_in_row(8, b",", b"\x80"),
         row=8, keywords=("0x80",)),
    Case("utf16_little_endian", "petitions", "信访件_202302_v2.csv", utf16(codecs.BOM_UTF16_LE, "utf-16-le"),
         keywords=("UTF-16",)),
    Case("utf16_big_endian", "petitions", "信访件_202303.csv", utf16(codecs.BOM_UTF16_BE, "utf-16-be"),
         keywords=("UTF-16",)),
    Case("duplicated_header_column", "petitions", "信访件_202304.csv",
         edit_header(with_column("信访人姓名", copy_of="信访人姓名")),
         columns=("信访人姓名",), keywords=("twice", "duplicate", "more than once", "repeated")),
    Case("empty_header_column", "petitions", "信访件_202305.csv", edit_header(renamed("问题类别", "")),
         keywords=("empty", "blank")),
    Case("symlink_to_etc_passwd", "petitions", "信访件_202306.csv", link_to("/etc/passwd"),
         keywords=("symbolic link", "symlink")),
    # inspections: GB18030 CSV with counts
    Case("text_in_a_number_column", "inspections", "检查记录_202301_v2.csv", edit_csv(5, "发放宣传材料（份）", "若干"),
         row=5, column="发放宣传材料（份）"),
    Case("negative_count", "inspections", "检查记录_202302_v2.csv", edit_csv(6, "发放宣传材料（份）", "-5"),
         row=6, column="发放宣传材料（份）"),
    Case("duplicate_id_across_months", "inspections", "检查记录_202303.csv", id_of_february,
         row=4, column="检查编号"),
    Case("missing_header_column", "inspections", "检查记录_202304.csv", edit_header(without_column("所属社区")),
         columns=("所属社区",)),
    Case("renamed_header_column", "inspections", "检查记录_202305.csv", edit_header(renamed("检查对象", "检查单位")),
         columns=("检查对象", "检查单位")),
    Case("extra_header_column", "inspections", "检查记录_202306.csv", edit_header(with_column("备注", value="复查")),
         columns=("备注",)),
    # litigation, mediations, supplies: UTF-8 CSV (supplies with BOM)
    Case("text_in_a_yes_no_column", "litigation", "复议诉讼_202302_v2.csv", edit_csv(2, "负责人出庭", "是的"),
         row=2, column="负责人出庭"),
    Case("text_in_a_date_column", "mediations", "人民调解_202301_v2.csv", edit_csv(3, "受理日期", "见附件"),
         row=3, column="受理日期"),
    Case("cell_of_several_megabytes", "supplies", "物资发放_202301_v2.csv", edit_csv(4, "发放对象", "府学社区居民院落" * 150_000),
         row=4, column="发放对象"),
    Case("header_only_with_bom", "supplies", "物资发放_202303.csv", header_only("utf-8-sig"), outcome="accepted"),
    # penalty_cases and disputes: XLSX with a title row (records from Excel row 3)
    Case("text_in_a_number_cell", "penalty_cases", "处罚案件_202301_v2.xlsx", edit_xlsx(5, "罚款金额（元）", "五百"),
         row=5, column="罚款金额（元）"),
    Case("xlsx_with_an_entity", "penalty_cases", "处罚案件_202302_v2.xlsx", external_entity,
         keywords=("DOCTYPE", "entit")),
    Case("xlsx_not_a_zip", "penalty_cases", "处罚案件_202303.xlsx", not_a_zip, keywords=("zip",)),
    Case("xlsx_without_a_sheet", "penalty_cases", "处罚案件_202304.xlsx", no_sheet, keywords=("sheet",)),
    Case("xlsx_with_a_password", "penalty_cases", "处罚案件_202305.xlsx", copy_of(PASSWORD_PROTECTED),
         keywords=("password", "encrypt")),
    Case("xlsx_zip_bomb", "penalty_cases", "处罚案件_202306.xlsx", zip_bomb_copy,
         keywords=("compress", "ratio", "bomb", "inflat", "REPORTPIPE_XLSX", "MB")),
    Case("duplicate_id_in_a_file", "disputes", "矛盾纠纷_202301_v2.xlsx", edit_xlsx(7, "纠纷编号", copy_row=4),
         row=7, column="纠纷编号"),
    Case("reference_date_outside_the_month", "disputes", "矛盾纠纷_202302_v2.xlsx", edit_xlsx(5, "受理日期", "2023-03-15"),
         row=5, column="受理日期"),
]
assert len({(c.source_id, re.search(r"_2023(\d\d)", c.name).group(1)) for c in CASES}) == len(CASES), \
    "every hostile file needs a source-month of its own"


# ---------------------------------------------------------------- reading what a run left

def text_columns(db: Path) -> dict[str, list[str]]:
    """The distinct values of every text column of the database's own tables and views, by table.column."""
    with open_read_only(db) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'main' AND data_type = 'VARCHAR'"
        ).fetchall()
        return {f"{t}.{c}": [v for v, in con.execute(f'SELECT DISTINCT "{c}" FROM "{t}" WHERE "{c}" IS NOT NULL').fetchall()]
                for t, c in columns}


def figures(db: Path) -> list[tuple]:
    """The published figures: what a bad file must not change."""
    return query(db, "SELECT year, figure_id, value FROM report_figures ORDER BY ALL")


def rejection_block(err: str, name: str) -> list[str]:
    """The lines of the rejection message of the file `name`: its first line, then the indented ones."""
    lines = err.splitlines()
    starts = [i for i, line in enumerate(lines) if f" {name}: rejected" in line]
    if not starts:
        return []
    assert len(starts) == 1, f"{name} is rejected {len(starts)} times in one run:\n" + "\n".join(lines[i] for i in starts)
    end = starts[0] + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return lines[starts[0]:end]


def write_base(demo: Path, inbox: Path, source_ids=BASE_SOURCES) -> None:
    """The good files: BASE_MONTHS of the sources, formula cells in January's work orders."""
    for source_id in source_ids:
        (inbox / source_id).mkdir(parents=True)
        for month in BASE_MONTHS:
            original = demo_file(demo, source_id, month)
            shutil.copyfile(original, inbox / source_id / original.name)
    if "work_orders" not in source_ids:
        return
    january = inbox / "work_orders" / demo_file(demo, "work_orders", 1).name
    header, rows, encoding = read_table(january)
    handled_zhengtong = [r for r in rows if r[1].strip() == "政通" and r[-1].strip() != "退单"]
    for row, formula in zip(handled_zhengtong, FORMULAS):
        row[header.index("问题地址")] = formula
    write_csv(january, header, rows, encoding)


def reset_peak_memory() -> float:
    """Start measuring this process's peak memory afresh (Linux: /proc/self/clear_refs); MB in use now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_memory() -> float:
    """MB: the peak since the last reset_peak_memory()."""
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024


@dataclass
class Runs:
    demo: Path
    clean_inbox: Path
    clean: Path  # the warehouse of the clean run
    clean_run: Run
    inbox: Path  # the hostile inbox
    warehouse: Path  # its warehouse, after the re-run
    first: Run  # the run over the hostile inbox
    first_report: Path | None  # a copy of report.duckdb as that run published it
    rerun: Run
    rss_growth_mb: float  # how much the process's peak memory grew during the hostile run
    strays: dict[str, bytes]  # name: bytes of each stray file, as delivered


@pytest.fixture(scope="session")
def zip_bomb(demo_inbox, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zip_bomb") / "bomb.xlsx"
    write_zip_bomb(demo_file(demo_inbox, "penalty_cases", 6), path)
    return path


@dataclass
class Small:
    """A small clean inbox and its warehouse, for the tests that run whole refreshes again."""

    inbox: Path
    warehouse: Path


@pytest.fixture(scope="session")
def small(demo_inbox, tmp_path_factory) -> Small:
    root = tmp_path_factory.mktemp("small")
    write_base(demo_inbox, root / "inbox", ("litigation", "supplies"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
        run = cli("run", "--inbox", root / "inbox", "--warehouse", root / "warehouse")
    assert run.code == 0 and run.crash is None, run.crash or run.err
    return Small(root / "inbox", root / "warehouse")


@pytest.fixture(scope="session")
def runs(demo_inbox, zip_bomb, tmp_path_factory) -> Runs:
    root = tmp_path_factory.mktemp("faults")
    clean_inbox, inbox, outside = root / "clean" / "inbox", root / "hostile" / "inbox", root / "elsewhere"
    write_base(demo_inbox, clean_inbox)
    write_base(demo_inbox, inbox)
    outside.mkdir()
    for case in CASES:
        case.make(Delivery(demo_inbox, inbox / case.source_id / case.name, outside, zip_bomb))
    strays = {c.name: (inbox / c.source_id / c.name).read_bytes() for c in CASES if c.outcome == "stray"}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
        env.setenv("REPORTPIPE_MAX_FILE_MB", str(MAX_FILE_MB))
        clean_run = cli("run", "--inbox", clean_inbox, "--warehouse", root / "clean" / "warehouse")
        assert clean_run.code == 0 and clean_run.crash is None, clean_run.crash or clean_run.err
        # The clean run has imported and warmed everything: what the hostile run adds to
        # the peak memory is what it read.
        before = reset_peak_memory()
        first = cli("run", "--inbox", inbox, "--warehouse", root / "hostile" / "warehouse")
        growth = peak_memory() - before
        first_report = None
        if (root / "hostile" / "warehouse" / "report.duckdb").exists():
            first_report = shutil.copyfile(root / "hostile" / "warehouse" / "report.duckdb", root / "first_report.duckdb")
        rerun = cli("run", "--inbox", inbox, "--warehouse", root / "hostile" / "warehouse")
    return Runs(demo_inbox, clean_inbox, root / "clean" / "warehouse", clean_run, inbox, root / "hostile" / "warehouse",
                first, first_report, rerun, growth, strays)


def require_run(run: Run) -> None:
    """The run ended as a CLI run ends: an exit code, no exception."""
    assert run.crash is None, f"the run ended in a traceback:\n{run.crash}"
