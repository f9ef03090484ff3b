"""The Stripe fake: customers, invoice items, invoices, payment methods, Checkout (setup mode) and signed webhooks.

Every request's parameters are checked against the pinned SDK's parameter types (fakes.stripe.params): a parameter
the pinned API version does not define is a 400 `parameter_unknown`, as on Stripe.

Idempotency follows docs.stripe.com/api/idempotent_requests: the first response after execution begins is saved per
key and replayed; the same key with another endpoint or other parameters is a 400 `idempotency_error`; a key in
flight is a 409; keys are pruned once 24 h old (by the fake's clock, which tests can advance).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from fakes.stripe.params import ParamError, check, params_type

KEY_TTL_SECONDS = 24 * 3600


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value for `payload`: t=<unix>,v1=<HMAC-SHA256 of "t.payload">."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _nested(pairs) -> dict:
    """Decode Stripe's form encoding (`metadata[a]=1`, `expand[0]=x`) into nested dicts."""
    out: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class StripeError(Exception):
    def __init__(self, status: int, kind: str, message: str, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.message, self.code, self.param = status, kind, message, code, param


@dataclass
class Fault:
    """Failure injection: `mode` is "500" (fail before executing, nothing saved) or "timeout_after_commit"."""

    method: str
    path: str  # a regex matched against the request path
    mode: str
    times: int = 1
    delay: float = 5.0


@dataclass
class _Saved:
    created: float
    endpoint: str
    params: list
    status: int
    body: bytes


@dataclass
class FakeStripe:
    """The WSGI app. State lives in this object; tests read it directly or through GET /_fake/state."""

    webhook_secret: str = "whsec_fake"
    webhook_url: str | None = None
    auto_deliver: bool = False  # `make run`: POST events to webhook_url as they happen
    clock_offset: float = 0.0
    objects: dict = field(default_factory=dict)  # id -> object
    events: list = field(default_factory=list)
    requests: list = field(default_factory=list)  # (method, path, idempotency key)
    faults: list = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.RLock()
        self._keys: dict[str, _Saved] = {}
        self._inflight: set[str] = set()
        self._ids = itertools.count(1)

    # --- control -----------------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (key pruning, `created` stamps) forward."""
        self.clock_offset += seconds

    def inject(self, method: str, path: str, mode: str, times: int = 1, delay: float = 5.0) -> None:
        self.faults.append(Fault(method.upper(), path, mode, times, delay))

    def seed_customer(self, name: str = "Retailer", card: str | None = "4242424242424242") -> str:
        """A customer (with a default card unless card=None), as if the retailer had used Checkout already."""
        with self._lock:
            customer = self._create_customer({"name": name}, base="")
            if card:
                pm = self._create_pm({"card": {"number": card}}, base="")
                pm["customer"] = customer["id"]
                customer["invoice_settings"]["default_payment_method"] = pm["id"]
            return customer["id"]

    def customer_pays(self, invoice_id: str) -> None:
        """The retailer pays an open invoice on Stripe's hosted page (emits invoice.paid)."""
        with self._lock:
            invoice = self._find(invoice_id, "invoice")
            invoice.update(status="paid", paid=True, amount_paid=invoice["amount_due"])
            self._event("invoice.paid", invoice)

    def remembers_key(self, key: str) -> bool:
        """Whether an idempotency key is still stored (not yet pruned)."""
        with self._lock:
            cutoff = self.now() - KEY_TTL_SECONDS
            return key in self._keys and self._keys[key].created >= cutoff

    def keys_sent(self, method: str, path_regex: str) -> list[str | None]:
        """The Idempotency-Key of every request matching method and path, in order."""
        return [k for m, p, k in self.requests if m == method and re.fullmatch(path_regex, p)]

    def of_type(self, kind: str) -> list[dict]:
        return [o for o in self.objects.values() if o["object"] == kind]

    def count_requests(self, method: str, path_regex: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and re.fullmatch(path_regex, p))

    def webhook_request(self, event: dict, timestamp: int | None = None, secret: str | None = None):
        """(body, headers) of a webhook delivery of `event`, signed as Stripe signs it."""
        body = json.dumps(event).encode()
        stamp = int(self.now()) if timestamp is None else timestamp
        header = sign_payload(body, secret or self.webhook_secret, stamp)
        return body, {"Stripe-Signature": header, "Content-Type": "application/json"}

    def deliver(self, send=None) -> int:
        """POST every undelivered event to `webhook_url` (or hand it to `send(body, headers)`); returns how many
        were delivered.

        As on Stripe, an event the endpoint does not acknowledge with a 2xx (or that cannot reach it) stays
        undelivered and goes again with a later delivery; `send` counts as acknowledged. The lock is not held while
        posting: an endpoint reads objects back from the API while it handles the event, and Stripe's API never
        waits for a webhook delivery.
        """
        import httpx

        with self._lock:
            pending = [e for e in self.events if not e.get("_delivered") and not e.get("_sending")]
            if send is None and not self.webhook_url:
                return 0
            for event in pending:
                event["_sending"] = True  # another delivery thread leaves it to this one
        sent = 0
        try:
            for event in pending:
                clean = {k: v for k, v in event.items() if not k.startswith("_")}
                body, headers = self.webhook_request(clean)
                if send is not None:
                    send(body, headers)
                else:
                    try:
                        answer = httpx.post(self.webhook_url, content=body, headers=headers, timeout=10)
                    except httpx.HTTPError:
                        continue  # the endpoint is down or slow: a later delivery sends it again
                    if not answer.is_success:
                        continue
                event["_delivered"] = True
                sent += 1
        finally:
            with self._lock:
                for event in pending:
                    event.pop("_sending", None)
        return sent

    # --- WSGI --------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        return self._respond(request)(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_fake/"):
            response = self._control(request)
            if request.method == "POST":
                self._deliver_soon()  # the hosted page's card saved: Stripe sends checkout.session.completed now
            return response
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append((request.method, path, key))
            fault = self._take_fault(request.method, path)
        if fault and fault.mode == "500":
            return self._error(StripeError(500, "api_error", "Injected failure before execution."))
        response = self._execute(request) if request.method != "POST" or not key else self._idempotent(request, key)
        if fault and fault.mode == "timeout_after_commit":
            time.sleep(fault.delay)  # the work is committed and saved; the client gives up waiting
        self._deliver_soon()
        return response

    def _deliver_soon(self) -> None:
        if self.auto_deliver and self.webhook_url:
            threading.Thread(target=self._deliver_quietly, daemon=True).start()

    def _deliver_quietly(self) -> None:
        time.sleep(0.2)  # after the response, like Stripe
        with contextlib.suppress(Exception):  # a delivery thread never takes the fake down; the event stays pending
            self.deliver()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                return fault
        return None

    def _idempotent(self, request: Request, key: str) -> Response:
        endpoint = f"{request.method} {request.path}"
        params = sorted(request.form.items(multi=True))
        with self._lock:
            cutoff = self.now() - KEY_TTL_SECONDS
            for old in [k for k, saved in self._keys.items() if saved.created < cutoff]:
                del self._keys[old]
            saved = self._keys.get(key)
            if saved is not None:
                if saved.endpoint != endpoint or saved.params != params:
                    return self._error(
                        StripeError(
                            400,
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            "used with.",
                        )
                    )
                response = Response(saved.body, status=saved.status, content_type="application/json")
                response.headers["Idempotent-Replayed"] = "true"
                return response
            if key in self._inflight:
                return self._error(StripeError(409, "idempotency_error", "A request with this key is in flight."))
            self._inflight.add(key)
        try:
            response = self._execute(request)
            with self._lock:
                if response.status_code != 400:  # validation failures are not saved (Stripe docs)
                    self._keys[key] = _Saved(self.now(), endpoint, params, response.status_code, response.get_data())
            return response
        finally:
            with self._lock:
                self._inflight.discard(key)

    def _execute(self, request: Request) -> Response:
        params = _nested(request.form.items(multi=True)) if request.method == "POST" else _nested(request.args.items())
        kind = params_type(request.method, request.path)
        if kind is not None:
            try:
                check(kind, params)
            except ParamError as exc:
                return self._error(StripeError(400, "invalid_request_error", exc.message, exc.code, exc.param))
        try:
            with self._lock:
                base = request.host_url.rstrip("/") + request.script_root
                body = self._route(request.method, request.path, params, base)
        except StripeError as exc:
            return self._error(exc)
        return Response(json.dumps(body), status=200, content_type="application/json")

    @staticmethod
    def _error(exc: StripeError) -> Response:
        error = {"type": exc.kind, "message": exc.message}
        if exc.code:
            error["code"] = exc.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{exc.code.replace('_', '-')}"
        if exc.param:
            error["param"] = exc.param
        return Response(json.dumps({"error": error}), status=exc.status, content_type="application/json")

    # --- the API -----------------------------------------------------------------------------------------
    _ROUTES = (
        ("POST", r"/v1/customers", "create_customer"),
        ("GET", r"/v1/customers/(?P<oid>[^/]+)", "get"),
        ("POST", r"/v1/customers/(?P<oid>[^/]+)", "update_customer"),
        ("POST", r"/v1/invoiceitems", "create_item"),
        ("GET", r"/v1/invoiceitems", "list_items"),
        ("POST", r"/v1/invoices", "create_invoice"),
        ("GET", r"/v1/invoices", "list_invoices"),
        ("GET", r"/v1/invoices/(?P<oid>[^/]+)", "get"),
        ("POST", r"/v1/invoices/(?P<oid>[^/]+)/finalize", "finalize"),
        ("POST", r"/v1/invoices/(?P<oid>[^/]+)/pay", "pay"),
        ("POST", r"/v1/invoices/(?P<oid>[^/]+)/send", "send"),
        ("POST", r"/v1/invoices/(?P<oid>[^/]+)/void", "void"),
        ("POST", r"/v1/payment_methods", "create_pm"),
        ("POST", r"/v1/payment_methods/(?P<oid>[^/]+)/attach", "attach_pm"),
        ("GET", r"/v1/payment_methods", "list_pms"),
        ("POST", r"/v1/checkout/sessions", "create_session"),
        ("GET", r"/v1/checkout/sessions/(?P<oid>[^/]+)", "get"),
        ("GET", r"/v1/setup_intents/(?P<oid>[^/]+)", "get"),
    )

    def _route(self, method: str, path: str, params: dict, base: str) -> dict:
        for verb, pattern, handler in self._ROUTES:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                return getattr(self, f"_{handler}")(params, base=base, **match.groupdict())
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _new(self, prefix: str, kind: str, **fields) -> dict:
        obj = {"id": f"{prefix}_{next(self._ids):06d}", "object": kind, "created": int(self.now()), "livemode": False}
        obj.update(fields)
        self.objects[obj["id"]] = obj
        return obj

    def _find(self, oid: str, kind: str | None = None) -> dict:
        obj = self.objects.get(oid)
        if obj is None or (kind and obj["object"] != kind):
            raise StripeError(404, "invalid_request_error", f"No such {kind or 'object'}: '{oid}'", "resource_missing")
        return obj

    def _event(self, kind: str, obj: dict) -> None:
        event = {
            "id": f"evt_{next(self._ids):06d}",
            "object": "event",
            "type": kind,
            "created": int(self.now()),
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
        }
        self.events.append(event)

    @staticmethod
    def _list(items: list[dict], url: str) -> dict:
        return {"object": "list", "data": items, "has_more": False, "url": url}

    def _get(self, params, base, oid):
        return self._find(oid)

    def _create_customer(self, params, base):
        return self._new(
            "cus", "customer", name=params.get("name"), email=params.get("email"),
            metadata=params.get("metadata", {}), invoice_settings={"default_payment_method": None},
        )  # fmt: skip

    def _update_customer(self, params, base, oid):
        customer = self._find(oid, "customer")
        settings = params.get("invoice_settings", {})
        if "default_payment_method" in settings:
            self._find(settings["default_payment_method"], "payment_method")
            customer["invoice_settings"]["default_payment_method"] = settings["default_payment_method"]
        customer["metadata"].update(params.get("metadata", {}))
        return customer

    def _create_item(self, params, base):
        customer = self._find(params.get("customer", ""), "customer")
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise StripeError(400, "invalid_request_error", "amount must be an integer in minor units") from None
        invoice = params.get("invoice")
        if invoice and self._find(invoice, "invoice")["status"] != "draft":
            raise StripeError(400, "invalid_request_error", "Invoice is no longer a draft.")
        return self._new(
            "ii", "invoiceitem", customer=customer["id"], amount=amount, currency=params.get("currency", "usd"),
            description=params.get("description"), invoice=invoice, metadata=params.get("metadata", {}),
        )  # fmt: skip

    def _list_items(self, params, base):
        items = self.of_type("invoiceitem")
        for name in ("invoice", "customer"):
            if params.get(name):
                items = [i for i in items if i[name] == params[name]]
        return self._list(items, "/v1/invoiceitems")

    def _create_invoice(self, params, base):
        customer = self._find(params.get("customer", ""), "customer")
        method = params.get("collection_method", "charge_automatically")
        if method not in ("charge_automatically", "send_invoice"):
            raise StripeError(400, "invalid_request_error", f"Invalid collection_method: {method}")
        if method == "charge_automatically" and ("days_until_due" in params or "due_date" in params):
            raise StripeError(400, "invalid_request_error", "days_until_due is only valid with send_invoice.")
        if method == "send_invoice" and "days_until_due" not in params and "due_date" not in params:
            raise StripeError(400, "invalid_request_error", "send_invoice needs days_until_due or due_date.")
        invoice = self._new(
            "in", "invoice", customer=customer["id"], collection_method=method, status="draft",
            days_until_due=int(params["days_until_due"]) if "days_until_due" in params else None,
            auto_advance=params.get("auto_advance") == "true", currency=params.get("currency", "usd"),
            metadata=params.get("metadata", {}), description=params.get("description"),
            total=0, amount_due=0, amount_paid=0, paid=False, hosted_invoice_url=None,
        )  # fmt: skip
        if params.get("pending_invoice_items_behavior", "exclude") == "include":
            for item in self.of_type("invoiceitem"):
                if item["customer"] == customer["id"] and not item["invoice"]:
                    item["invoice"] = invoice["id"]
        return invoice

    def _list_invoices(self, params, base):
        invoices = [
            i for i in self.of_type("invoice") if not params.get("customer") or i["customer"] == params["customer"]
        ]
        created = params.get("created", {})
        if isinstance(created, dict) and created.get("gte"):
            invoices = [i for i in invoices if i["created"] >= int(created["gte"])]
        return self._list(sorted(invoices, key=lambda i: i["id"], reverse=True), "/v1/invoices")

    def _finalize(self, params, base, oid):
        invoice = self._find(oid, "invoice")
        if invoice["status"] != "draft":
            raise StripeError(
                400, "invalid_request_error", "This invoice is already finalized.", "invoice_not_editable"
            )
        total = sum(i["amount"] for i in self.of_type("invoiceitem") if i["invoice"] == oid)
        invoice.update(status="open", total=total, amount_due=max(total, 0), hosted_invoice_url=f"{base}/i/{oid}")
        self._event("invoice.finalized", invoice)
        if invoice["amount_due"] == 0:
            invoice.update(status="paid", paid=True)
            self._event("invoice.paid", invoice)
        return invoice

    def _pay(self, params, base, oid):
        invoice = self._find(oid, "invoice")
        if invoice["status"] == "paid":
            raise StripeError(400, "invalid_request_error", "Invoice is already paid", "invoice_already_paid")
        if invoice["status"] != "open":
            raise StripeError(400, "invalid_request_error", f"Invoice is {invoice['status']}, not open.")
        customer = self._find(invoice["customer"], "customer")
        pm_id = params.get("payment_method") or customer["invoice_settings"]["default_payment_method"]
        pm = self.objects.get(pm_id) if pm_id else None
        if pm is None:  # no attempt is made: nothing to charge (a card attached but not the default is not used)
            raise StripeError(400, "invalid_request_error", "This customer has no attached payment source or default "
                              "payment method. Please consider adding a default payment method.")  # fmt: skip
        if pm["card"]["last4"] == "0341":
            self._event("invoice.payment_failed", invoice)
            raise StripeError(402, "card_error", "Your card was declined.", "card_declined")
        invoice.update(status="paid", paid=True, amount_paid=invoice["amount_due"])
        self._event("invoice.paid", invoice)
        return invoice

    def _send(self, params, base, oid):
        invoice = self._find(oid, "invoice")
        if invoice["collection_method"] != "send_invoice" or invoice["status"] not in ("open",):
            raise StripeError(400, "invalid_request_error", "Only open send_invoice invoices can be sent.")
        invoice["sent"] = True
        self._event("invoice.sent", invoice)
        return invoice

    def _void(self, params, base, oid):
        invoice = self._find(oid, "invoice")
        if invoice["status"] != "open":
            raise StripeError(400, "invalid_request_error", "Only open invoices can be voided.")
        invoice["status"] = "void"
        self._event("invoice.voided", invoice)
        return invoice

    def _create_pm(self, params, base):
        number = params.get("card", {}).get("number", "4242424242424242")
        return self._new("pm", "payment_method", type="card", customer=None, card={"last4": number[-4:]})

    def _attach_pm(self, params, base, oid):
        pm = self._find(oid, "payment_method")
        pm["customer"] = self._find(params.get("customer", ""), "customer")["id"]
        return pm

    def _list_pms(self, params, base):
        pms = [p for p in self.of_type("payment_method") if p["customer"] == params.get("customer")]
        return self._list(pms, "/v1/payment_methods")

    def _create_session(self, params, base):
        if params.get("mode") != "setup":
            raise StripeError(400, "invalid_request_error", "This fake supports Checkout in setup mode only.")
        customer = self._find(params.get("customer", ""), "customer")
        session = self._new(
            "cs", "checkout.session", mode="setup", customer=customer["id"], status="open",
            success_url=params.get("success_url"), cancel_url=params.get("cancel_url"), setup_intent=None,
            metadata=params.get("metadata", {}),
        )  # fmt: skip
        session["url"] = f"{base}/_fake/checkout/{session['id']}"
        return session

    # --- the hosted page and the test controls -------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        path = request.path
        checkout = re.fullmatch(r"/_fake/checkout/(cs_\w+)", path)
        if checkout:
            return self._hosted_checkout(request, checkout.group(1))
        if path == "/_fake/state":
            with self._lock:
                return Response(
                    json.dumps({"objects": self.objects, "events": self.events}), mimetype="application/json"
                )
        data = request.get_json(silent=True) or {}
        if path == "/_fake/faults" and request.method == "POST":
            self.inject(data["method"], data["path"], data["mode"], int(data.get("times", 1)), data.get("delay", 5))
            return Response("{}", mimetype="application/json")
        if path == "/_fake/clock" and request.method == "POST":
            self.advance(float(data.get("advance_seconds", 0)))
            return Response("{}", mimetype="application/json")
        return Response("not found", status=404)

    def _hosted_checkout(self, request: Request, session_id: str) -> Response:
        """Stripe's hosted page: GET shows a form, POST saves the card to the customer and redirects back."""
        with self._lock:
            session = self.objects.get(session_id)
            if session is None:
                return Response("no such session", status=404)
            if request.method == "GET":
                form = (
                    f'<form method="post"><input name="number" value="4242424242424242">'
                    f'<button type="submit">Save card</button></form><a href="{session["cancel_url"]}">Cancel</a>'
                )
                return Response(f"<h1>Fake Stripe Checkout (setup)</h1>{form}", mimetype="text/html")
            pm = self._create_pm({"card": {"number": request.form.get("number", "4242424242424242")}}, base="")
            pm["customer"] = session["customer"]  # attached, but (as on Stripe) not made the invoice default
            intent = self._new("seti", "setup_intent", status="succeeded", payment_method=pm["id"])
            session.update(status="complete", setup_intent=intent["id"])
            self._event("checkout.session.completed", session)
            return Response(status=303, headers={"Location": session["success_url"]})


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # tests make hundreds of calls; keep their output readable
        pass


def make_app(app_url: str = "http://localhost:5000") -> FakeStripe:
    """The fake as `fakes.serve` mounts it: webhooks delivered to the app, signed with STRIPE_WEBHOOK_SECRET."""
    import os

    return FakeStripe(
        webhook_secret=os.environ.get("STRIPE_WEBHOOK_SECRET") or "whsec_fake",
        webhook_url=app_url.rstrip("/") + "/webhooks/stripe",
        auto_deliver=True,
    )


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0):
    """Serve a WSGI app on a free port in a daemon thread; returns (base url, stop function)."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_port}", stop
