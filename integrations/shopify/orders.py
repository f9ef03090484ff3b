"""Shopify orders: read a retailer's orders incrementally by updated_at, create orders in a wholesaler's store
with `orderCreate` — which is not idempotent, so each order carries our marker and is looked up first — and cancel
them there with `orderCancel` (a background job, polled until done).

The lookup does not trust the search index (it lags by an undocumented delay, so "not found by search" does not
mean "not created"): it first lists the shop's most recently created orders, newest first, without a search query,
and matches our marker in their custom attributes; only orders older than that window are found by tag search.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from integrations.base import (
    ChangeRefused,
    CreatedOrder,
    OrderDraft,
    OrderShipping,
    OrderState,
    RemoteOrder,
    RemoteOrderLine,
)
from integrations.shopify.errors import ShopifyUserError
from integrations.timeutil import format_iso, parse_iso

ORDERS_QUERY = """
query SyncOrders($after: String, $query: String) {
  orders(first: 10, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt cancelledAt currencyCode email phone note
      customAttributes { key value }
      shippingLine { title code source originalPriceSet { shopMoney { amount } } }
      shippingAddress { name firstName lastName company address1 address2 city province provinceCode zip country
        countryCodeV2 phone }
      lineItems(first: 50) { nodes { id sku quantity currentQuantity title } }
      refunds(first: 3) { refundLineItems(first: 5) { nodes { quantity restockType lineItem { id } } } }
    }
  }
}
"""

FIND_ORDER = """
query SyncFindOrder($query: String!) {
  orders(first: 1, query: $query) { nodes { id lineItems(first: 250) { nodes { id sku } } } }
}
"""

RECENT_ORDERS = """
query SyncRecentOrders($after: String) {
  orders(first: 100, after: $after, sortKey: CREATED_AT, reverse: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id createdAt customAttributes { key value } }
  }
}
"""

CHANGED_ORDERS = """
query SyncChangedOrders($after: String, $query: String) {
  orders(first: 100, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}
"""

ORDER_LINES = """
query SyncOrderLines($id: ID!) {
  order(id: $id) { id lineItems(first: 250) { nodes { id sku } } }
}
"""

MARKER_ATTRIBUTE = "wholesync_order"
RECENT_WINDOW = timedelta(days=3)  # orders created this recently are found without the search index
RECENT_PAGES = 20  # at most 2,000 recent orders are listed before falling back to search

ORDER_CREATE = """
mutation SyncOrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id lineItems(first: 250) { nodes { id sku } } }
    userErrors { field message }
  }
}
"""

# `orderCancel` runs as a job; its own error list (userErrors is deprecated) is read under the name `mutate` checks.
ORDER_CANCEL = """
mutation SyncOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, notifyCustomer: false, staffNote: $staffNote) {
    job { id done }
    userErrors: orderCancelUserErrors { field message code }
  }
}
"""

ORDER_EDIT_BEGIN = """
mutation SyncOrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id lineItems(first: 250) { nodes { id sku quantity } } }
    userErrors { field message }
  }
}
"""

ORDER_EDIT_SET_QUANTITY = """
mutation SyncOrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: true) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}
"""

ORDER_EDIT_ADD_VARIANT = """
mutation SyncOrderEditAddVariant($id: ID!, $variantId: ID!, $quantity: Int!) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, allowDuplicates: false) {
    calculatedLineItem { id quantity }
    userErrors { field message }
  }
}
"""

ORDER_EDIT_COMMIT = """
mutation SyncOrderEditCommit($id: ID!, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: $staffNote) {
    order { id lineItems(first: 250) { nodes { id sku } } }
    userErrors { field message }
  }
}
"""

JOB_DONE = """
query SyncJobDone($id: ID!) { job(id: $id) { id done } }
"""

ORDER_STATE = """
query SyncOrderState($id: ID!) {
  order(id: $id) { id cancelledAt cancelReason lineItems(first: 250) { nodes { id currentQuantity } } }
}
"""

CANCEL_POLLS = 5  # orderCancel finishes in the background; a few looks, then the next run looks again
STAFF_NOTE_LIMIT = 255

ADDRESS_FIELDS = ("firstName", "lastName", "company", "address1", "address2", "city", "province", "zip", "country")


def _created(node: dict) -> CreatedOrder:
    lines = node["lineItems"]["nodes"]
    return CreatedOrder(remote_id=node["id"], line_ids_by_sku={n["sku"]: n["id"] for n in lines if n.get("sku")})


class OrderSource:
    """The retailer side: orders updated since a time, oldest update first."""

    def orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        query = f"updated_at:>='{format_iso(updated_since)}'" if updated_since else None
        for node in self.pages(ORDERS_QUERY, {"query": query}, "orders"):
            address = node.get("shippingAddress")
            returned = _returned(node.get("refunds") or [])
            yield RemoteOrder(
                remote_id=node["id"],
                name=node["name"],
                updated_at=parse_iso(node["updatedAt"]),
                created_at=parse_iso(node.get("createdAt")),
                cancelled_at=parse_iso(node.get("cancelledAt")),
                currency=node.get("currencyCode") or "USD",
                email=node.get("email"),
                customer_name=(address or {}).get("name"),
                shipping_address=address,
                phone=node.get("phone") or (address or {}).get("phone"),
                note=node.get("note") or None,
                attributes=[a for a in node.get("customAttributes") or [] if a.get("key")],
                shipping=_shipping(node.get("shippingLine")),
                lines=[
                    RemoteOrderLine(
                        remote_id=li["id"],
                        sku=li.get("sku") or "",
                        quantity=li.get("currentQuantity", li["quantity"]),
                        title=li.get("title") or "",
                        returned=returned.get(li["id"], 0),
                    )
                    for li in node["lineItems"]["nodes"]
                ],
            )


class OrderSink:
    """The wholesaler side: find an order by our marker, or create it."""

    _recent: dict[str, str] | None = None  # recent orders by marker, listed once per sink (see find_order)
    _recent_from: datetime | None = None  # every order created since then is in that listing

    def find_order(self, marker: str, created_since: datetime | None = None) -> CreatedOrder | None:
        """Our order with this marker: among recent orders (no search index), else found by tag search.

        Recent orders are listed once per sink (one run pushes many orders) and looked up in memory: listing them
        again for each order cost up to RECENT_PAGES throttled queries per order, and an order push fell behind the
        orders coming in once the store held a few hundred. The listing goes back to `created_since` (when the
        first attempt began) or RECENT_WINDOW, whichever is later. When it covers `created_since`, an order not in
        it does not exist; otherwise (older, or more than RECENT_PAGES of orders since) the search index is asked,
        which has long caught up with an order that old. A create whose outcome is unknown drops the listing, so
        the look-up that follows sees the order it may just have made."""
        markers, listed_from = self._recent_markers(created_since)
        found = markers.get(marker)
        if found is not None:
            order = self.gql(ORDER_LINES, {"id": found})["order"]
            return _created(order) if order else None
        if created_since is not None and listed_from <= created_since:
            return None  # every order created since the first attempt was listed
        nodes = self.gql(FIND_ORDER, {"query": f"tag:'{marker}'"})["orders"]["nodes"]
        return _created(nodes[0]) if nodes else None

    def _recent_markers(self, created_since: datetime | None) -> tuple[dict[str, str], datetime]:
        """Marker -> order id of the orders created since `created_since`, at most RECENT_WINDOW ago (newest first,
        at most RECENT_PAGES), and the time from which the listing holds every order; a listing already made that
        reaches back as far is used again."""
        oldest = max(created_since or datetime.min.replace(tzinfo=UTC), datetime.now(UTC) - RECENT_WINDOW)
        if self._recent is not None and self._recent_from is not None and self._recent_from <= oldest:
            return self._recent, self._recent_from
        markers: dict[str, str] = {}
        after, listed_from = None, datetime.max.replace(tzinfo=UTC)
        for _ in range(RECENT_PAGES):
            page = self.gql(RECENT_ORDERS, {"after": after})["orders"]
            recent = [node for node in page["nodes"] if parse_iso(node["createdAt"]) >= oldest]
            for node in recent:
                attributes = {a["key"]: a["value"] for a in node.get("customAttributes") or []}
                if attributes.get(MARKER_ATTRIBUTE):
                    markers.setdefault(attributes[MARKER_ATTRIBUTE], node["id"])
                listed_from = min(listed_from, parse_iso(node["createdAt"]))
            if len(recent) < len(page["nodes"]):
                listed_from = oldest  # the page reached older orders: everything since `oldest` is listed
                break
            if not page["pageInfo"]["hasNextPage"]:
                listed_from = datetime.min.replace(tzinfo=UTC)  # the store's every order is listed
                break
            after = page["pageInfo"]["endCursor"]
        else:  # RECENT_PAGES read: complete only after the oldest second listed (the next page may share it)
            listed_from += timedelta(seconds=1)
        self._recent, self._recent_from = markers, listed_from
        return markers, listed_from

    def create_order(self, draft: OrderDraft) -> CreatedOrder:
        address = {k: v for k, v in (draft.shipping_address or {}).items() if k in ADDRESS_FIELDS and v}
        if (draft.shipping_address or {}).get("countryCodeV2"):
            address["countryCode"] = draft.shipping_address["countryCodeV2"]
        order = {
            "email": draft.email,
            "currency": draft.currency,
            "note": draft.note,
            "tags": ["wholesync", draft.marker],
            "poNumber": draft.name,
            "customAttributes": [
                {"key": MARKER_ATTRIBUTE, "value": draft.marker},
                {"key": "retailer_order", "value": draft.name},
                *({"key": a["key"], "value": a.get("value")} for a in draft.attributes
                  if a["key"] not in (MARKER_ATTRIBUTE, "retailer_order")),
            ],
            "lineItems": [_line_input(line, draft.currency) for line in draft.lines],
        }  # fmt: skip
        if address:
            order["shippingAddress"] = address
        if draft.phone:
            order["phone"] = draft.phone
        if draft.shipping is not None:
            shipping = {
                "title": draft.shipping.title,
                "priceSet": {"shopMoney": {"amount": str(draft.shipping.price), "currencyCode": draft.currency}},
            }
            if draft.shipping.code:
                shipping["code"] = draft.shipping.code
            if draft.shipping.source:
                shipping["source"] = draft.shipping.source
            order["shippingLines"] = [shipping]
        options = {"inventoryBehaviour": "DECREMENT_OBEYING_POLICY", "sendReceipt": False}
        try:
            payload = self.mutate(ORDER_CREATE, {"order": order, "options": options}, "orderCreate")
        except Exception:
            self._recent = None  # the store may hold the order now: the next look-up lists recent orders again
            raise
        return _created(payload["order"])

    def edit_order(
        self, remote_order_id: str, quantities: dict[str, int], additions: list[tuple[str, int]], note: str
    ) -> CreatedOrder:
        """One order edit: new quantities by order line id (0 removes; restocked) and new lines (variant id,
        quantity), committed together. Shopify's refusal (e.g. below what shipped) becomes ChangeRefused."""
        try:
            begun = self.mutate(ORDER_EDIT_BEGIN, {"id": remote_order_id}, "orderEditBegin")
            calculated = begun["calculatedOrder"]
            # A calculated line item carries its order line item's number.
            by_number = {_numeric(n["id"]): n["id"] for n in calculated["lineItems"]["nodes"]}
            for line_id, quantity in quantities.items():
                if _numeric(line_id) not in by_number:
                    raise ChangeRefused(f"line {line_id} is not on the wholesaler's order any more")
                variables = {"id": calculated["id"], "lineItemId": by_number[_numeric(line_id)], "quantity": quantity}
                self.mutate(ORDER_EDIT_SET_QUANTITY, variables, "orderEditSetQuantity")
            for variant_id, quantity in additions:
                self.mutate(ORDER_EDIT_ADD_VARIANT, {"id": calculated["id"], "variantId": variant_id,
                                                     "quantity": quantity}, "orderEditAddVariant")  # fmt: skip
            committed = self.mutate(ORDER_EDIT_COMMIT, {"id": calculated["id"], "staffNote": note[:STAFF_NOTE_LIMIT]},
                                    "orderEditCommit")  # fmt: skip
        except ShopifyUserError as exc:
            messages = "; ".join(e.get("message") or "" for e in exc.errors) or str(exc)
            raise ChangeRefused(messages) from exc
        return _created(committed["order"])

    def cancel_order(self, remote_order_id: str, reason: str, note: str) -> bool:
        """`orderCancel` with restock; True once its job is done. Shopify's refusal becomes ChangeRefused."""
        variables = {
            "orderId": remote_order_id,
            "reason": reason.upper(),
            "restock": True,
            "staffNote": note[:STAFF_NOTE_LIMIT],
        }
        try:
            payload = self.mutate(ORDER_CANCEL, variables, "orderCancel")
        except ShopifyUserError as exc:
            messages = "; ".join(e.get("message") or "" for e in exc.errors) or str(exc)
            raise ChangeRefused(messages) from exc
        job = payload.get("job") or {}
        for attempt in range(CANCEL_POLLS):
            if job.get("done"):
                return True
            time.sleep(0.5 * (attempt + 1))
            job = self.gql(JOB_DONE, {"id": job["id"]}).get("job") or {}
        return bool(job.get("done"))

    def changed_orders(self, updated_since: datetime) -> dict[str, datetime]:
        """The orders updated since `updated_since` (a shipment, an edit and a cancellation each update an order),
        with their `updatedAt`: one cheap listing instead of reading every open order's shipments."""
        query = f"updated_at:>='{format_iso(updated_since)}'"
        nodes = self.pages(CHANGED_ORDERS, {"query": query}, "orders")
        return {node["id"]: parse_iso(node["updatedAt"]) for node in nodes}

    def order_state(self, remote_order_id: str) -> OrderState | None:
        """Whether the wholesaler cancelled the order (and its reason) and each line's current quantity."""
        node = self.gql(ORDER_STATE, {"id": remote_order_id})["order"]
        if node is None:
            return None
        quantities = {li["id"]: li["currentQuantity"] for li in node["lineItems"]["nodes"]}
        reason = (node.get("cancelReason") or "").lower() or None
        return OrderState(cancelled=node.get("cancelledAt") is not None, reason=reason, line_quantities=quantities)


