"""The Apruve fake: `GET/POST /orders`, `GET /orders/<id>/invoices`, `GET/POST /invoices`, and webhook payloads.

Like Apruve, it has no idempotency keys: a repeated create makes a second object, which is exactly what the
billing code must avoid by looking up `merchant_order_id` / `merchant_invoice_id` first.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response


@dataclass
class FakeApruve:
    """The WSGI app; state in memory. `inject(method, path_regex, mode)` with mode "500" or "timeout_after_commit"."""

    webhook_secret: str = "apruve-fake-secret"
    orders: dict = field(default_factory=dict)
    invoices: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    faults: list = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.RLock()
        self._ids = itertools.count(1)

    def inject(self, method: str, path: str, mode: str, times: int = 1, delay: float = 5.0) -> None:
        self.faults.append({"method": method.upper(), "path": path, "mode": mode, "times": times, "delay": delay})

    def webhook_request(self, event: str, invoice: dict):
        """(body, headers) of an Apruve webhook about `invoice`, signed with the shared secret."""
        body = json.dumps({"event": event, "entity": invoice, "id": f"apw-{next(self._ids)}"}).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"X-Apruve-Signature": signature, "Content-Type": "application/json"}

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = "/" + request.path.strip("/").split("api/v4/", 1)[-1]
        with self._lock:
            self.requests.append((request.method, path))
            fault = next(
                (f for f in self.faults if f["times"] > 0 and f["method"] == request.method
                 and re.fullmatch(f["path"], path)), None,
            )  # fmt: skip
            if fault:
                fault["times"] -= 1
        if fault and fault["mode"] == "500":
            response = Response('{"errors": ["injected"]}', status=500, mimetype="application/json")
        else:
            with self._lock:
                status, body = self._route(request, path)
            response = Response(json.dumps(body), status=status, mimetype="application/json")
            if fault and fault["mode"] == "timeout_after_commit":
                time.sleep(fault["delay"])
        return response(environ, start_response)

    def _route(self, request: Request, path: str):
        data = request.get_json(silent=True) or {}
        if path == "/orders" and request.method == "GET":
            wanted = request.args.get("merchant_order_id")
            return 200, [o for o in self.orders.values() if not wanted or o["merchant_order_id"] == wanted]
        if path == "/orders" and request.method == "POST":
            order = {"id": f"ord{next(self._ids)}", "status": "accepted", **data}
            self.orders[order["id"]] = order
            return 201, order
        match = re.fullmatch(r"/orders/([^/]+)/invoices", path)
        if match and request.method == "GET":
            return 200, [i for i in self.invoices.values() if i["order_id"] == match.group(1)]
        match = re.fullmatch(r"/invoices/([^/]+)", path)
        if match and request.method == "GET":
            found = self.invoices.get(match.group(1))
            return (200, found) if found else (404, {"errors": ["no such invoice"]})
        if path == "/invoices" and request.method == "POST":
            if data.get("order_id") not in self.orders:
                return 404, {"errors": ["no such order"]}
            status = "open" if data.get("issue_on_create") else "pending"
            invoice = {"id": f"inv{next(self._ids)}", "status": status, "created_at": time.time(), **data}
            self.invoices[invoice["id"]] = invoice
            return 201, invoice
        return 404, {"errors": [f"no route {request.method} {path}"]}


def make_app(app_url: str = "http://localhost:5000") -> FakeApruve:
    """The fake as `fakes.serve` mounts it (webhook payloads signed with APRUVE_WEBHOOK_SECRET)."""
    import os

    return FakeApruve(webhook_secret=os.environ.get("APRUVE_WEBHOOK_SECRET") or "apruve-fake-secret")
