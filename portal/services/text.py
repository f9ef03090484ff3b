"""Text that comes in from people: control characters refused, URLs shown only with a web scheme, CSV read strictly.

One validator for every way text arrives (form fields, query strings, CSV cells), so a NUL byte or an escape
character is refused with a clear message instead of reaching the database (PostgreSQL rejects NUL in text).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# C0 controls except tab, line feed and carriage return (which textareas and CSV cells legitimately hold), DEL,
# and the C1 controls; NUL is the one PostgreSQL refuses outright, the others garble pages, logs and exports.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A CSV import lists at most this many refused lines; the rest are counted.
MAX_LISTED_ERRORS = 100


def control_character(value: str) -> str | None:
    """The first control character in `value` as U+XXXX, or None when the text is clean."""
    found = CONTROL.search(value or "")
    return f"U+{ord(found.group()):04X}" if found else None


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


class CsvRefused(ValueError):
    """The file as a whole cannot be imported (not UTF-8 CSV, no rows, unknown column): the message says why."""


def read_csv(data: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> Iterator[tuple[int, dict | str]]:
    """Yield (line number, row dict or the reason the line is refused) for each data row of a CSV upload.

    The header must name only `columns` (any order, any case) and include `required`; otherwise CsvRefused names
    the column. Line numbers are the file's own (csv.reader's line_num), so they stay right after blank lines and
    quoted cells spanning lines. A line with more cells than the header, or with a control character, is refused
    on its own. CsvRefused("the file has no rows") when nothing but a header (or nothing) is there.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CsvRefused(f"the file is not UTF-8 text ({err.reason} at byte {err.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the header
    except csv.Error as err:
        raise CsvRefused(f"line {reader.line_num}: not a readable CSV file ({err})") from None
    if header is None:
        raise CsvRefused("the file has no rows")
    names = [cell.strip().lower() for cell in header]
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
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            rows += 1
            yield reader.line_num, f"not readable as CSV ({err})"
            break  # the reader cannot resume after a malformed quote
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        rows += 1
        line = reader.line_num - sum(cell.count("\n") for cell in cells)  # where the row starts
        if len(cells) > len(names):
            yield line, f"{len(cells)} cells but the header names {len(names)} columns"
            continue
        code = next((c for c in map(control_character, cells) if c), None)
        if code:
            yield line, f"contains a control character ({code})"
            continue
        yield line, {name: cell.strip() for name, cell in zip(names, cells, strict=False)}
    if rows == 0:
        raise CsvRefused("the file has no rows")
