"""Text that comes in from people: control characters refused, URLs shown only with a web scheme, CSV read strictly.

One validator for every way text arrives (form fields, query strings, CSV cells), so a NUL byte or an escape
character is refused with a clear message instead of reaching the database (PostgreSQL rejects NUL in text).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from integrations.csvrows import CsvUnreadable, control_character, read_table

# A CSV import lists at most this many refused lines; the rest are counted.
MAX_LISTED_ERRORS = 100


def refused_field(fields: Iterable[tuple[str, Iterable[str]]]) -> str | None:
    """A sentence naming the first field (name or value) holding a control character, or None when all are clean.

    `fields` are (name, values) pairs, as MultiDict.lists() gives them.
    """
    for name, values in fields:
        for value in [name, *values]:
            code = control_character(value)
            if code:
                return f"The field {name[:40]!r} contains a control character ({code}); remove it and send again."
    return None


def whole_number(raw, max_digits: int = 9) -> int | None:
    """`raw` as a whole number when it is 1 to `max_digits` ASCII digits (surrounding spaces allowed), else None.

    "²" and "٣" are digits to Python's str.isdigit but int() refuses the first, and a number longer than the
    database's integer is no id; nine digits always fit.
    """
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else None


# A list never asks the database for a page beyond this (its offset stays a small integer on every backend).
MAX_PAGE = 100_000


def page_number(raw) -> int:
    """The list page asked for (?page=): a whole number from 1 to MAX_PAGE; anything else is the first page, and a
    page past the end shows an empty list, never a server error."""
    return min(whole_number(raw) or 1, MAX_PAGE)


def web_url(value: str | None) -> str | None:
    """`value` when it is an http(s) address with a host, else None (a javascript: or data: link is never shown)."""
    if not value or control_character(value):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


@dataclass
class RowErrors:
    """Refused lines of an import: the first MAX_LISTED_ERRORS with their line number, and how many in all."""

    listed: list[tuple[int, str]] = field(default_factory=list)
    count: int = 0

    def add(self, line: int, reason: str) -> None:
        """Record one refused line; only the first MAX_LISTED_ERRORS keep their text (the page stays small)."""
        self.count += 1
        if len(self.listed) < MAX_LISTED_ERRORS:
            self.listed.append((line, reason))

    @property
    def unlisted(self) -> int:
        """How many refused lines are counted but not listed."""
        return self.count - len(self.listed)


@dataclass
class ImportResult:
    """What a CSV import did: lines taken, refused lines (capped, with their numbers), or why the file was refused.

    `taken` names what a line became in the page's sentence ("partner(s) imported", "price line(s) saved").
    """

    taken: str
    accepted: int = 0
    refused: RowErrors = field(default_factory=RowErrors)
    file_error: str | None = None

    @property
    def errors(self) -> list[tuple[int, str]]:
        """The listed refused lines as (line number, reason); at most MAX_LISTED_ERRORS."""
        return self.refused.listed

    def summary(self) -> str:
        """One sentence for the page: what was taken and refused, or why nothing could be read."""
        if self.file_error:
            return f"Nothing imported: {self.file_error}."
        more = f" (the first {len(self.errors)} are listed)" if self.refused.unlisted else ""
        return f"{self.accepted} {self.taken}; {self.refused.count} line(s) refused{more}."


class CsvRefused(ValueError):
    """The file as a whole cannot be imported (not UTF-8 CSV, no rows, unknown column): the message says why."""


def read_csv(data: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> Iterator[tuple[int, dict | str]]:
    """Yield (line number, row dict or the reason the line is refused) for each data row of a CSV upload.

    The header must name only `columns` (any order, any case) and include `required`; otherwise CsvRefused names
    the column. Line numbers are the file's own, where each row starts (integrations.csvrows). A line with more
    cells than the header, or with a control character, is refused on its own. CsvRefused("the file has no rows")
    when nothing but a header (or nothing) is there.
    """
    try:
        table = read_table(data)
    except CsvUnreadable as err:
        raise CsvRefused(f"the file {err}") from None
    names = [cell.strip().lower() for cell in table.header]
    for name in names:
        code = control_character(name)
        if code:
            raise CsvRefused(f"the header contains a control character ({code})")
        if name not in columns:
            shown = name or "(an empty column name)"
            raise CsvRefused(f"unknown column {shown!r}; the columns are {', '.join(columns)}")
    missing = [name for name in required if name not in names]
    if missing:
        raise CsvRefused(f"the header has no {', '.join(missing)} column")
    rows = 0
    for line, cells in table.rows:
        rows += 1
        if isinstance(cells, str):
            yield line, cells
        elif len(cells) > len(names):
            yield line, f"{len(cells)} cells but the header names {len(names)} columns"
        elif code := next((c for c in map(control_character, cells) if c), None):
            yield line, f"contains a control character ({code})"
        else:
            yield line, {name: cell.strip() for name, cell in zip(names, cells, strict=False)}
    if rows == 0:
        raise CsvRefused("the file has no rows")
