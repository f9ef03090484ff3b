"""The one strict CSV reader: UTF-8 text, blank lines skipped, each row with the line of the file it starts on.

Uploads in the portal (partners, price lists) and the files of a wholesaler's feed both read through `read_table`;
each caller decides what its columns mean and words its own refusals. A control character is found by
`control_character` wherever text arrives (PostgreSQL refuses NUL; the other controls garble pages and logs).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

# C0 controls except tab, line feed and carriage return (which textareas and CSV cells legitimately hold), DEL,
# and the C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: str) -> str | None:
    """The first control character in `value` as U+XXXX, or None when the text is clean."""
    found = CONTROL.search(value or "")
    return f"U+{ord(found.group()):04X}" if found else None


class CsvUnreadable(ValueError):
    """The file as a whole cannot be read (not UTF-8, not CSV before its header, no header): the message is a
    predicate ("is not UTF-8 text ...", "has no rows") for the caller to put after the file's name."""


@dataclass
class Table:
    """A CSV file's header cells (as written) and its data rows as (line the row starts on, cells or the reason the
    rest of the file cannot be read). Blank lines are not rows."""

    header: list[str]
    rows: Iterator[tuple[int, list[str] | str]]


def read_table(data: bytes) -> Table:
    """Split `data` into its header and rows. Raises CsvUnreadable when it is not UTF-8, holds no header, or cannot
    be read as CSV before the header ends. A malformed quote later yields (line, reason) and ends the rows: the
    reader cannot resume after it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CsvUnreadable(f"is not UTF-8 text ({err.reason} at byte {err.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)  # blank lines before the header
    except csv.Error as err:
        raise CsvUnreadable(f"is not a readable CSV file (line {reader.line_num}: {err})") from None
    if header is None:
        raise CsvUnreadable("has no rows")
    return Table(header, _rows(reader))


def _rows(reader) -> Iterator[tuple[int, list[str] | str]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield reader.line_num, f"not readable as CSV ({err})"
            return
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        # line_num is where the row ends; a quoted cell spanning lines moves its start up.
        yield reader.line_num - sum(cell.count("\n") for cell in cells), cells
