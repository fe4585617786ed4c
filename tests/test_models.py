"""Models are files, and stg_ can be rebuilt: the printed SQL over the files kept as delivered is what
loaded the rows, a new personal-data key re-hashes every value from them, and every model's key is unique
and not null."""

from __future__ import annotations

import hmac
import shutil

import duckdb
import pytest

from reportpipe.contracts import sources
from reportpipe.pipeline import rebuild
from tests.helpers import TEST_PII_KEY, cli, delivered, open_read_only, open_report, read_report

BLANKS = " \t\r\n\u3000\u00a0\ufeff"  # SPEC: a cell may come padded, also full-width
NEW_KEY = "another-key-fedcba9876543210"


def keyed_hash(key: str, value: str | None) -> str | None:
    """HMAC-SHA256 of the value as the warehouse keeps it (trimmed, upper case); NULL for an empty cell."""
    value = None if value is None else value.strip(BLANKS)
    return hmac.new(key.encode(), value.upper().encode(), "sha256").hexdigest() if value else None


def printed_sql(model: str) -> str:
    printed = cli("sql", model)
    assert printed.code == 0
    return printed.out


@pytest.fixture(scope="module")
def work_copy(demo_warehouse, tmp_path_factory):
    """A copy of the demo's work.duckdb with the personal-data hash registered, keyed as the demo was loaded."""
    path = tmp_path_factory.mktemp("work") / "work.duckdb"
    shutil.copy(demo_warehouse / "work.duckdb", path)
    con = duckdb.connect(str(path))
    con.create_function("pii_hash", lambda v: keyed_hash(TEST_PII_KEY, v), ["VARCHAR"], "VARCHAR",
                        null_handling="special")
    con.execute("ATTACH ':memory:' AS scratch")
    yield con
    con.close()


@pytest.mark.parametrize("source_id", sorted(sources()))
def test_printed_stg_sql_gives_exactly_the_rows_of_stg(source_id, work_copy, demo_warehouse):
    delivered(work_copy, demo_warehouse, source_id)
    sql = printed_sql(f"stg_{source_id}")
    columns = [d[0] for d in work_copy.execute(f"SELECT * FROM ({sql}) LIMIT 0").description]
    stored = [c for c, in work_copy.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
                                            [f"stg_{source_id}"]).fetchall()]
    assert sorted(columns) == sorted(stored)
    table = f"(SELECT {', '.join(columns)} FROM stg_{source_id})"
    rows = work_copy.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    assert rows == work_copy.execute(f"SELECT count(*) FROM stg_{source_id}").fetchone()[0] > 0
    differing = work_copy.execute(f"SELECT count(*) FROM (({sql}) EXCEPT ALL {table} UNION ALL {table} EXCEPT ALL ({sql}))")
    assert differing.fetchone()[0] == 0


@pytest.fixture(scope="module")
def rebuilt(demo_warehouse, tmp_path_factory):
    """A copy of the demo warehouse rebuilt with another personal-data key."""
    warehouse = tmp_path_factory.mktemp("rebuilt") / "warehouse"
    shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REPORTPIPE_PII_KEY", NEW_KEY)
        rebuild(warehouse)
    return warehouse


def test_a_new_key_rehashes_every_personal_value_from_the_kept_files(rebuilt):
    personal = {s: [c for c in src.columns if c.pii] for s, src in sources().items()}
    checked = 0
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{rebuilt / 'work.duckdb'}' AS work (READ_ONLY)")
        con.execute(f"ATTACH '{rebuilt / 'report.duckdb'}' AS published (READ_ONLY)")
        con.execute("ATTACH ':memory:' AS scratch")
        con.execute("USE work")
        for source_id, columns in personal.items():
            if columns:
                delivered(con, rebuilt, source_id)
            for c in columns:
                pairs = con.execute(
                    f'SELECT r."{c.name}", s.{c.column}_hash FROM delivered r'
                    f" JOIN published.stg_{source_id} s USING (file_id, source_row)").fetchall()
                assert len(pairs) == con.execute("SELECT count(*) FROM delivered").fetchone()[0]
                wrong = [(value, hashed) for value, hashed in pairs if hashed != keyed_hash(NEW_KEY, value)]
                assert not wrong, f"{source_id}.{c.column}_hash: {len(wrong)} of {len(pairs)} not keyed with the new key"
                checked += sum(hashed is not None for _, hashed in pairs)
    assert {s for s, columns in personal.items() if columns} >= {"petitions", "work_orders"}
    assert checked > 1000


