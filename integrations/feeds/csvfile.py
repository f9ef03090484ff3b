"""Reading and writing the CSV files of a feed: rows with the file's own line numbers, bad rows kept apart.

A feed file comes from a wholesaler's ERP, so extra columns are allowed and a bad row never stops the good ones:
`read_rows` returns the rows and, separately, each refused line with its reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from integrations.csvrows import CsvUnreadable, control_character, read_table


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
    are where each row starts in the file (integrations.csvrows). Raises FeedFileRefused when the file is not UTF-8
    or its header lacks a required column; a row with a control character, more cells than the header or a blank
    required cell is refused on its own.
    """
    try:
        table = read_table(data)
    except CsvUnreadable as err:
        raise FeedFileRefused(f"{name} {err}") from None
    header = table.header
    positions = {cell.strip().lower(): index for index, cell in enumerate(header)}
    wanted = {ours: positions[theirs.lower()] for ours, theirs in columns.items() if theirs.lower() in positions}
    missing = [columns[ours] for ours in required if ours not in wanted]
    if missing:
        raise FeedFileRefused(f"{name} has no {', '.join(missing)} column")
    out = Rows(name)
    for line, cells in table.rows:
        if isinstance(cells, str):
            out.refuse(line, cells)
            continue
        row = {ours: (cells[index].strip() if index < len(cells) else "") for ours, index in wanted.items()}
        if len(cells) > len(header):
            out.refuse(line, f"{len(cells)} cells for {len(header)} columns", row)
        elif code := next((c for c in map(control_character, cells) if c), None):
            out.refuse(line, f"a cell contains a control character ({code})", row)
        elif blank := [columns[ours] for ours in required if not row.get(ours)]:
            out.refuse(line, f"no {', '.join(blank)}", row)
        else:
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