def _returned(refunds: list[dict]) -> dict[str, int]:
    """Units refunded as returns (restock type RETURN: shipped, sent back) by line id; other refunds are not returns
    (CANCEL is an unshipped unit taken off the order, which the order's current quantity already shows)."""
    returned: dict[str, int] = {}
    for refund in refunds:
        for item in refund["refundLineItems"]["nodes"]:
            if item["restockType"] == "RETURN":
                returned[item["lineItem"]["id"]] = returned.get(item["lineItem"]["id"], 0) + item["quantity"]
    return returned


def _numeric(gid_: str) -> str:
    return gid_.rsplit("/", 1)[-1]


def _shipping(node: dict | None) -> OrderShipping | None:
    """The customer's shipping choice, with what it was charged in the shop's currency."""
    if not node or not node.get("title"):
        return None
    amount = ((node.get("originalPriceSet") or {}).get("shopMoney") or {}).get("amount")
    return OrderShipping(
        title=node["title"], code=node.get("code"), source=node.get("source"), price=Decimal(str(amount or "0"))
    )


def _line_input(line: dict, currency: str) -> dict:
    data = {
        "quantity": line["quantity"],
        "sku": line["sku"],
        "title": line["title"] or line["sku"],
        "priceSet": {"shopMoney": {"amount": str(line["price"]), "currencyCode": currency}},
    }
    if line.get("variant_remote_id"):
        data["variantId"] = line["variant_remote_id"]
    return data
