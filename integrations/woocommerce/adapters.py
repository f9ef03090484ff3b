"""WooCommerce as a wholesaler's system of record and as a retailer's store, over the REST API `wc/v3`.

Status mapping (WooCommerce order status -> what the hub does):
- retailer store: `processing`, `on-hold`, `completed` are paid orders and are taken; `cancelled` and `refunded`
  are taken as cancelled (an order we already hold is cancelled); `pending`, `failed`, `checkout-draft` and
  `trash` are not orders yet and are skipped. A shipment we send back adds a customer note (the customer is told),
  the Shipment Tracking extension's items where the shop has it, our record in order meta, and moves the order to
  `completed` once every line is shipped.
- system of record: the orders we create are `processing` (paid and to fulfil: WooCommerce reduces its stock), with
  no billing e-mail so the wholesaler's shop never writes to the retailer's customer, and our marker in
  `meta_data`. The order counts as shipped when the shop has Shipment Tracking items for it, or (without such
  items) a tracking number in its order notes (formats in notes.py), or it is `completed`.
Stock: WooCommerce has no compare-and-set; the hub owns the number it places at a retailer and writes absolute
quantities through the batch endpoints (≤ 100 items a call), only for the items whose number changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from integrations.base import (
    ChangeRefused,
    CreatedOrder,
    OrderDraft,
    OrderState,
    PlacedVariant,
    ProductPush,
    QuantitySet,
    RemoteLocation,
    RemoteOrder,
    RemoteOrderLine,
    RemoteProduct,
    Shipment,
    StockLevel,
    single_location,
)
from integrations.woocommerce.client import BATCH_LIMIT, WooClient
from integrations.woocommerce.errors import WooNotFound, WooRefusal
from integrations.woocommerce.mapping import (
    MARKER_KEY,
    PRODUCT_KEY,
    SHIPMENTS_KEY,
    address_to_hub,
    address_to_woo,
    gmt,
    gmt_param,
    meta,
    money_out,
    parse_ref,
    quantity,
    remote_product,
    stock_ref,
)
from integrations.woocommerce.notes import tracking_from_notes
from integrations.woocommerce.webhooks import RETAILER_TOPICS, WHOLESALER_TOPICS, delivery_url, repair_webhooks

TRACKING_NAMESPACE = "wc-shipment-tracking/v3"
TAKEN_STATUSES = ("processing", "on-hold", "completed", "cancelled", "refunded")
CANCELLED_STATUSES = ("cancelled", "refunded")
MARKER_LOOKBACK = timedelta(days=14)  # how far back find_order reads orders (no meta filter exists)
WINDOW_OVERLAP = timedelta(seconds=2)  # modified_after is exclusive with 1 s resolution


def _check_batch(answer: dict, what: str) -> None:
    """A batch answers 200 even when items fail: any item error becomes a refusal naming them."""
    errors = [
        f"{item.get('id')}: {item['error'].get('code')} {item['error'].get('message')}"
        for kind in ("create", "update", "delete")
        for item in answer.get(kind) or []
        if isinstance(item, dict) and item.get("error")
    ]
    if errors:
        raise WooRefusal(f"{what}: {'; '.join(errors)}", 400, "batch_item_error", {"errors": errors})


class WooShop:
    """One WooCommerce site reached through the shared client."""

    topics: tuple[str, ...] = ()

    def __init__(self, connection, client: WooClient, settings=None):
        self.connection = connection
        self.client = client
        self.settings = settings or {}
        self._tracking: bool | None = None

    def ensure_subscriptions(self, uri: str | None = None, name_prefix: str = "wholesync") -> list[str]:
        """Webhook health, run by the hourly reconciliation: our hooks exist, are `active` and post to our delivery
        URL with our secret; returns what was repaired ("order.updated reactivated", ...), [] when all was well.

        WooCommerce hooks post to `/webhooks/woocommerce/<connection id>` (not the Shopify `uri`): the connection's
        id names the shop and its secret signs the deliveries."""
        url = delivery_url(self.settings, self.connection.id)
        done = repair_webhooks(self.client, url, self.connection.webhook_secret, self.topics)
        return [f"{topic} {what}" for topic, (_, what) in zip(self.topics, done, strict=True) if what]

    def has_shipment_tracking(self) -> bool:
        """Whether the site runs the Shipment Tracking extension (its namespace is in `/wp-json/`)."""
        if self._tracking is None:
            self._tracking = TRACKING_NAMESPACE in self.client.namespaces()
        return self._tracking

    def variations(self, product_id) -> list[dict]:
        """Every variation of a variable product."""
        return list(self.client.pages(f"products/{product_id}/variations", {"orderby": "id", "order": "asc"}))

    def tracking_items(self, order_id) -> list[dict]:
        """The Shipment Tracking items of an order ([] when the site has no such extension)."""
        if not self.has_shipment_tracking():
            return []
        return self.client.get(f"orders/{order_id}/shipment-trackings", namespace=TRACKING_NAMESPACE)


# ---------------------------------------------------------------- the wholesaler's system of record


class WooSystemOfRecord(WooShop):
    """A wholesaler's WooCommerce shop as its system of record: published products, stock, orders we create."""

    topics = WHOLESALER_TOPICS

    def _changed_parents(self, since: datetime) -> set[int]:
        """Variable products whose variations changed since `since` (a variation's edit does not date its parent)."""
        params = {"modified_after": gmt_param(since - WINDOW_OVERLAP), "dates_are_gmt": True, "_fields": "parent_id"}
        try:
            return {v["parent_id"] for v in self.client.pages("variations", params) if v.get("parent_id")}
        except WooNotFound:  # before WooCommerce 10.3 there is no store-wide variations route
            return set()

    def products(self, updated_since: datetime | None, bulk: bool = True) -> Iterator[RemoteProduct]:
        """Published products changed since `updated_since` (with their variations), oldest change first."""
        params = {"status": "publish", "orderby": "modified", "order": "asc"}
        seen = set()
        if updated_since is not None:
            params |= {"modified_after": gmt_param(updated_since - WINDOW_OVERLAP), "dates_are_gmt": True}
        for item in self.client.pages("products", params):
            seen.add(item["id"])
            yield self._product(item)
        if updated_since is not None:
            extra = sorted(self._changed_parents(updated_since) - seen)
            for start in range(0, len(extra), 100):
                chunk = extra[start : start + 100]
                for item in self.client.pages("products", {"include": chunk, "status": "publish"}):
                    yield self._product(item)

    def _product(self, item: dict) -> RemoteProduct:
        variations = self.variations(item["id"]) if item.get("type") == "variable" else []
        return remote_product(item, variations)

    def product_ids(self) -> set[str]:
        """The id of every published product."""
        return {str(p["id"]) for p in self.client.pages("products", {"status": "publish", "_fields": "id"})}

    def locations(self) -> list[RemoteLocation]:
        """One stock figure per item (WooCommerce keeps no locations): one pseudo-location."""
        return single_location("Shop stock")

    def stock_levels(self, bulk: bool = True) -> Iterator[StockLevel]:
        """Every sellable item's quantity: simple products, and each variation of a variable product."""
        fields = "id,sku,type,manage_stock,stock_quantity,stock_status"
        for item in self.client.pages("products", {"status": "publish", "_fields": fields, "orderby": "id"}):
            if item.get("type") == "variable":
                for v in self.variations(item["id"]):
                    yield StockLevel(str(v["id"]), v.get("sku") or "", quantity(v, item))
            else:
                yield StockLevel(str(item["id"]), item.get("sku") or "", quantity(item))

    def find_order(self, marker: str, created_since: datetime | None = None) -> CreatedOrder | None:
        """The order carrying our marker in its meta, among the orders created since `created_since` (else in the
        last MARKER_LOOKBACK)."""
        after = gmt_param(created_since or datetime.now(UTC) - MARKER_LOOKBACK)
        params = {
            "after": after,
            "dates_are_gmt": True,
            "orderby": "date",
            "order": "desc",
            "status": "any",
            "_fields": "id,meta_data,line_items",
        }
        for order in self.client.pages("orders", params):
            if meta(order, MARKER_KEY) == marker:
                return self._created(order)
        return None

    @staticmethod
    def _created(order: dict) -> CreatedOrder:
        return CreatedOrder(
            remote_id=str(order["id"]),
            line_ids_by_sku={li["sku"]: str(li["id"]) for li in order.get("line_items") or [] if li.get("sku")},
        )

    def create_order(self, draft: OrderDraft) -> CreatedOrder:
        """POST /orders, lines named by SKU at the wholesale price, our marker in meta. Never repeated blindly."""
        shipping = address_to_woo(draft.shipping_address)
        body = {
            "status": "processing",
            "currency": draft.currency,
            "customer_note": draft.note,
            # Names only: an e-mail here would make the wholesaler's shop write to the retailer's customer.
            "billing": {k: v for k, v in shipping.items() if k in ("first_name", "last_name", "company")},
            "shipping": shipping,
            "line_items": [
                {
                    "sku": line["sku"],
                    "quantity": int(line["quantity"]),
                    "subtotal": money_out(line["price"] * line["quantity"]),
                    "total": money_out(line["price"] * line["quantity"]),
                }
                for line in draft.lines
                if int(line["quantity"]) > 0
            ],
            "meta_data": [
                {"key": MARKER_KEY, "value": draft.marker},
                {"key": "wholesync_retailer_order", "value": draft.name},
            ],
        }
        return self._created(self.client.post("orders", body))

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        """One shipment of every line once the shop tracks the order or marks it completed; [] before."""
        order = self.client.get(f"orders/{remote_order_id}")
        items = self.tracking_items(remote_order_id)  # [] without the Shipment Tracking extension
        if items:
            carrier = items[0].get("tracking_provider") or None
            numbers = [i["tracking_number"] for i in items if i.get("tracking_number")]
            urls = [i["tracking_link"] for i in items if i.get("tracking_link")]
        else:  # shipping plugins and merchants write the tracking in order notes (formats in notes.py)
            found = tracking_from_notes(self.client.get(f"orders/{remote_order_id}/notes", {"type": "any"}))
            carrier, numbers, urls = found.carrier, found.numbers, found.urls
        if not numbers and order.get("status") != "completed":
            return []
        lines = [(str(li["id"]), int(li["quantity"])) for li in order.get("line_items") or []]
        return [
            Shipment(
                remote_id=f"{remote_order_id}:shipped",
                lines=lines,
                carrier=carrier,
                tracking_numbers=numbers,
                tracking_urls=urls,
                created_at=gmt(order.get("date_completed_gmt")) or gmt(order.get("date_modified_gmt")),
            )
        ]

    def cancel_order(self, remote_order_id: str, reason: str, note: str) -> bool:
        """`cancelled` (WooCommerce restores the stock it reduced) with a private note saying why.

        Refused once the order is completed (shipped), refunded, or already cancelled."""
        order = self.client.get(f"orders/{remote_order_id}", {"_fields": "id,status"})
        if order.get("status") in ("completed", "refunded", "cancelled", "trash"):
            raise ChangeRefused(f"WooCommerce order {remote_order_id} is {order.get('status')}: not cancelled")
        self.client.put(f"orders/{remote_order_id}", {"status": "cancelled"})
        self.client.post(
            f"orders/{remote_order_id}/notes", {"note": f"Cancelled ({reason}). {note}".strip(), "customer_note": False}
        )
        return True

    # ---- lines the wholesaler will not fill (order lifecycle; kept as one small block)
    def order_state(self, remote_order_id: str) -> OrderState | None:
        """`cancelled` or `refunded` is the wholesaler cancelling it; each line's quantity as the order holds it now
        (a line the wholesaler deleted is absent, and is read as unchanged)."""
        order = self.client.get(f"orders/{remote_order_id}", {"_fields": "id,status,line_items"})
        if not order:
            return None
        quantities = {str(li["id"]): int(li["quantity"]) for li in order.get("line_items") or []}
        return OrderState(cancelled=order.get("status") in ("cancelled", "refunded"), line_quantities=quantities)