def test_a_new_key_leaves_the_figures_unchanged(rebuilt, demo_warehouse):
    def figures(warehouse):
        with open_report(warehouse) as con:
            return [con.execute(f"FROM {t} ORDER BY ALL").fetchall() for t in ("report_figures", "report_figures_monthly")]

    before, after = figures(demo_warehouse), figures(rebuilt)
    assert before[0] and after == before


def stg_rows(warehouse, source_id: str) -> list[tuple]:
    with open_read_only(warehouse / "work.duckdb") as con:
        return con.execute(f"FROM stg_{source_id} ORDER BY ALL").fetchall()


def test_a_warehouse_from_before_the_kept_files_rebuilds_from_its_raw_cells(demo_warehouse, tmp_path):
    """Such a warehouse has each month's cells in raw_<source> and no kept file: rebuild reads them there."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    source = sources()["petitions"]
    with duckdb.connect(str(warehouse / "work.duckdb")) as con:
        con.execute("ATTACH ':memory:' AS scratch")
        delivered(con, warehouse, source.source_id)
        cells = ", ".join(f'"{c.name}"' for c in source.columns)
        con.execute(f"CREATE TABLE raw_petitions AS SELECT file_id, month, source_row, {cells} FROM delivered")
    shutil.rmtree(warehouse / "delivered" / "petitions")
    before = stg_rows(warehouse, "petitions")
    assert cli("rebuild", "--warehouse", warehouse).code == 0
    assert stg_rows(warehouse, "petitions") == before and before


def test_a_kept_file_changed_or_gone_stops_the_rebuild_by_name(demo_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, warehouse, symlinks=True)
    before = stg_rows(warehouse, "litigation")
    kept = sorted((warehouse / "delivered" / "litigation").glob("*/*"))[0]
    kept.write_bytes(kept.read_bytes() + b"\r\n")
    changed = cli("rebuild", "--warehouse", warehouse)
    assert changed.code == 3 and f"{kept}, the file litigation" in changed.err and "has changed since" in changed.err
    kept.unlink()
    gone = cli("rebuild", "--warehouse", warehouse)
    assert gone.code == 3 and f"{kept}, the file litigation" in gone.err and "is missing" in gone.err
    assert stg_rows(warehouse, "litigation") == before


# Every model's key: (table, key columns) of the published report.duckdb.
KEYS = [("report_figures", ("year", "figure_id")), ("report_figures_monthly", ("year", "month", "figure_id")),
        ("loaded_months", ("source_id", "month"))]
KEYS += [(f"stg_{s}", (src.key.column,)) for s, src in sources().items()]


@pytest.mark.parametrize(("table", "key"), KEYS, ids=[t for t, _ in KEYS])
def test_every_model_key_is_unique_and_not_null(table, key, demo_warehouse):
    [(rows, distinct, nulls)] = read_report(
        demo_warehouse, f"SELECT count(*), count(DISTINCT ({', '.join(key)})),"
        f" count(*) FILTER (WHERE {' OR '.join(f'{k} IS NULL' for k in key)}) FROM {table}")
    assert rows > 0
    assert nulls == 0, f"{table}: {nulls} rows without {key}"
    assert distinct == rows, f"{table}: {rows - distinct} rows repeat a key {key}"
