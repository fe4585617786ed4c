"""Find the exports in an inbox: `<inbox>/<source_id>/<prefix>_<YYYYMM>[_v<N>].<csv|xlsx>`.

The inbox is a local folder, or under Airflow any ObjectStoragePath (SFTP, S3, ...):
`month_files` looks into either, `fetch` brings a remote month to a local folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from reportpipe.contracts import Source


@dataclass(frozen=True)
class Export:
    path: Path
    source_id: str
    month: str  # YYYY-MM
    version: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Stray:
    path: Path
    reason: str


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def parse_name(path: Path, source: Source) -> Export | str:
    """The export a file name stands for, or why it stands for none."""
    name = unicodedata.normalize("NFC", path.name)
    pattern = rf"{re.escape(source.file_prefix)}_(\d{{4}})(\d{{2}})(?:_v(\d+))?\.(?:csv|xlsx)"
    match = re.fullmatch(pattern, name, flags=re.IGNORECASE)
    if not match:
        return f"name does not match {source.file_prefix}_YYYYMM[_vN].csv|xlsx"
    year, month, version = match.groups()
    if not 1 <= int(month) <= 12:
        return f"{year}{month} is not a month"
    if version is not None and int(version) < 1:
        return f"version _v{version} is not a version"
    return Export(path=path, source_id=source.source_id, month=f"{year}-{month}", version=int(version or 1))


def scan(inbox: Path, sources: dict[str, Source]) -> tuple[list[Export], list[Stray]]:
    """Every export in the inbox, and every other file with the reason it was left alone."""
    exports: list[Export] = []
    strays: list[Stray] = []
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a folder")
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        relative = path.relative_to(inbox)
        folder = relative.parts[0] if len(relative.parts) == 2 else None
        if folder not in sources:
            strays.append(Stray(path, "not in a source folder (<inbox>/<source_id>/<file>)"))
            continue
        found = parse_name(path, sources[folder])
        if isinstance(found, str):
            strays.append(Stray(path, found))
        else:
            exports.append(found)
    return exports, strays


def month_files(root, source: Source, month: str) -> list:
    """The source's exports of one month under an inbox root (Path or ObjectStoragePath), by name."""
    folder = root / source.source_id
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        export = parse_name(path, source)
        if not isinstance(export, str) and export.month == month and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.name)


def fetch(root, source: Source, month: str, landing: Path) -> Path:
    """A local inbox holding the source-month's files: the root itself when it is a local folder.

    Files of a remote inbox are streamed into `landing/<source_id>/` (never held in
    memory), replacing earlier copies, so the intake log's path stays the same on a re-run.
    """
    if getattr(root, "protocol", "file") in ("file", "local"):
        return Path(root.path if hasattr(root, "protocol") else root)
    target = landing / source.source_id
    target.mkdir(parents=True, exist_ok=True)
    for remote in month_files(root, source, month):
        partial = target / f".{remote.name}.partial"
        with remote.open("rb") as src, partial.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        partial.replace(target / remote.name)
    return landing
