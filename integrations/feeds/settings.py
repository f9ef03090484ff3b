"""A wholesaler's file-feed settings: where the files are (SFTP or HTTPS), which folders, and the column mapping.

Non-secret settings live in Connection.settings (JSON); the SFTP private key (or the HTTPS Authorization value) is the
connection's encrypted access token. `FeedSettings.from_mapping` fills every missing key from the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Our field -> the wholesaler's column name. One mapping serves every file: `sku` and `quantity` name the same
# columns in the catalog, stock, order and shipment files. Defaults are our field names themselves.
CATALOG_FIELDS = (
    "product_id", "title", "description", "vendor", "product_type", "tags", "image_url", "status",
    "sku", "price", "retail_price", "barcode", "weight_grams", "quantity",
    "option1_name", "option1_value", "option2_name", "option2_value", "option3_name", "option3_value",
    "collections",
)  # fmt: skip
# The stock file: a quantity per SKU, or (with a `location` column) one per SKU and warehouse.
STOCK_FIELDS = ("sku", "quantity", "location")
SHIPMENT_FIELDS = (
    "order",
    "sku",
    "quantity",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipment_id",
    "shipped_at",
)
ORDER_FIELDS = (
    "order", "order_name", "currency", "email", "ship_name", "ship_company", "ship_address1", "ship_address2",
    "ship_city", "ship_province", "ship_zip", "ship_country", "ship_phone", "sku", "title", "quantity", "price", "note",
)  # fmt: skip
FIELDS = tuple(dict.fromkeys(CATALOG_FIELDS + STOCK_FIELDS + SHIPMENT_FIELDS + ORDER_FIELDS))
DEFAULT_MAPPING = {name: name for name in FIELDS}

DEFAULTS = {
    "host": "",
    "port": 22,
    "username": "",
    "host_key": "",  # "ssh-ed25519 AAAA...": the only key the server may present
    # A path on the SFTP server, or an https:// URL fetched with GET (then orders and shipments need SFTP too).
    "catalog_path": "catalog.csv",
    "stock_path": "",  # empty: quantities come from the catalog file's quantity column
    "outbox": "orders/outbox",  # where we write orders
    "orders_processed": "orders/processed",  # where the ERP moves orders it has taken (find_order looks there too)
    "inbox": "shipments/inbox",  # where the ERP writes shipments
    "processed": "shipments/processed",  # where we move shipment files once read
    "processed_days": 14,  # processed shipment files this recent are read again (a crash after the move loses none)
    # PEM certificate(s) trusted, besides the system's CAs, for this feed's https:// URLs: the CA of an ERP's
    # private PKI or the server's own self-signed certificate. Verification (chain and host name) is never off.
    "https_ca": "",
    "mapping": DEFAULT_MAPPING,
}


@dataclass(frozen=True)
class FeedSettings:
    """Everything but the secret that a feed connection needs."""

    host: str = ""
    port: int = 22
    username: str = ""
    host_key: str = ""
    catalog_path: str = "catalog.csv"
    stock_path: str = ""
    outbox: str = "orders/outbox"
    orders_processed: str = "orders/processed"
    inbox: str = "shipments/inbox"
    processed: str = "shipments/processed"
    processed_days: int = 14
    https_ca: str = ""
    mapping: dict = field(default_factory=lambda: dict(DEFAULT_MAPPING))

    @classmethod
    def from_mapping(cls, stored: Mapping | None) -> FeedSettings:
        """Settings from Connection.settings; unknown keys ignored, missing ones (and mapping fields) defaulted."""
        stored = dict(stored or {})
        values = {key: stored.get(key, default) for key, default in DEFAULTS.items() if key != "mapping"}
        values["port"] = int(values["port"] or 22)
        values["processed_days"] = int(values["processed_days"] or 0)
        mapping = dict(DEFAULT_MAPPING)
        mapping.update({k: v for k, v in (stored.get("mapping") or {}).items() if k in DEFAULT_MAPPING and v})
        return cls(**values, mapping=mapping)

    def column(self, name: str) -> str:
        """The wholesaler's column name for our field `name` (compared case-insensitively when reading)."""
        return self.mapping.get(name) or name
