"""The Shopify sandbox: a WSGI app serving the Admin GraphQL API, OAuth and a control API for any number of shops.

`Sandbox` holds the shops, tokens and webhook outbox; its HTTP endpoints live in the `http_*` modules and
`admin`, GraphQL execution in `executor`. See fakes/shopify/README.md.
"""

from __future__ import annotations

import threading
import time

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.wrappers import Request

from fakes.shopify import executor, http_control, http_graphql, http_oauth, oauth
from fakes.shopify.config import APP_TOPICS, DEFAULT_SCOPES, SandboxConfig
from fakes.shopify.context import Context
from fakes.shopify.registry import Registry, registry
from fakes.shopify.schema import DEFAULT_VERSION, load_schema
from fakes.shopify.state import Fault, ShopState, gid_kind, parse_gid
from fakes.shopify.webhooks import Outbox, http_sink

__all__ = ["APP_TOPICS", "Sandbox", "SandboxConfig"]


class Sandbox:
    """The in-memory Shopify: `sandbox.wsgi_app` (or the instance itself) is the WSGI application."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        sink=None,
        auto_deliver: bool = True,
        registry_: Registry | None = None,
        api_version: str = DEFAULT_VERSION,
    ):
        from fakes.shopify import admin, resolvers  # noqa: F401 - importing resolvers registers them

        self.config = config or SandboxConfig()
        self.registry = registry_ or registry
        self.api_version = api_version
        self.schema = load_schema(api_version)
        self.shops: dict[str, ShopState] = {}
        self.tokens: dict[str, oauth.Token] = {}
        self.refresh_tokens: dict[str, oauth.Grant] = {}
        self.codes: dict[str, oauth.Grant] = {}
        self.outbox = Outbox(secret=self.config.client_secret, sink=sink or http_sink, auto_deliver=auto_deliver)
        self._lock = threading.RLock()
        self.url_map = Map(
            [
                *(rule.empty() for rule in http_graphql.RULES),
                *(rule.empty() for rule in http_oauth.RULES),
                *(rule.empty() for rule in http_control.RULES),
                *(rule.empty() for rule in admin.RULES),
            ]
        )

    # ---- shops, tokens, faults (the Python API tests and fakes.serve use) ---------------------------------------
    def add_shop(
        self,
        domain: str,
        *,
        token: str | None = None,
        scopes: str = DEFAULT_SCOPES,
        maximum_available: float | None = None,
        restore_rate: float | None = None,
    ) -> ShopState:
        """Create (or return) a shop; registers `token` (non-expiring) when given."""
        with self._lock:
            shop = self.shops.get(domain)
            if shop is None:
                shop = ShopState(
                    domain,
                    maximum_available=maximum_available or self.config.maximum_available,
                    restore_rate=restore_rate or self.config.restore_rate,
                )
                shop.scopes = scopes
                self.shops[domain] = shop
            elif maximum_available or restore_rate:
                shop.bucket.configure(maximum_available, restore_rate)
            if token:
                self.tokens[token] = oauth.Token(shop=domain, scopes=scopes)
            return shop

    def shop(self, domain: str) -> ShopState:
        return self.shops[domain]

    def issue_token(self, domain: str, *, expires_in: int | None = None, scopes: str | None = None) -> str:
        """A new access token for a shop (non-expiring unless `expires_in`)."""
        shop = self.add_shop(domain)
        token = oauth.new_access_token()
        expires = time.time() + expires_in if expires_in else None
        self.tokens[token] = oauth.Token(shop=domain, scopes=scopes or shop.scopes, expires_at=expires)
        return token

    def revoke_tokens(self, domain: str) -> None:
        with self._lock:
            for store in (self.tokens, self.refresh_tokens):
                for key in [k for k, v in store.items() if v.shop == domain]:
                    del store[key]

    def session_token(self, shop: str, user_id: int = 1, exp_in: int = 60, **kwargs) -> str:
        """An App Bridge session token for `shop`, signed with the app's secret like Shopify's."""
        return oauth.session_token(
            shop, self.config.client_id, self.config.client_secret, user_id=user_id, exp_in=exp_in, **kwargs
        )

    def inject(self, domain: str, kind: str, count: int = 1, *, retry_after: float = 1.0, seconds: float = 0.0):
        """Make the shop's next `count` GraphQL requests fail: throttled | 429 | 500 | 503 | slow."""
        if kind not in ("throttled", "429", "500", "502", "503", "slow"):
            raise ValueError(f"unknown fault {kind!r}")
        shop = self.add_shop(domain)
        for _ in range(count):
            shop.faults.append(Fault(kind=kind, retry_after=retry_after, seconds=seconds))

    def set_bucket(self, domain: str, *, maximum_available=None, restore_rate=None, currently_available=None):
        bucket = self.add_shop(domain).bucket
        bucket.configure(maximum_available, restore_rate)
        if currently_available is not None:
            bucket.set_available(currently_available)

    def uninstall(self, domain: str) -> None:
        """The merchant uninstalls the app: tokens stop working and `app/uninstalled` is sent."""
        shop = self.shop(domain)
        shop.installed = False
        self.revoke_tokens(domain)
        payload = {"id": shop.id, "name": shop.name, "email": shop.email, "domain": domain, "myshopify_domain": domain}
        self.emit(domain, "app/uninstalled", payload)

    def add_product(self, domain: str, title: str, variants: list[dict], *, status: str = "ACTIVE") -> dict:
        """Seed a product as the merchant would (no cost, no auth): variants are {"sku", "price", "available"=0,
        "barcode"?, "option"?}; returns {"product_id", "variants": {sku: {"variant_id", "inventory_item_id",
        "location_id"}}}."""
        shop = self.add_shop(domain)
        loc = f"gid://shopify/Location/{shop.primary_location.id}"
        names = [v.get("option", v["sku"]) for v in variants]
        vin = [
            {
                "optionValues": [{"optionName": "Title", "name": name}],
                "sku": v["sku"],
                "price": str(v.get("price", "0.00")),
                "barcode": v.get("barcode"),
                "inventoryQuantities": [
                    {"locationId": loc, "name": "available", "quantity": int(v.get("available", 0))}
                ],
            }
            for v, name in zip(variants, names, strict=True)
        ]
        body = self.run(
            shop,
            "mutation($i: ProductSetInput!) { productSet(input: $i) { product { id variants(first: 250) { nodes "
            "{ id sku inventoryItem { id } } } } userErrors { field message } } }",
            {
                "i": {
                    "title": title,
                    "status": status,
                    "variants": vin,
                    "productOptions": [{"name": "Title", "values": [{"name": n} for n in names]}],
                }
            },
            charge=False,
        )
        payload = body["data"]["productSet"]
        if body.get("errors") or payload["userErrors"]:
            raise ValueError(body.get("errors") or payload["userErrors"])
        product = payload["product"]
        return {
            "product_id": product["id"],
            "variants": {
                n["sku"]: {"variant_id": n["id"], "inventory_item_id": n["inventoryItem"]["id"], "location_id": loc}
                for n in product["variants"]["nodes"]
            },
        }

    # ---- webhooks ----------------------------------------------------------------------------------------------
    def emit(self, domain: str, topic: str, payload: dict) -> list:
        """Announce a state change: deliver to the shop's subscriptions for `topic` and to the app's webhook URL."""
        shop = self.shop(domain)
        urls = [s.uri for s in shop.webhooks.values() if s.matches(topic)]
        if self.config.app_url and topic in self.config.app_topics:
            app_target = self.config.app_url.rstrip("/") + self.config.webhook_path
            if app_target not in urls:
                urls.append(app_target)
        deliveries = self.outbox.prepare(domain, topic, payload, urls, self.api_version)
        self.outbox.enqueue(deliveries)
        return deliveries

    @property
    def deliveries(self):
        return self.outbox.deliveries

    # ---- GraphQL -----------------------------------------------------------------------------------------------
    def node_for(self, ctx: Context, global_id: str) -> dict | None:
        """Resolve any GID through the node loaders registered with `@registry.node(<type>)`."""
        kind, number = gid_kind(global_id), parse_gid(global_id)
        loader = self.registry.nodes.get(kind or "")
        return loader(ctx, number) if loader and number is not None else None

    def run(self, shop: ShopState, query: str, variables: dict | None = None, operation_name: str | None = None,
            **kwargs) -> dict:  # fmt: skip
        """Validate, cost, charge and execute one document for a shop (see `executor.execute` for the options)."""
        return executor.execute(self, shop, query, variables, operation_name, **kwargs)

    def merchant_context(self, domain: str) -> Context:
        """A resolver context for changes the merchant makes outside the API (admin pages, test helpers)."""
        return Context(sandbox=self, shop=self.shop(domain), api_version=self.api_version, base_url="")

    # ---- HTTP --------------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ, start_response):
        """Route to the endpoint function of the matching rule: `endpoint(sandbox, request, **values)`."""
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
            response = endpoint(self, request, **values)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)
