"""Quoting for the SQL reportpipe writes: names and texts from contracts and delivered files."""

from __future__ import annotations


def quote(identifier: str) -> str:
    """A DuckDB identifier, whatever characters it holds."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A DuckDB string literal, whatever characters it holds."""
    return "'" + text.replace("'", "''") + "'"
