"""Translations between WooCommerce's REST shapes and the hub's: addresses, dates, products, variants, stock refs.

The hub's address is the one the Shopify side already uses (firstName, address1, province, zip, countryCodeV2, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from integrations.base import RemoteProduct, RemoteVariant

MARKER_KEY = "wholesync_marker"  # order meta: our order id in a wholesaler's shop (WooCommerce has no meta search)
PRODUCT_KEY = "wholesync_key"  # product meta: our deterministic key of a product we created at a retailer
SHIPMENTS_KEY = "wholesync_shipments"  # order meta: the shipments we recorded on a retailer's order

_TO_HUB = {
    "first_name": "firstName",
    "last_name": "lastName",
    "company": "company",
    "address_1": "address1",
    "address_2": "address2",
    "city": "city",
    "state": "province",
    "postcode": "zip",
}


def address_to_hub(woo: dict | None) -> dict | None:
    """A WooCommerce `shipping` object as the hub's address (None when empty)."""
    if not woo or not any(woo.get(k) for k in (*_TO_HUB, "country")):
        return None
    out = {hub: woo.get(key) or "" for key, hub in _TO_HUB.items()}
    country = woo.get("country") or ""
    out["country"] = out["countryCodeV2"] = country  # WooCommerce keeps the ISO 3166 alpha-2 code
    out["name"] = " ".join(p for p in (out["firstName"], out["lastName"]) if p) or None
    if woo.get("phone"):
        out["phone"] = woo["phone"]
    return out


def address_to_woo(hub: dict | None) -> dict:
    """The hub's address as a WooCommerce `shipping` object (only the fields WooCommerce declares)."""
    hub = hub or {}
    out = {key: str(hub.get(name) or "") for key, name in _TO_HUB.items()}
    if not out["first_name"] and not out["last_name"] and hub.get("name"):
        first, _, last = str(hub["name"]).partition(" ")
        out["first_name"], out["last_name"] = first, last
    country = hub.get("countryCodeV2") or hub.get("countryCode") or hub.get("country") or ""
    out["country"] = country if len(country) == 2 else ""
    return {k: v for k, v in out.items() if v}


def gmt(value: str | None) -> datetime | None:
    """A `*_gmt` date (no zone in WooCommerce's answer) as an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def gmt_param(value: datetime) -> str:
    """A datetime as the `modified_after` value to send with `dates_are_gmt=true` (second resolution)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def money(value) -> Decimal:
    """A WooCommerce money string as a Decimal ("" and None are zero)."""
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def money_out(value: Decimal) -> str:
    """A Decimal as the money string WooCommerce takes (two decimals)."""
    return str(Decimal(value).quantize(Decimal("0.01")))


def meta(item: dict, key: str):
    """The value of a meta_data entry by key (None when absent)."""
    for entry in item.get("meta_data") or []:
        if entry.get("key") == key:
            return entry.get("value")
    return None


def stock_ref(item: dict) -> str:
    """Where an item's stock is written: `p:<id>` for a product, `v:<parent>:<id>` for a variation."""
    if item.get("parent_id") and item.get("type", "variation") == "variation":
        return f"v:{item['parent_id']}:{item['id']}"
    return f"p:{item['id']}"


def parse_ref(ref: str) -> tuple[int | None, int]:
    """(parent id or None, id) of a stock ref."""
    parts = ref.split(":")
    if parts[0] == "v":
        return int(parts[1]), int(parts[2])
    return None, int(parts[1])


def quantity(item: dict, parent: dict | None = None) -> int:
    """The available quantity: the item's own when it manages stock, its parent's when the parent does."""
    managed = item.get("manage_stock")
    if managed is True:
        return int(item.get("stock_quantity") or 0)
    if managed == "parent" and parent is not None:
        return int(parent.get("stock_quantity") or 0)
    # Unmanaged stock has no number: in stock counts as available without a limit we could sync, so 0 is not said.
    return 0 if item.get("stock_status") == "outofstock" else int(item.get("stock_quantity") or 0)


def remote_product(item: dict, variations: list[dict]) -> RemoteProduct:
    """A WooCommerce product (and its variations, for a variable product) as the hub's RemoteProduct."""
    options = [
        {"name": a["name"], "values": list(a.get("options") or [])}
        for a in item.get("attributes") or []
        if a.get("variation")
    ]
    if item.get("type") == "variable":
        variants = [
            RemoteVariant(
                remote_id=str(v["id"]),
                sku=v.get("sku") or "",
                price=money(v.get("regular_price") or v.get("price")),
                title=" / ".join(a.get("option", "") for a in v.get("attributes") or []),
                option_values=[{"name": a.get("name"), "value": a.get("option")} for a in v.get("attributes") or []],
                barcode=v.get("global_unique_id") or None,
                inventory_item_id=stock_ref({**v, "parent_id": item["id"]}),
                quantity=quantity(v, item),
            )
            for v in variations
        ]
    else:
        variants = [
            RemoteVariant(
                remote_id=str(item["id"]),
                sku=item.get("sku") or "",
                price=money(item.get("regular_price") or item.get("price")),
                title=item.get("name") or "",
                barcode=item.get("global_unique_id") or None,
                inventory_item_id=stock_ref({"id": item["id"]}),
                quantity=quantity(item),
            )
        ]
    return RemoteProduct(
        remote_id=str(item["id"]),
        title=item.get("name") or "",
        updated_at=gmt(item.get("date_modified_gmt")),
        description_html=item.get("description") or "",
        product_type=((item.get("categories") or [{}])[0] or {}).get("name") or "",
        tags=[t.get("name") for t in item.get("tags") or [] if t.get("name")],
        collections=[c.get("name") for c in item.get("categories") or [] if c.get("name")],  # product selection
        image_urls=[i.get("src") for i in item.get("images") or [] if i.get("src")],
        options=options,
        variants=variants,
    )
