"""Price-list CSV upload: per-SKU markups, one line at a time; bad lines are reported, good lines are saved.

Columns (header row required): sku, markup_kind (fixed | percent), markup_value (a decimal number).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from portal.extensions import db
from portal.models import PriceListItem
from portal.services.pricing import RATE_PLACES

KINDS = ("fixed", "percent")


@dataclass
class ItemsResult:
    """Lines saved (new or changed) and each refused line with its number and reason."""

    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


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
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as err:
        result.errors.append((1, f"not a readable UTF-8 CSV file: {err}"))
        return result
    existing = {
        item.sku: item
        for item in db.session.execute(
            select(PriceListItem).where(PriceListItem.price_list_id == price_list_id)
        ).scalars()
    }
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): v for k, v in raw.items()}
        checked = _check(row)
        if isinstance(checked, str):
            result.errors.append((line, checked))
            continue
        sku, kind, value = checked
        item = existing.get(sku) or PriceListItem(price_list_id=price_list_id, sku=sku)
        item.markup_kind, item.markup_value = kind, value
        existing[sku] = item
        db.session.add(item)
        result.saved += 1
    db.session.commit()
    return result
