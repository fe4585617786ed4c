"""Readers on small fixtures of each format quirk SPEC.md allows."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from reportpipe.intake.readers import stage
from reportpipe.problems import Unreadable
from tests.helpers import write_csv, write_xlsx

HEADER = ["编号", "提出日期", "类别"]
ROWS = [["N1", "2023/3/5", " 审议意见　"], ["N2", "2023年3月6日", "代表建议"]]


def cells(path):
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS scratch")
    staged = stage(con, path, path.name)
    cursor = con.execute("SELECT * FROM scratch.incoming ORDER BY source_row")
    names = [d[0] for d in cursor.description]
    return staged.header, [dict(zip(names, row)) for row in cursor.fetchall()]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_allowed_encoding_reads_the_same(tmp_path, encoding):
    path = write_csv(tmp_path / "x.csv", HEADER, ROWS, encoding=encoding)
    header, rows = cells(path)
    assert header == HEADER  # a BOM must not end up in the first column name
    # Cells arrive as delivered (padding kept for the staging layer to trim).
    assert [r["类别"] for r in rows] == [" 审议意见　", "代表建议"]
    # Rows are numbered as a person sees them: the header is row 1.
    assert [r["source_row"] for r in rows] == [2, 3]


def test_encoding_detection_tells_gb18030_from_utf8(tmp_path):
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS scratch")
    for encoding, detected in (("gb18030", "gb18030"), ("utf-8-sig", "utf-8"), ("utf-8", "utf-8")):
        path = write_csv(tmp_path / f"{encoding}.csv", HEADER, ROWS, encoding)
        assert stage(con, path, path.name).encoding == detected


def test_header_only_csv_is_an_empty_month(tmp_path):
    header, rows = cells(write_csv(tmp_path / "x.csv", HEADER, []))
    assert header == HEADER and rows == []


def test_xlsx_title_and_total_rows_are_not_records(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", HEADER, ROWS, title="交道口街道人大建议统计（2023年3月）", total=True)
    header, rows = cells(path)
    assert header == HEADER
    assert [r["编号"] for r in rows] == ["N1", "N2"]
    # Title row 1, header row 2: the first record is row 3 in Excel.
    assert [r["source_row"] for r in rows] == [3, 4]


def test_xlsx_typed_cells_become_the_text_a_csv_would_carry(tmp_path):
    rows = [["N1", dt.datetime(2023, 3, 5), 12.0], ["N2", dt.datetime(2023, 3, 5, 14, 7), 3.5]]
    _, read = cells(write_xlsx(tmp_path / "x.xlsx", HEADER, rows))
    # Excel dates keep an ISO 'T' form that the date parsers recognise; integral floats lose '.0'.
    assert [r["提出日期"] for r in read] == ["2023-03-05T00:00:00", "2023-03-05T14:07:00"]
    assert [r["类别"] for r in read] == ["12", "3.5"]


def test_csv_with_a_short_row_is_refused_with_its_row(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("编号,提出日期,类别\nN1,2023-03-05,审议意见\nN2,2023-03-06\n", encoding="utf-8")
    with pytest.raises(Unreadable) as refused:
        cells(path)
    [problem] = refused.value.problems
    assert (problem.file, problem.row) == ("x.csv", 3) and "fewer cells" in problem.message


def test_a_row_short_of_several_cells_is_one_problem(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("编号,提出日期,类别\nN1,2023-03-05,审议意见\nN2\n", encoding="utf-8")
    with pytest.raises(Unreadable) as refused:
        cells(path)
    assert [(p.row, "fewer cells" in p.message) for p in refused.value.problems] == [(3, True)]


def test_duplicate_header_is_refused(tmp_path):
    with pytest.raises(Unreadable, match="appears twice"):
        cells(write_csv(tmp_path / "x.csv", ["编号", "编号", "类别"], []))


def test_unsupported_extension_is_refused(tmp_path):
    path = tmp_path / "x.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(Unreadable, match="unsupported"):
        cells(path)
