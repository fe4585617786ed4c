"""A disk that fills during the load, and one that fills during the publication.

The warehouse is a small tmpfs holding a copy of the small clean warehouse (two
sources, two months); a ballast file leaves just enough room to fail where we want:

- during the load: a new work_orders month of about 10,000 rows (1.4 MB of CSV)
  needs its copy kept as delivered (1.4 MB) and its stg_ rows in work.duckdb, and
  only the CSV's size is left free;
- during the publication: a new litigation month of one row needs a few kB before
  publishing (measured: 0.03 MB), while publishing writes a whole new report.duckdb
  and Parquet set (about the size of the current ones: 3 MB, mostly one 256 kB
  block per table); half of their size is left free.

Each full-disk run is a `reportpipe run` process of its own (both run at once, on
two file systems), as the refresh would be (tests/faults/commands.py). Then the ballast goes and the next run
must succeed and equal a run that never saw a full disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.commands import Process, start
from tests.faults.conftest import demo_file, figures, read_table
from tests.helpers import TEST_PII_KEY, Run, cli, query, write_csv

TMPFS_MB = 64
BIG_MONTH_COPIES = 20  # × March's 497 work orders
FULL = ("disk is full", "disk full", "no space", "out of space", "not enough space")
ADVICE = ("free", "make room", "delete", "remove")


def mount_tmpfs(folder: Path) -> None:
    """A TMPFS_MB file system at folder; skips (fails with CI=true) where it cannot be mounted."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(folder)],
                          capture_output=True, text=True) if os.geteuid() == 0 else None
    if done is None or done.returncode:
        reason = "not root" if done is None else done.stderr.strip()
        message = f"cannot mount a tmpfs to fill ({reason}): the disk-full tests need root and mount"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; with CI=true they must run")
        pytest.skip(message)


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def fill(folder: Path, leave: int) -> Path:
    """A ballast file that leaves `leave` bytes free on folder's file system."""
    ballast = folder / "ballast"
    with ballast.open("wb") as f:
        os.posix_fallocate(f.fileno(), 0, free_bytes(folder) - leave)
    return ballast


def big_month(demo: Path, inbox: Path) -> tuple[str, str]:
    original = demo_file(demo, "work_orders", 3)
    header, rows, encoding = read_table(original)
    (inbox / "work_orders").mkdir()
    write_csv(inbox / "work_orders" / original.name, header,
              [[f"{r[0]}-{k}", *r[1:]] for k in range(BIG_MONTH_COPIES) for r in rows], encoding)
    return "work_orders", "2023-03"


def tiny_month(demo: Path, inbox: Path) -> tuple[str, str]:
    original = demo_file(demo, "litigation", 3)
    shutil.copyfile(original, inbox / "litigation" / original.name)
    return "litigation", "2023-03"


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in [path, *path.rglob("*")] if p.is_file() and not p.is_symlink())


@dataclass
class FullDisk:
    warehouse: Path
    month: tuple[str, str]  # the new source-month
    report_before: bytes
    free_before: int
    process: Process | None = None
    failed: Run | None = None
    report_after: bytes = b""
    free_after: int = 0
    loaded_when_failed: bool = False  # the new month was in work.duckdb after the failure
    rerun: Run | None = None
    expected: list | None = None  # the figures of a run that never saw a full disk
    leftovers: list[str] | None = None


def loaded(warehouse: Path, month: tuple[str, str]) -> bool:
    return bool(query(warehouse / "work.duckdb", "SELECT 1 FROM loaded_months WHERE source_id = ?"
                      " AND left(CAST(month AS VARCHAR), 7) = ?", list(month)))


