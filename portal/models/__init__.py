"""The domain model (ARCHITECTURE §4); importing this package registers every table."""

from portal.models.accounts import Connection, GatewayAccount, Organization, User
from portal.models.alerts import Alert, AlertSetting
from portal.models.base import utcnow
from portal.models.billing import Invoice, InvoiceLine
from portal.models.catalog import Listing, ListingVariant, Product, StockLocation, Variant, VariantStock
from portal.models.orders import Fulfillment, Order, OrderLine
from portal.models.partners import SYNC_TOGGLES, Partnership, PriceException, PriceList, PriceListItem
from portal.models.selection import ProductSelection
from portal.models.sync import ActivityLog, OutboxMessage, RecordFailure, SyncCursor, SyncRun, WebhookReceipt

__all__ = [
    "SYNC_TOGGLES",
    "ActivityLog",
    "Alert",
    "AlertSetting",
    "Connection",
    "Fulfillment",
    "GatewayAccount",
    "Invoice",
    "InvoiceLine",
    "Listing",
    "ListingVariant",
    "Order",
    "OrderLine",
    "Organization",
    "OutboxMessage",
    "Partnership",
    "PriceException",
    "PriceList",
    "PriceListItem",
    "Product",
    "ProductSelection",
    "RecordFailure",
    "StockLocation",
    "SyncCursor",
    "SyncRun",
    "User",
    "Variant",
    "VariantStock",
    "WebhookReceipt",
    "utcnow",
]
