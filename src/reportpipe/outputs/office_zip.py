"""Office files (DOCX, XLSX) that are the same bytes when their content is: the publication's time in
every zip entry and in the document's properties, never the time of writing."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

from reportpipe.settings import TIMEZONE


def reproducible(path: Path, moment: dt.datetime) -> Path:
    """Rewrite an Office file so the same content gives the same bytes: every zip entry and the
    document's created/modified properties carry `moment` (the publication), not the time of writing."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    stamp = moment.astimezone(ZoneInfo(TIMEZONE)).timetuple()[:6]
    w3c = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as original:
        entries = [(info.filename, original.read(info)) for info in original.infolist()]
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as rewritten:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*", lambda m: m[1] + w3c, data)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            rewritten.writestr(info, data)
    partial.replace(path)
    return path
