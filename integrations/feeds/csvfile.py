"""Reading and writing the CSV files of a feed: rows with the file's own line numbers, bad rows kept apart.

A feed file comes from a wholesaler's ERP, so extra columns are allowed and a bad row never stops the good ones:
`read_rows` returns the rows and, separately, each refused line with its reason.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

# C0 controls except tab, LF and CR, DEL and the C1 controls: PostgreSQL refuses NUL, the others garble pages.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class FeedFileRefused(ValueError):
    """A whole file cannot be read (not UTF-8, no header, a required column missing); the message says why."""


@dataclass
class Rows:
    """A file's readable rows as (line number, {our field: cell}) and its refused lines as (line number, reason,
    the row's cells by our field names or None when the line could not be split into cells)."""

    name: str
    rows: list[tuple[int, dict]] = field(default_factory=list)
    refused: list[tuple[int, str, dict | None]] = field(default_factory=list)

    def refuse(self, line: int, reason: str, row: dict | None = None) -> None:
        """Set a line aside with its reason; the other rows go on."""
        self.refused.append((line, reason, row))


def read_rows(data: bytes, name: str, columns: dict[str, str], required: tuple[str, ...]) -> Rows:
    """Rows of `data` keyed by our field names, where `columns` maps our field -> the file's column name.

    Column names are matched case-insensitively and columns the mapping does not name are ignored. Line numbers
    are csv.reader's line_num (right across blank lines and quoted cells spanning lines). Raises FeedFileRefused
    when the file is not UTF-8 or its header lacks a required column; a row with a control character, more cells
    than the header or a blank required cell is refused on its own.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise FeedFileRefused(f"{name} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
    except csv.Error as err:
        raise FeedFileRefused(f"{name} line {reader.line_num}: not a readable CSV file ({err})") from None
    if header is None:
        raise FeedFileRefused(f"{name} is empty")
    positions = {cell.strip().lower(): index for index, cell in enumerate(header)}
    wanted = {ours: positions[theirs.lower()] for ours, theirs in columns.items() if theirs.lower() in positions}
    missing = [columns[ours] for ours in required if ours not in wanted]
    if missing:
        raise FeedFileRefused(f"{name} has no {', '.join(missing)} column")
    out = Rows(name)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            out.refuse(reader.line_num, f"not readable as CSV ({err})")
            continue
        if not any(cell.strip() for cell in cells):
            continue
        line = reader.line_num
        row = {ours: (cells[index].strip() if index < len(cells) else "") for ours, index in wanted.items()}
        if len(cells) > len(header):
            out.refuse(line, f"{len(cells)} cells for {len(header)} columns", row)
            continue
        found = next((c for c in cells if CONTROL.search(c)), None)
        if found is not None:
            code = CONTROL.search(found).group()
            out.refuse(line, f"a cell contains a control character (U+{ord(code):04X})", row)
            continue
        blank = [columns[ours] for ours in required if not row.get(ours)]
        if blank:
            out.refuse(line, f"no {', '.join(blank)}", row)
            continue
        out.rows.append((line, row))
    return out


def write_rows(columns: list[str], rows: list[list[str]]) -> bytes:
    """A UTF-8 CSV file with a header row; cells that a spreadsheet would run as a formula are kept as text."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_inert(str(cell)) for cell in row])
    return buffer.getvalue().encode("utf-8")


def _inert(cell: str) -> str:
    # A retailer's customer typed these: "=HYPERLINK(...)" in a name must not become a formula in the ERP's sheet.
    return "'" + cell if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not _number(cell)) else cell


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