@pytest.fixture(scope="module")
def full_disks(small, demo_inbox, tmp_path_factory):
    root = tmp_path_factory.mktemp("disk_full")
    scenarios, mounted = {}, []
    try:
        for phase, new_month in (("load", big_month), ("publication", tiny_month)):
            mount_tmpfs(root / phase)
            mounted.append(root / phase)
            inbox, warehouse = root / f"{phase}_inbox", root / phase / "warehouse"
            shutil.copytree(small.inbox, inbox)
            month = new_month(demo_inbox, inbox)
            shutil.copytree(small.warehouse, warehouse, symlinks=True)
            # What a run that never saw a full disk publishes, for the same inbox.
            reference = root / f"{phase}_reference"
            shutil.copytree(small.warehouse, reference, symlinks=True)
            with pytest.MonkeyPatch.context() as env:
                env.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
                done = cli("run", "--inbox", inbox, "--warehouse", reference)
            assert done.code == 0, done.crash or done.err
            if phase == "load":
                leave = (inbox / "work_orders" / demo_file(demo_inbox, "work_orders", 3).name).stat().st_size
            else:
                leave = (size(warehouse / "report.duckdb") + size((warehouse / "parquet").resolve())) // 2
            scenario = FullDisk(warehouse, month, (warehouse / "report.duckdb").read_bytes(), 0,
                                expected=figures(reference / "report.duckdb"))
            fill(root / phase, leave)
            scenario.free_before = free_bytes(root / phase)
            scenario.process = start("run", "--inbox", inbox, "--warehouse", warehouse,
                                     env={"REPORTPIPE_PII_KEY": TEST_PII_KEY}, folder=root / f"{phase}_output")
            scenarios[phase] = scenario
        for phase, s in scenarios.items():
            s.failed = s.process.wait()
            s.report_after = (s.warehouse / "report.duckdb").read_bytes()
            s.free_after = free_bytes(root / phase)
            s.loaded_when_failed = loaded(s.warehouse, s.month)
            (root / phase / "ballast").unlink()
            with pytest.MonkeyPatch.context() as env:
                env.setenv("REPORTPIPE_PII_KEY", TEST_PII_KEY)
                s.rerun = cli("run", "--inbox", root / f"{phase}_inbox", "--warehouse", s.warehouse)
            s.leftovers = sorted(p.name for p in s.warehouse.iterdir() if ".building" in p.name)
        yield scenarios
    finally:
        for folder in mounted:
            subprocess.run(["umount", "--lazy", str(folder)], check=False)


@pytest.mark.parametrize("phase", ["load", "publication"])
def test_a_full_disk_is_said_with_what_to_do(full_disks, phase):
    failed = full_disks[phase].failed
    assert failed.code != 0, "the run claims success on a full disk"
    assert "Traceback" not in failed.output, failed.err[-5000:]
    message = failed.err.casefold()
    assert any(word in message for word in FULL), failed.err[-3000:]
    assert any(word in message for word in ADVICE), failed.err[-3000:]
    # The loaded month was committed before publication failed: only the load can say it was rolled back.
    assert ("rolled back" in message) == (phase == "load"), failed.err[-3000:]


@pytest.mark.parametrize("phase", ["load", "publication"])
def test_a_full_disk_leaves_the_published_file_untouched(full_disks, phase):
    assert full_disks[phase].report_after == full_disks[phase].report_before


def test_the_disk_filled_where_each_test_wants_it(full_disks):
    """The sizes above hit their phase: nothing loaded when the load fails, the month loaded when publishing fails."""
    assert not full_disks["load"].loaded_when_failed, "the load went through: leave less room for the load test"
    assert full_disks["publication"].loaded_when_failed, "the disk filled before publishing: leave more room"


def test_a_failed_load_gives_its_space_back(full_disks):
    # Otherwise work.duckdb keeps what the load wrote, and the disk stays full for every later run.
    s = full_disks["load"]
    assert s.free_after >= s.free_before - 2**20, \
        f"{(s.free_before - s.free_after) / 2**20:.1f} MB stayed taken after the failed load"


@pytest.mark.parametrize("phase", ["load", "publication"])
def test_the_next_run_after_space_is_freed_equals_a_clean_run(full_disks, phase):
    s = full_disks[phase]
    assert s.rerun.crash is None, s.rerun.crash
    assert s.rerun.code == 0, s.rerun.err[-3000:]
    assert figures(s.warehouse / "report.duckdb") == s.expected
    assert loaded(s.warehouse, s.month)
    assert not s.leftovers, f"half-written files left behind: {s.leftovers}"
