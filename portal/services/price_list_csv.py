"""Price-list CSV upload: per-SKU markups, one line at a time; bad lines are reported, good lines are saved.

Columns (header row required): sku, markup_kind (fixed | percent), markup_value (a decimal number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from portal.extensions import db
from portal.models import PriceListItem
from portal.services.pricing import RATE_PLACES
from portal.services.text import CsvRefused, RowErrors, read_csv

KINDS = ("fixed", "percent")
COLUMNS = ("sku", "markup_kind", "markup_value")


@dataclass
class ItemsResult:
    """Lines saved (new or changed), the refused lines (capped, with their numbers), or why the file was refused."""

    saved: int = 0
    refused: RowErrors = field(default_factory=RowErrors)
    file_error: str | None = None

    @property
    def errors(self) -> list[tuple[int, str]]:
        """The listed refused lines as (line number, reason); at most text.MAX_LISTED_ERRORS."""
        return self.refused.listed

    def summary(self) -> str:
        """One sentence for the page: what was saved and refused, or why nothing could be read."""
        if self.file_error:
            return f"Nothing saved: {self.file_error}."
        more = f" (the first {len(self.errors)} are listed)" if self.refused.unlisted else ""
        return f"Saved {self.saved} line(s); {self.refused.count} refused{more}."


def _check(row: dict) -> tuple[str, str, Decimal] | str:
    sku = (row.get("sku") or "").strip()
    kind = (row.get("markup_kind") or "").strip().lower()
    raw = (row.get("markup_value") or "").strip()
    if not sku:
        return "the sku is empty"
    if kind not in KINDS:
        return f"markup_kind must be fixed or percent, not {kind!r}"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return f"markup_value {raw!r} is not a number"
    if not value.is_finite() or value < 0 or value > Decimal("100000"):
        return f"markup_value {raw!r} must be between 0 and 100000"
    if -value.normalize().as_tuple().exponent > RATE_PLACES:  # kept exactly as uploaded, or refused: never cut
        return f"markup_value {raw!r} has more than {RATE_PLACES} decimals and would not be kept exactly"
    return sku, kind, value


def import_items(price_list_id: int, data: bytes) -> ItemsResult:
    """Upsert the per-SKU markups of one price list (the caller has checked the list is the tenant's)."""
    result = ItemsResult()
    existing = {
        item.sku: item
        for item in db.session.execute(
            select(PriceListItem).where(PriceListItem.price_list_id == price_list_id)
        ).scalars()
    }
    try:
        for line, row in read_csv(data, COLUMNS, required=COLUMNS):
            checked = row if isinstance(row, str) else _check(row)
            if isinstance(checked, str):
                result.refused.add(line, checked)
                continue
            sku, kind, value = checked
            item = existing.get(sku) or PriceListItem(price_list_id=price_list_id, sku=sku)
            item.markup_kind, item.markup_value = kind, value
            existing[sku] = item
            db.session.add(item)
            result.saved += 1
    except CsvRefused as err:
        result.file_error = str(err)
        result.saved = 0
        db.session.rollback()
        return result
    db.session.commit()
    return result
