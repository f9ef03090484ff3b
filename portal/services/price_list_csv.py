"""Price-list CSV upload: per-SKU markups, one line at a time; bad lines are reported, good lines are saved.

Columns (header row required): sku, markup_kind (fixed | percent), markup_value (a decimal number).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from portal.extensions import db
from portal.models import PriceListItem
from portal.services.pricing import RATE_PLACES
from portal.services.text import CsvRefused, ImportResult, read_csv

KINDS = ("fixed", "percent")
COLUMNS = ("sku", "markup_kind", "markup_value")


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


def import_items(price_list_id: int, data: bytes) -> ImportResult:
    """Upsert the per-SKU markups of one price list (the caller has checked the list is the tenant's)."""
    result = ImportResult("price line(s) saved")
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
            result.accepted += 1
    except CsvRefused as err:
        result.file_error = str(err)
        result.accepted = 0
        db.session.rollback()
        return result
    db.session.commit()
    return result