# ---------------------------------------------------------------- a retailer's store


class WooRetailerStore(WooShop):
    """A retailer's WooCommerce shop: our products arrive as drafts, stock by batch, orders and shipments flow."""

    topics = RETAILER_TOPICS

    batch_size = BATCH_LIMIT
    product_call_cost = 2  # a product and its variations batch

    def prepare(self, partnership_key: str, name: str, callback_url: str) -> dict:
        """WooCommerce needs no location or service: the placement only names the shop (never empty)."""
        return {"platform": "woocommerce", "site": self.client.site, "name": name}

    def variants_by_sku(self, skus: Iterable[str]) -> dict[str, PlacedVariant]:
        """Products and variations holding these SKUs (`?sku=` returns both), with our key when we made them."""
        skus = [s for s in skus if s]
        found: dict[str, PlacedVariant] = {}
        items = []
        for start in range(0, len(skus), 100):
            chunk = skus[start : start + 100]
            items += list(self.client.pages("products", {"sku": ",".join(chunk), "status": "any"}))
        parent_ids = sorted({i["parent_id"] for i in items if i.get("parent_id")})
        parents = {}
        for start in range(0, len(parent_ids), 100):
            params = {"include": parent_ids[start : start + 100], "_fields": "id,meta_data", "status": "any"}
            parents |= {p["id"]: p for p in self.client.pages("products", params)}
        for item in items:
            if not item.get("sku"):
                continue
            owner = parents.get(item.get("parent_id")) if item.get("parent_id") else item
            product_id = item.get("parent_id") or item["id"]
            found[item["sku"]] = PlacedVariant(
                sku=item["sku"],
                product_id=str(product_id),
                variant_id=str(item["id"]),
                inventory_item_id=stock_ref(item),
                product_key=meta(owner or {}, PRODUCT_KEY),
            )
        return found

    # --- products -------------------------------------------------------------------------------------------------
    def _by_key(self, key: str) -> dict | None:
        for item in self.client.pages("products", {"slug": key, "status": "any"}):
            if meta(item, PRODUCT_KEY) == key:
                return item
        return None

    @staticmethod
    def _simple(push: ProductPush) -> bool:
        """One variant without real options is a simple product (Shopify names that option "Default Title")."""
        if len(push.variants) != 1:
            return False
        values = push.variants[0].get("option_values") or []
        return all(ov.get("value") in (None, "", "Default Title") for ov in values)

    def set_product(self, push: ProductPush) -> tuple[str, dict[str, PlacedVariant]]:
        """Create (as a draft) or update one product; prices only when `push.full` is False."""
        if not push.full:
            self._set_prices(push)
            return push.remote_product_id, {}
        product_id = push.remote_product_id
        if product_id is None and push.key:
            existing = self._by_key(push.key)  # an interrupted create already made it
            product_id = str(existing["id"]) if existing else None
        simple = self._simple(push)
        body = self._product_body(push, simple)
        if product_id is None:
            body |= {"status": "draft", "slug": push.key, "images": [{"src": u} for u in push.product.image_urls]}
            if simple:
                body |= self._stock_fields(push.variants[0])
            item = self.client.post("products", body)
        else:
            # Images are sent once: sending `src` again would make WooCommerce download them again.
            item = self.client.put(f"products/{product_id}", body)
        product_id = str(item["id"])
        if simple:
            return product_id, {push.variants[0]["sku"]: self._placed(item, item, push.key)}
        return product_id, self._set_variations(item, push)

    def _product_body(self, push: ProductPush, simple: bool) -> dict:
        product = push.product
        body = {
            "name": product.title,
            "type": "simple" if simple else "variable",
            "description": product.description_html,
            "tags": [{"name": t} for t in product.tags],
            "meta_data": [{"key": PRODUCT_KEY, "value": push.key}],
        }
        if simple:
            variant = push.variants[0]
            body |= {"sku": variant["sku"], "regular_price": money_out(variant["price"])}
        else:
            options = self._options_from_variants(push.variants)
            body["attributes"] = [
                {"name": o["name"], "options": list(o["values"]), "variation": True, "visible": True, "position": n}
                for n, o in enumerate(options)
            ]
        return body

    @staticmethod
    def _options_from_variants(variants: list[dict]) -> list[dict]:
        names: dict[str, list] = {}
        for v in variants:
            for ov in v.get("option_values") or []:
                values = names.setdefault(ov["name"], [])
                if ov["value"] not in values:
                    values.append(ov["value"])
        return [{"name": n, "values": vs} for n, vs in names.items()] or [{"name": "Variant", "values": ["Default"]}]

    @staticmethod
    def _stock_fields(variant: dict) -> dict:
        return {"manage_stock": True, "stock_quantity": max(0, int(variant.get("quantity") or 0))}

    def _variation_attributes(self, variant: dict) -> list[dict]:
        values = variant.get("option_values") or []
        return [{"name": ov["name"], "option": ov["value"]} for ov in values] or [
            {"name": "Variant", "option": "Default"}
        ]

    def _set_variations(self, parent: dict, push: ProductPush) -> dict[str, PlacedVariant]:
        current = {v.get("sku"): v for v in self.variations(parent["id"])}
        create, update = [], []
        for variant in push.variants:
            body = {"regular_price": money_out(variant["price"]), "attributes": self._variation_attributes(variant)}
            existing = current.get(variant["sku"])
            if existing is not None:
                update.append({"id": existing["id"], **body})
            else:
                create.append({"sku": variant["sku"], "status": "publish", **body, **self._stock_fields(variant)})
        path = f"products/{parent['id']}/variations/batch"
        for start in range(0, len(update), BATCH_LIMIT):
            _check_batch(self.client.batch(path, update=update[start : start + BATCH_LIMIT]), "variations")
        for start in range(0, len(create), BATCH_LIMIT):
            _check_batch(self.client.batch(path, create=create[start : start + BATCH_LIMIT]), "variations")
        placed = {v.get("sku"): v for v in self.variations(parent["id"])}
        return {
            variant["sku"]: self._placed(placed[variant["sku"]], parent, push.key)
            for variant in push.variants
            if variant["sku"] in placed
        }

    @staticmethod
    def _placed(item: dict, parent: dict, key: str) -> PlacedVariant:
        is_variation = item["id"] != parent["id"]
        ref = stock_ref({**item, "parent_id": parent["id"]}) if is_variation else stock_ref({"id": item["id"]})
        return PlacedVariant(
            sku=item.get("sku") or "",
            product_id=str(parent["id"]),
            variant_id=str(item["id"]),
            inventory_item_id=ref,
            product_key=key or None,
        )

    def _set_prices(self, push: ProductPush) -> None:
        simple, variations = [], []
        for variant in push.variants:
            price = money_out(variant["price"])
            if str(variant.get("variant_id")) == str(push.remote_product_id):
                simple.append({"id": int(variant["variant_id"]), "regular_price": price})
            elif variant.get("variant_id"):
                variations.append({"id": int(variant["variant_id"]), "regular_price": price})
        if simple:
            _check_batch(self.client.batch("products/batch", update=simple), "prices")
        for start in range(0, len(variations), BATCH_LIMIT):
            answer = self.client.batch(
                f"products/{push.remote_product_id}/variations/batch", update=variations[start : start + BATCH_LIMIT]
            )
            _check_batch(answer, "prices")

    def set_status(self, remote_product_id: str, status: str) -> None:
        """Our copy's status and nothing else (never deleted): DRAFT and ARCHIVED are `draft`, ACTIVE `publish`."""
        woo_status = {"ACTIVE": "publish", "DRAFT": "draft", "ARCHIVED": "draft"}[status.upper()]
        self.client.put(f"products/{remote_product_id}", {"status": woo_status})

    # --- stock ----------------------------------------------------------------------------------------------------
    def set_quantities(self, placement: dict, changes: list[QuantitySet], key: str, reference: str) -> None:
        """Absolute quantities through products/batch and variations/batch (WooCommerce has no compare-and-set).

        Setting an absolute number is what a replay needs: sending the same batch twice leaves the same stock."""
        products, variations = [], {}
        for change in changes:
            parent, item_id = parse_ref(change.inventory_item_id)
            body = {"id": item_id, "manage_stock": True, "stock_quantity": int(change.quantity)}
            if parent is None:
                products.append(body)
            else:
                variations.setdefault(parent, []).append(body)
        for start in range(0, len(products), BATCH_LIMIT):
            _check_batch(self.client.batch("products/batch", update=products[start : start + BATCH_LIMIT]), "stock")
        for parent, items in variations.items():
            for start in range(0, len(items), BATCH_LIMIT):
                answer = self.client.batch(
                    f"products/{parent}/variations/batch", update=items[start : start + BATCH_LIMIT]
                )
                _check_batch(answer, "stock")

    def current_levels(self, placement: dict, inventory_item_ids: list[str]) -> dict[str, int | None]:
        """The managed quantity of each item (None when the item does not manage its stock or is gone)."""
        out: dict[str, int | None] = dict.fromkeys(inventory_item_ids)
        wanted = {ref: parse_ref(ref) for ref in inventory_item_ids}
        product_ids = sorted({item_id for parent, item_id in wanted.values() if parent is None})
        by_id = {}
        for start in range(0, len(product_ids), 100):
            params = {
                "include": product_ids[start : start + 100],
                "status": "any",
                "_fields": "id,manage_stock,stock_quantity",
            }
            by_id |= {p["id"]: p for p in self.client.pages("products", params)}
        for parent in sorted({p for p, _ in wanted.values() if p is not None}):
            try:
                by_id |= {v["id"]: v for v in self.variations(parent)}
            except WooNotFound:
                continue
        for ref, (_parent, item_id) in wanted.items():
            item = by_id.get(item_id)
            if item is not None and item.get("manage_stock") is True:
                out[ref] = int(item.get("stock_quantity") or 0)
        return out

    # --- orders ---------------------------------------------------------------------------------------------------
    def orders(self, updated_since: datetime | None) -> Iterator[RemoteOrder]:
        """Paid (and cancelled) orders modified since `updated_since`, oldest change first."""
        params = {"status": ",".join(TAKEN_STATUSES), "orderby": "modified", "order": "asc"}
        if updated_since is not None:
            params |= {"modified_after": gmt_param(updated_since - WINDOW_OVERLAP), "dates_are_gmt": True}
        for order in self.client.pages("orders", params):
            updated = gmt(order.get("date_modified_gmt")) or gmt(order.get("date_created_gmt"))
            address = address_to_hub(order.get("shipping")) or address_to_hub(order.get("billing"))
            billing = order.get("billing") or {}
            yield RemoteOrder(
                remote_id=str(order["id"]),
                name=f"#{order.get('number') or order['id']}",
                updated_at=updated,
                created_at=gmt(order.get("date_created_gmt")),
                cancelled_at=updated if order.get("status") in CANCELLED_STATUSES else None,
                currency=order.get("currency") or "USD",
                email=billing.get("email") or None,
                customer_name=(address or {}).get("name"),
                shipping_address=address,
                lines=[
                    RemoteOrderLine(
                        remote_id=str(li["id"]),
                        sku=li.get("sku") or "",
                        quantity=int(li["quantity"]),
                        title=li.get("name") or "",
                    )
                    for li in order.get("line_items") or []
                ],
            )

    def accept_fulfillment_requests(self, remote_order_id: str, placement: dict) -> int:
        """WooCommerce has no fulfillment requests to accept."""
        return 0

    def shipments(self, remote_order_id: str) -> list[Shipment]:
        """The shipments we recorded on the order (order meta), with their tracking."""
        order = self.client.get(f"orders/{remote_order_id}", {"_fields": "id,meta_data"})
        return [
            Shipment(
                remote_id=s["id"],
                lines=[(str(a), int(b)) for a, b in s.get("lines") or []],
                carrier=s.get("carrier"),
                tracking_numbers=list(s.get("tracking_numbers") or []),
                tracking_urls=list(s.get("tracking_urls") or []),
            )
            for s in meta(order, SHIPMENTS_KEY) or []
        ]

    # ---- lines the wholesaler will not fill (order lifecycle; kept as one small block)
    def reject_lines(
        self, remote_order_id: str, placement: dict, lines: list[tuple[str, int]], reason: str, message: str
    ) -> bool:
        """WooCommerce has no fulfillment requests: when every unit of the order is refused the order becomes
        `cancelled` (WooCommerce restores its stock); otherwise the retailer gets a private order note naming the
        lines and the reason (a refund is the retailer's decision). Safe to retry: a cancelled order is left alone
        and the note carries our marker, written once."""
        order = self.client.get(f"orders/{remote_order_id}", {"_fields": "id,status,line_items"})
        refused = {str(line_id): qty for line_id, qty in lines}
        marker = f"[wholesync-rejection {','.join(f'{k}x{v}' for k, v in sorted(refused.items()))}]"
        notes = self.client.get(f"orders/{remote_order_id}/notes", {"type": "any"}) or []
        if any(marker in (n.get("note") or "") for n in notes):
            return True
        items = order.get("line_items") or []
        whole = items and all(refused.get(str(li["id"]), 0) >= int(li["quantity"]) for li in items)
        if whole and order.get("status") in ("pending", "processing", "on-hold"):
            self.client.put(f"orders/{remote_order_id}", {"status": "cancelled"})
        named = ", ".join(f"{li.get('sku') or li.get('name')} x{refused[str(li['id'])]}" for li in items
                          if refused.get(str(li["id"])))  # fmt: skip
        self.client.post(f"orders/{remote_order_id}/notes",
                         {"note": f"{message} ({named}). {marker}", "customer_note": False})  # fmt: skip
        return True

    def create_shipment(self, remote_order_id: str, placement: dict, shipment: Shipment) -> str:
        """Record the shipment in order meta first (how a retry finds it), then tracking, a customer note, and
        `completed` once every line is shipped."""
        order = self.client.get(f"orders/{remote_order_id}")
        quantities = {str(li["id"]): int(li["quantity"]) for li in order.get("line_items") or []}
        recorded = list(meta(order, SHIPMENTS_KEY) or [])
        shipped: dict[str, int] = {}
        for s in recorded:
            for line_id, qty in s.get("lines") or []:
                shipped[str(line_id)] = shipped.get(str(line_id), 0) + int(qty)
        lines = [(str(line_id), int(qty)) for line_id, qty in shipment.lines if str(line_id) in quantities]
        if not any(quantities[line_id] - shipped.get(line_id, 0) > 0 for line_id, _ in lines):
            raise WooRefusal(f"order {remote_order_id}: no open line left to ship", 400, "nothing_to_ship")
        shipment_id = "ws-" + secrets.token_hex(6)
        record = {
            "id": shipment_id,
            "lines": lines,
            "carrier": shipment.carrier,
            "tracking_numbers": shipment.tracking_numbers,
            "tracking_urls": shipment.tracking_urls,
        }
        for line_id, qty in lines:
            shipped[line_id] = shipped.get(line_id, 0) + qty
        body: dict = {"meta_data": [{"key": SHIPMENTS_KEY, "value": [*recorded, record]}]}
        if all(shipped.get(line_id, 0) >= qty for line_id, qty in quantities.items()) and order.get("status") in (
            "processing",
            "on-hold",
        ):
            body["status"] = "completed"
        self.client.put(f"orders/{remote_order_id}", body)
        if self.has_shipment_tracking():
            for n, number in enumerate(shipment.tracking_numbers):
                tracking = {"tracking_number": number, "date_shipped": datetime.now(UTC).date().isoformat()}
                url = shipment.tracking_urls[n] if n < len(shipment.tracking_urls) else None
                if url:
                    tracking |= {"custom_tracking_provider": shipment.carrier or "Carrier", "custom_tracking_link": url}
                else:
                    tracking["tracking_provider"] = shipment.carrier or "Carrier"
                self.client.post(f"orders/{remote_order_id}/shipment-trackings", tracking, namespace=TRACKING_NAMESPACE)
        numbers = ", ".join(shipment.tracking_numbers)
        note = "Your order has shipped" + (f" with {shipment.carrier}" if shipment.carrier else "")
        note += f". Tracking: {numbers}." if numbers else "."
        self.client.post(f"orders/{remote_order_id}/notes", {"note": note, "customer_note": True})
        return shipment_id
