"""The WooCommerce sandbox: several stores' REST API `wc/v3` (products, variations, orders, notes, webhooks), the
Shipment Tracking extension, application authentication (`/wc-auth/v1`), webhook delivery and a control API.

A store is addressed by a path prefix (site URL `http://host:port/<store>`, like WordPress in a subdirectory) or by
the Host header when the path starts with `/wp-json` or `/wc-auth`. See README.md for what is checked and how.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from werkzeug.wrappers import Request, Response

from fakes.woocommerce import routes
from fakes.woocommerce.auth import ApiKey, new_key_pair
from fakes.woocommerce.state import Fault, Store, order_out, product_out, touch
from fakes.woocommerce.webhooks import (
    MAX_FAILURES,
    USER_AGENT,
    Delivery,
    http_send,
    safe_remote_refusal,
    signature,
)


class WooSandbox:
    """The WSGI app and its state. Tests use the methods; other processes use the `/_sandbox` control API."""

    def __init__(self, *, send=http_send, auto_deliver: bool = False, allow_http_callbacks: bool = False):
        self.stores: dict[str, Store] = {}
        self.send = send  # fn(url, headers, body) -> status code
        self.auto_deliver = auto_deliver  # deliver queued webhooks after each request (like a busy site's cron)
        self.allow_http_callbacks = allow_http_callbacks  # wc-auth callback_url may be http:// (local dev only)
        self.safe_remote = False  # True: refuse webhook URLs wp_safe_remote_post would refuse
        self.deliveries: list[Delivery] = []
        self.clock_offset = 0.0
        self._lock = threading.RLock()

    # --- control --------------------------------------------------------------------------------------------------
    def now(self) -> float:
        """The sandbox clock (seconds since the epoch)."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward."""
        self.clock_offset += seconds

    def add_store(self, name: str, **options) -> Store:
        """Create (or reconfigure) a store; options are Store fields (ssl, manage_stock, shipment_tracking, ...)."""
        with self._lock:
            store = self.stores.get(name) or Store(name)
            for key, value in options.items():
                setattr(store, key, value)
            self.stores[name] = store
            return store

    def issue_key(self, name: str, permissions: str = "read_write", *, consumer_key=None, consumer_secret=None):
        """A new REST API key for the store (as an admin would create under Settings > Advanced > REST API)."""
        store = self.stores[name]
        ck, cs = new_key_pair()
        key = ApiKey(next(store.key_ids), consumer_key or ck, consumer_secret or cs, permissions)
        key.description = f"Key {key.key_id}"
        store.keys[key.consumer_key] = key
        return key

    def store(self, name: str) -> Store:
        """The store named `name`."""
        return self.stores[name]

    def inject(self, name: str, kind: str, count: int = 1, retry_after: int = 1, seconds: float = 2.0) -> None:
        """The next `count` API requests to the store fail: "500", "503", "429", or are "slow" (seconds)."""
        self.stores[name].faults.append(Fault(kind, count, retry_after, seconds))

    def set_stock(self, name: str, sku: str, quantity: int) -> dict:
        """A stock change made in the store's admin: manages stock on the item and fires product.updated."""
        with self._lock:
            store = self.stores[name]
            item = store.by_sku(sku)
            if item is None:
                raise KeyError(sku)
            item.update(manage_stock=True, stock_quantity=quantity)
            touch(self, item)
            self._fire(store, "product", "updated", item["id"])
            return item

    # --- webhooks ---------------------------------------------------------------------------------------------------
    def _fire(self, store: Store, resource: str, event: str, resource_id: int) -> None:
        topic = f"{resource}.{event}"
        for hook in store.webhooks.values():
            if hook["status"] != "active" or hook["topic"] != topic:
                continue
            entry = (hook["id"], resource_id, topic)
            if entry not in store.pending:  # a pending identical action is not queued twice
                store.pending.append(entry)

    def deliver_webhooks(self) -> int:
        """Run the queued deliveries (Action Scheduler's woocommerce_deliver_webhook_async); returns how many."""
        sent = 0
        for store in list(self.stores.values()):
            while store.pending:
                hook_id, resource_id, topic = store.pending.pop(0)
                hook = store.webhooks.get(hook_id)
                if hook is None or hook["status"] != "active":
                    continue
                resource, _, event = topic.partition(".")
                if event == "deleted":
                    payload = {"id": resource_id}
                else:
                    payload = self._payload(store, resource, resource_id)
                    if payload is None:
                        continue
                self._deliver(store, hook, topic, payload)
                sent += 1
        return sent

    def _payload(self, store: Store, resource: str, resource_id: int) -> dict | None:
        # Built now, from current state, as WooCommerce does at delivery time.
        if resource == "product" and resource_id in store.products:
            return product_out(store, store.products[resource_id])
        if resource == "order" and resource_id in store.orders:
            return order_out(store, store.orders[resource_id])
        return None

    def _deliver(self, store: Store, hook: dict, topic: str, payload: dict) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        stamp = int(self.now())
        resource, _, event = topic.partition(".")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": f"https://{store.name}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(body, hook["secret"]),
            "X-WC-Webhook-ID": str(hook["id"]),
            # wp_hash(id . time()): the same within one second, so receivers must not dedupe on it alone
            "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{hook['id']}{stamp}".encode()).hexdigest(),
        }
        delivery = self._post(hook, headers, body)
        if delivery.status is not None and 200 <= delivery.status <= 302:
            hook["failure_count"] = 0
        elif hook["failure_count"] > MAX_FAILURES:
            hook["status"] = "disabled"
        else:
            hook["failure_count"] += 1
        return delivery

    def _post(self, hook: dict, headers: dict, body: bytes, ping: bool = False) -> Delivery:
        delivery = Delivery(hook["id"], hook["delivery_url"], headers, body, ping=ping)
        refusal = safe_remote_refusal(hook["delivery_url"]) if self.safe_remote else None
        if refusal:
            delivery.error = refusal
        else:
            try:
                delivery.status = self.send(hook["delivery_url"], headers, body)
            except Exception as exc:  # a transport error counts as a failed delivery, like WP_Error
                delivery.error = str(exc)
        self.deliveries.append(delivery)
        return delivery

    def ping(self, hook: dict) -> Delivery:
        """The creation ping: form body `webhook_id=N`, no X-WC-Webhook-* headers, no signature."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT}
        return self._post(hook, headers, f"webhook_id={hook['id']}".encode(), ping=True)

    # --- WSGI -------------------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        return self.wsgi(environ, start_response)

    def wsgi(self, environ, start_response):
        """Serve one request; with auto_deliver, run queued deliveries afterwards."""
        request = Request(environ)
        response = self.handle(request)
        if self.auto_deliver and any(s.pending for s in self.stores.values()):
            threading.Thread(target=self.deliver_webhooks, daemon=True).start()
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Route to the control API, /wc-auth or /wp-json of the addressed store."""
        parts = request.path.strip("/").split("/", 1)
        if parts[0] == "_sandbox":
            return routes.control(self, request, parts[1] if len(parts) > 1 else "")
        if parts[0] in ("wp-json", "wc-auth") or (parts[0] == "" and "rest_route" in request.args):
            name, rest, site = request.host.split(":")[0], request.path, request.root_url.rstrip("/")
        else:
            name, rest = parts[0], "/" + (parts[1] if len(parts) > 1 else "")
            site = request.root_url.rstrip("/") + "/" + name
        store = self.stores.get(name)
        if store is None:
            return Response("<h1>Not Found</h1>", 404, content_type="text/html")
        if rest in ("/", "") and "rest_route" in request.args:
            rest = "/wp-json" + request.args["rest_route"]  # plain permalinks
        with self._lock:
            if rest.startswith("/wc-auth/v1/"):
                return routes.wc_auth(self, store, request, rest[len("/wc-auth/v1/") :], site)
            if rest == "/wp-json" or rest.startswith("/wp-json/"):
                return routes.rest(self, store, request, rest[len("/wp-json") :] or "/", site)
        return Response("<h1>Not Found</h1>", 404, content_type="text/html")
