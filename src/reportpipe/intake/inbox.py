"""Find the exports in an inbox: `<inbox>/<office_id>/<source_id>/<prefix>_<YYYYMM>[_v<N>].<csv|xlsx>`
(a deployment of one office may leave out `<office_id>/`).

Only regular files directly inside a source folder are read. Anything named like an
export that is not one (a symbolic link, a folder, a device) is refused by name and
never followed; anything else is a stray, reported and left alone. The inbox is a
local folder, or under Airflow any ObjectStoragePath (SFTP, S3, ...): `month_files`
lists either, `fetch` brings a remote month's files to a local folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from reportpipe import settings
from reportpipe.contracts import Source
from reportpipe.offices import Deployment
from reportpipe.untrusted import printable

EXTENSIONS = ("csv", "xlsx")


@dataclass(frozen=True)
class Export:
    path: Path
    source_id: str
    month: dt.date  # the first day of the month the file covers
    version: int
    refused: str | None = None  # why a thing named like an export is not read, if it is not

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def period(self) -> str:
        return f"{self.month:%Y-%m}"


@dataclass(frozen=True)
class Stray:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {printable(str(self.path))}: {self.reason}"


def parse_name(name: str, source: Source) -> tuple[dt.date, int] | str:
    """(month, version) of an export's file name, or why the name stands for none."""
    name = unicodedata.normalize("NFC", name)
    pattern = rf"{re.escape(source.file_prefix)}_(\d{{4}})(\d{{2}})(?:_v(\d+))?\.({'|'.join(EXTENSIONS)})"
    match = re.fullmatch(pattern, name, flags=re.IGNORECASE | re.ASCII)
    if not match:
        return f"name does not match {source.file_prefix}_YYYYMM[_vN].csv|xlsx"
    year, month, version, _ = match.groups()
    if not 1 <= int(month) <= 12 or int(year) < 1900:
        return f"{year}{month} is not a month"
    if version is not None and int(version) < 1:
        return f"_v{version} is not a version"
    return dt.date(int(year), int(month), 1), int(version or 1)


def _refusal(path: Path) -> str | None:
    """Why a path named like an export must not be read, or None for a regular file within the limits."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link: only regular files inside the inbox are read (the link is not followed)"
    if stat.S_ISDIR(info.st_mode):
        return "a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > settings.max_file_bytes():
        return (f"{info.st_size / 2**20:,.0f} MiB: files over REPORTPIPE_MAX_FILE_MB="
                f"{settings.max_file_bytes() / 2**20:g} MiB are refused unread")
    return None


def classify(path: Path, source: Source) -> Export | Stray:
    """What one entry of a source folder is: an export (maybe refused) or a stray."""
    parsed = parse_name(path.name, source)
    if isinstance(parsed, str):
        return Stray(path, parsed)
    month, version = parsed
    return Export(path, source.source_id, month, version, _refusal(path))


def office_root(root, office_id: str, deployment: Deployment):
    """An office's inbox under an inbox root (Path or ObjectStoragePath): `<root>/<office_id>`; a deployment of
    one office may keep today's `<root>/<source_id>/`, used when `<root>/<office_id>/` is not there."""
    own = root / office_id
    return root if len(deployment.offices) == 1 and not own.is_dir() else own


def office_inboxes(inbox: Path, deployment: Deployment) -> tuple[dict[str, Path | None], list[Stray]]:
    """Each declared office's own inbox (None when it has none yet), and every top-level entry that is none."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a folder")
    ids = [o.id for o in deployment.offices]
    if office_root(inbox, ids[0], deployment) == inbox:
        return {ids[0]: inbox}, []
    found: dict[str, Path | None] = dict.fromkeys(ids)
    strays = []
    for top in sorted(inbox.iterdir()):
        if top.name not in found:
            strays.append(Stray(top, f"not a declared office ({', '.join(ids)}): <inbox>/<office_id>/<source_id>/<file>"))
        elif top.is_symlink() or not top.is_dir():
            strays.append(Stray(top, "an office folder must be a real folder (symbolic links are not followed)"))
        else:
            found[top.name] = top
    return found, strays


def scan(inbox: Path | None, sources: dict[str, Source]) -> tuple[list[Export], list[Stray]]:
    """Every export in an office's inbox, and every other entry with the reason it was left alone."""
    if inbox is None:  # the office has delivered nothing yet
        return [], []
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a folder")
    exports: list[Export] = []
    strays: list[Stray] = []
    for top in sorted(inbox.iterdir()):
        if top.name not in sources:
            strays.append(Stray(top, "not a source folder (<inbox>/<source_id>/<file>)"))
        elif top.is_symlink() or not top.is_dir():
            strays.append(Stray(top, "a source folder must be a real folder (symbolic links are not followed)"))
        else:
            for path in sorted(top.iterdir()):
                found = classify(path, sources[top.name])
                (exports if isinstance(found, Export) else strays).append(found)
    return exports, strays


def month_files(root, source: Source, month: dt.date) -> tuple[list, list[Stray]]:
    """The source's entries named for one month under an inbox root (Path or ObjectStoragePath),
    and the folder's strays that look meant for that month (a misnamed export)."""
    folder = root / source.source_id
    if not folder.is_dir():
        return [], []
    found, misnamed = [], []
    for path in folder.iterdir():
        parsed = parse_name(path.name, source)
        if isinstance(parsed, str):
            if looks_like(path.name, month):
                misnamed.append(Stray(path, parsed))
        elif parsed[0] == month:
            found.append(path)
    return sorted(found, key=lambda p: p.name), sorted(misnamed, key=lambda s: s.path.name)


def looks_like(name: str, month: dt.date) -> bool:
    """A name that carries the month in another spelling (2024-03, 2024_3, 2024年3月 …)."""
    digits = re.findall(r"\d+", name)
    return any(int(a) == month.year and int(b) == month.month
               for a, b in zip(digits, digits[1:]) if len(a) == 4 and len(b) <= 2) \
        or f"{month:%Y%m}" in name


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(root, source: Source, names: list[str], landing: Path) -> Path:
    """A local inbox holding the named files of a source: the root itself when it is a local folder.

    Files of a remote inbox are streamed into `landing/<source_id>/` (never held in
    memory), replacing earlier copies, so the intake log's path stays the same on a re-run.
    """
    if getattr(root, "protocol", "file") in ("file", "local"):
        return Path(root.path if hasattr(root, "protocol") else root)
    target = landing / source.source_id
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        remote = root / source.source_id / name
        partial = target / f".{name}.partial"
        with remote.open("rb") as src, partial.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        partial.replace(target / name)
    return landing
