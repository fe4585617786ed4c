"""What is wrong with a delivered file, said so that a person can find and fix it.

Every check (reading, the Great Expectations suite, the version rules) reports
`Problem`s: the file, the row and column where there is one, a structured kind, and
a message. `RejectedExport` carries them out of the pipeline, to the CLI and to Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportpipe.untrusted import printable

# The kinds of problem. File level: the file could not be read as an export.
FILE = "file"  # not a regular file inside the inbox, or too large
ENCODING = "encoding"  # not UTF-8, UTF-8 with BOM or GB18030, or bytes invalid in its encoding
FORMAT = "format"  # CSV/XLSX structure: header, malformed rows, zip safety, oversized cells
VERSION = "version"  # two different files claim the same month and version
# From the suite's structural half, generated from the contract (reportpipe.validation.suites).
COLUMNS = "columns"
REQUIRED = "required"
TYPE = "type"
VALUES = "values"
UNIQUE = "unique"
LOADED_BEFORE = "loaded_before"
MONTH = "month"
# From the suite's hand-written half: cross-column conditions, ranges, formats.
RULE = "rule"


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # None: the whole file
    column: str | None  # as delivered
    kind: str
    message: str
    expectation: str | None = None  # the GX expectation type that found it

    def __str__(self) -> str:
        where = printable(self.file)
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f"{',' if self.row is not None else ''} column {self.column}"
        found_by = f"{self.kind}: {self.expectation}" if self.expectation else self.kind
        return f"{where}: {self.message} [{found_by}]"


class RejectedExport(Exception):
    """One or more delivered files broke the contract; their months keep their earlier good versions.

    The one exception that carries a rejection, from `pipeline.ingest_month` to the CLI and to
    Airflow (which fails the task without retrying: retrying cannot mend a file).
    """

    def __init__(self, message: str, files: list[str], outcomes: list | None = None):
        super().__init__(message)
        self.files = files
        self.outcomes = outcomes or []  # every file's outcome of the month (pipeline.FileOutcome)


class Unreadable(Exception):
    """The file cannot be read as an export; `problems` say why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems
