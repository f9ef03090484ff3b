"""The Shopify sandbox: a WSGI app serving the Admin GraphQL API and OAuth for any number of fake shops.

Every document is parsed, validated and its variables coerced against Shopify's official schema, then executed by
graphql-core with the resolver registry; cost is charged to a per-shop leaky bucket. See fakes/shopify/README.md.
"""

from __future__ import annotations

import json
import threading
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import graphql
import jwt
from graphql import GraphQLError, OperationDefinitionNode, default_field_resolver, get_operation_ast
from graphql.execution.values import get_variable_values
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from fakes.shopify import errors, nodes, oauth
from fakes.shopify.context import Context
from fakes.shopify.cost import MAX_SINGLE_QUERY_COST, CostCalculator
from fakes.shopify.registry import Registry, registry
from fakes.shopify.schema import DEFAULT_VERSION, load_schema
from fakes.shopify.state import Fault, ShopState, gid_kind, parse_gid
from fakes.shopify.webhooks import Outbox, http_sink

DEMO_TOKEN_PREFIX = "shpat_sandbox_"
APP_TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"
# Used when there is no shopify.app.toml: the topics the app subscribes to in its configuration.
FALLBACK_APP_TOPICS = (
    "orders/create", "orders/updated", "app/uninstalled", "app/scopes_update",
    "customers/data_request", "customers/redact", "shop/redact",
)  # fmt: skip


def app_toml_topics(path: Path = APP_TOML) -> tuple[tuple[str, ...], str]:
    """The topics (compliance ones included) and webhook path the app declares in shopify.app.toml, which Shopify
    delivers without any webhookSubscriptionCreate call."""
    try:
        config = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return FALLBACK_APP_TOPICS, "/webhooks/shopify"
    topics: list[str] = []
    webhook_path = "/webhooks/shopify"
    for sub in (config.get("webhooks") or {}).get("subscriptions") or []:
        topics += list(sub.get("topics") or []) + list(sub.get("compliance_topics") or [])
        if sub.get("uri", "").startswith("http"):
            webhook_path = urlsplit(sub["uri"]).path or webhook_path
    return tuple(dict.fromkeys(topics)) or FALLBACK_APP_TOPICS, webhook_path


APP_TOPICS, APP_WEBHOOK_PATH = app_toml_topics()
DEFAULT_SCOPES = "read_products,write_products,read_inventory,write_inventory,read_orders,write_orders,read_locations"
MAX_INPUT_ARRAY = 250  # Shopify's limit on array inputs (productSet's `variants` may hold up to 2048)


def _longest_input_array(value, key: str | None = None) -> int:
    """The longest list in coerced variables, not counting productSet's variants list."""
    if isinstance(value, dict):
        return max((_longest_input_array(v, k) for k, v in value.items()), default=0)
    if isinstance(value, list):
        own = 0 if key == "variants" else len(value)
        return max([own, *(_longest_input_array(v) for v in value)])
    return 0


UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


@dataclass
class SandboxConfig:
    client_id: str = "wholesync-dev-client-id"
    client_secret: str = "wholesync-dev-client-secret"
    app_url: str | None = None  # e.g. http://localhost:5000; webhooks for APP_TOPICS go to app_url + webhook_path
    webhook_path: str = APP_WEBHOOK_PATH
    app_topics: tuple[str, ...] = APP_TOPICS
    maximum_available: float = 2000.0  # Standard plan: 100 points/s, bucket 20x (shopify.dev rate limits)
    restore_rate: float = 100.0
    auto_create_demo_shops: bool = True
    idempotency_required_from: str = "2026-04"
    public_url: str | None = None  # where the sandbox's own files (bulk results) are served; default: the bound address
    extra: dict = field(default_factory=dict)


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
        from fakes.shopify import resolvers  # noqa: F401 - importing registers the resolver modules

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
                Rule("/admin/api/<version>/graphql.json", endpoint="graphql", methods=["POST"]),
                Rule("/admin/oauth/access_token", endpoint="access_token", methods=["POST"]),
                Rule("/admin/oauth/authorize", endpoint="authorize", methods=["GET"]),
                Rule("/_sandbox/bulk/<shop>/<int:op_id>.jsonl", endpoint="bulk_file", methods=["GET"]),
                Rule("/_sandbox/shops", endpoint="control_add_shop", methods=["POST"]),
                Rule("/_sandbox/shops/<shop>", endpoint="control_state", methods=["GET"]),
                Rule("/_sandbox/shops/<shop>/faults", endpoint="control_faults", methods=["POST"]),
                Rule("/_sandbox/shops/<shop>/session_token", endpoint="control_session_token", methods=["POST"]),
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

    def _resolve(self, source, info, **args):
        root = info.parent_type
        if root is self.schema.query_type or root is self.schema.mutation_type:
            operation = "query" if root is self.schema.query_type else "mutation"
            fn = self.registry.lookup(operation, info.field_name)
            if fn is None:
                raise GraphQLError(
                    f"The Shopify sandbox does not implement {root.name}.{info.field_name}; add a resolver with "
                    f"@registry.{operation}({info.field_name!r}) (see fakes/shopify/README.md).",
                    extensions={"code": "NOT_IMPLEMENTED_IN_SANDBOX"},
                )
            ctx = info.context
            ctx.info = info
            return fn(ctx, **args)
        return default_field_resolver(source, info, **args)

    def run(
        self,
        shop: ShopState,
        query: str,
        variables: dict | None = None,
        operation_name: str | None = None,
        *,
        api_version: str | None = None,
        base_url: str = "",
        bulk: bool = False,
        charge: bool = True,
        force_throttle: bool = False,
    ) -> dict:
        """Validate, cost, charge and execute one document for a shop; returns the JSON body Shopify would send."""
        variables = variables or {}
        try:
            document = graphql.parse(query)
        except GraphQLError as exc:
            return {"errors": [errors.syntax_error(exc)]}
        problems = graphql.validate(self.schema, document)
        if problems:
            paths = errors.field_paths(document)
            return {"errors": [errors.validation_error(e, paths) for e in problems]}
        op = get_operation_ast(document, operation_name)
        if op is None:
            return {
                "errors": [{"message": "An operation name is required", "extensions": {"code": "operationNotFound"}}]
            }
        coerced = get_variable_values(self.schema, op.variable_definitions or [], variables)
        if isinstance(coerced, list):
            types = {v.variable.name.value: graphql.print_ast(v.type) for v in op.variable_definitions}
            return {"errors": [errors.variable_error(e, variables, types, self.schema) for e in coerced]}
        too_long = _longest_input_array(coerced)
        if too_long > MAX_INPUT_ARRAY:
            message = f"The input array size of {too_long} is greater than the maximum allowed of {MAX_INPUT_ARRAY}."
            return {"errors": [{"message": message, "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}}]}
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)}
        calc = CostCalculator(self.schema, fragments, coerced)
        requested = calc.operation(op)
        if charge and not bulk:
            if requested > MAX_SINGLE_QUERY_COST:
                return errors.max_cost_exceeded(requested)
            if force_throttle or not shop.bucket.take(requested):
                body = errors.throttled(
                    {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": shop.bucket.status()}
                )
                self._log(shop, op, requested, None, throttled=True)
                return body
        ctx = Context(
            sandbox=self, shop=shop, api_version=api_version or self.api_version, base_url=base_url, bulk=bulk
        )
        with shop.lock:
            result = graphql.execute(
                self.schema,
                document,
                context_value=ctx,
                variable_values=variables,
                operation_name=operation_name,
                field_resolver=self._resolve,
            )
        body: dict = {}
        if result.errors:
            body["errors"] = [self._format_error(e) for e in result.errors]
        body["data"] = result.data
        if charge and not bulk:
            actual = min(requested, calc.operation(op, result.data or {}))
            shop.bucket.refund(requested - actual)
            body["extensions"] = {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": actual,
                    "throttleStatus": shop.bucket.status(),
                }
            }
            self._log(shop, op, requested, actual, throttled=False)
        for topic, payload in ctx.events:
            self.emit(shop.domain, topic, payload)
        return body

    @staticmethod
    def _format_error(error: GraphQLError) -> dict:
        out = error.formatted
        out.setdefault("extensions", {})
        if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
            # A bug in a resolver: Shopify would say INTERNAL_SERVER_ERROR; keep the cause for the developer.
            out["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "sandboxCause": repr(error.original_error)}
        return out

    @staticmethod
    def _log(shop: ShopState, op: OperationDefinitionNode, requested, actual, *, throttled: bool) -> None:
        fields = [s.name.value for s in op.selection_set.selections if hasattr(s, "name")]
        shop.requests.append(
            {
                "operation": op.operation.value,
                "root_fields": fields,
                "requested": requested,
                "actual": actual,
                "throttled": throttled,
                "at": time.time(),
            }
        )

    # ---- HTTP --------------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
            response = getattr(self, f"_http_{endpoint}")(request, **values)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    @staticmethod
    def _json(body, status: int = 200, headers: dict | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")

    @staticmethod
    def _host_shop(request: Request) -> str:
        return (request.headers.get("X-Forwarded-Host") or request.host or "").split(":")[0].lower()

    def _authenticate(self, request: Request, domain: str) -> ShopState | None:
        token = request.headers.get("X-Shopify-Access-Token", "")
        record = self.tokens.get(token)
        demo = self.config.auto_create_demo_shops and token == DEMO_TOKEN_PREFIX + domain.split(".")[0]
        if record is None and demo:
            self.add_shop(domain, token=token)
            record = self.tokens.get(token)
        if record is None or record.shop != domain or record.expired:
            return None
        return self.shops.get(domain)

    def _http_graphql(self, request: Request, version: str) -> Response:
        domain = self._host_shop(request)
        shop = self._authenticate(request, domain)
        if shop is None:
            return self._json(UNAUTHORIZED, 401)
        force_throttle = False
        if shop.faults:
            fault = shop.faults.popleft()
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            elif fault.kind == "throttled":
                force_throttle = True  # answered below, with the document's real requested cost
            elif fault.kind == "429":
                body = {
                    "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                    "uninterrupted service."
                }
                return self._json(body, 429, {"Retry-After": f"{fault.retry_after:g}"})
            else:
                return self._json({"errors": "Internal Server Error"}, int(fault.kind))
        try:
            payload = request.get_json(force=True)
        except Exception:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return self._json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        body = self.run(
            shop,
            payload["query"],
            payload.get("variables") or {},
            payload.get("operationName"),
            api_version=version,
            base_url=self._public_url(request),
            force_throttle=force_throttle,
        )
        return self._json(body, headers={"X-Shopify-API-Version": version, "X-Request-Id": str(uuid.uuid4())})

    def _public_url(self, request: Request) -> str:
        """The sandbox's own address (not the shop's Host), for URLs clients fetch directly."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        env = request.environ
        return f"{env.get('wsgi.url_scheme', 'http')}://{env['SERVER_NAME']}:{env['SERVER_PORT']}"

    def _http_bulk_file(self, request: Request, shop: str, op_id: int) -> Response:
        state = self.shops.get(shop)
        op = state.bulk_operations.get(op_id) if state else None
        if op is None:
            raise NotFound()
        return Response("".join(line + "\n" for line in op.lines), content_type="application/jsonl")

    # OAuth ---------------------------------------------------------------------------------------------------------
    def _form(self, request: Request) -> dict:
        if request.is_json:
            return {k: str(v) for k, v in (request.get_json(silent=True) or {}).items()}
        return request.form.to_dict()

    def _http_access_token(self, request: Request) -> Response:
        domain = self._host_shop(request)
        form = self._form(request)
        if form.get("client_id") != self.config.client_id or form.get("client_secret") != self.config.client_secret:
            return self._json({"error": "invalid_client", "error_description": "Client credentials are invalid"}, 401)
        grant_type = form.get("grant_type")
        if grant_type == oauth.TOKEN_EXCHANGE:
            return self._token_exchange(domain, form)
        if grant_type == "refresh_token":
            return self._refresh(domain, form)
        if grant_type in (None, "", "authorization_code"):
            grant = self.codes.pop(form.get("code", ""), None)
            if grant is None or grant.shop != domain or grant.expires_at < time.time():
                return self._json(
                    {
                        "error": "invalid_request",
                        "error_description": "The authorization code was not found or was already used",
                    },
                    400,
                )
            shop = self.add_shop(domain)
            shop.installed = True
            token = self.issue_token(domain, scopes=grant.scopes)
            return self._json({"access_token": token, "scope": grant.scopes})
        return self._json({"error": "unsupported_grant_type"}, 400)

    def _expiring_pair(self, domain: str, scopes: str) -> dict:
        token = self.issue_token(domain, expires_in=oauth.ACCESS_TOKEN_LIFETIME, scopes=scopes)
        refresh = oauth.new_refresh_token()
        self.refresh_tokens[refresh] = oauth.Grant(domain, scopes, time.time() + oauth.REFRESH_TOKEN_LIFETIME)
        return {
            "access_token": token,
            "expires_in": oauth.ACCESS_TOKEN_LIFETIME,
            "refresh_token": refresh,
            "refresh_token_expires_in": oauth.REFRESH_TOKEN_LIFETIME,
            "scope": scopes,
        }

    def _token_exchange(self, domain: str, form: dict) -> Response:
        if form.get("subject_token_type") != oauth.ID_TOKEN_TYPE:
            return self._json({"error": "invalid_request", "error_description": "Unsupported subject_token_type"}, 400)
        try:
            claims = oauth.verify_session_token(
                form.get("subject_token", ""), self.config.client_id, self.config.client_secret
            )
        except jwt.PyJWTError as exc:
            return self._json({"error": "invalid_subject_token", "error_description": str(exc)}, 400)
        if claims["dest"] != f"https://{domain}":
            return self._json({"error": "invalid_subject_token", "error_description": "Token is for another shop"}, 400)
        shop = self.add_shop(domain)
        shop.installed = True
        requested = form.get("requested_token_type", oauth.OFFLINE_TOKEN_TYPE)
        if requested == oauth.ONLINE_TOKEN_TYPE:
            token = self.issue_token(domain, expires_in=86400)
            return self._json(
                {
                    "access_token": token,
                    "scope": shop.scopes,
                    "expires_in": 86400,
                    "associated_user_scope": shop.scopes,
                    "associated_user": {
                        "id": int(claims["sub"]),
                        "first_name": "Sandbox",
                        "last_name": "User",
                        "email": f"user{claims['sub']}@{domain}",
                        "account_owner": True,
                        "locale": "en",
                        "collaborator": False,
                        "email_verified": True,
                    },
                }
            )
        if form.get("expiring") in ("1", "true", "True"):
            return self._json(self._expiring_pair(domain, shop.scopes))
        return self._json({"access_token": self.issue_token(domain), "scope": shop.scopes})

    def _refresh(self, domain: str, form: dict) -> Response:
        grant = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # single use: rotated on every refresh
        if grant is None or grant.shop != domain or grant.expires_at < time.time():
            return self._json(
                {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired"}, 400
            )
        return self._json(self._expiring_pair(domain, grant.scopes))

    def _http_authorize(self, request: Request) -> Response:
        """The grant screen, auto-approved: redirect to redirect_uri with a code and Shopify's query HMAC."""
        domain = self._host_shop(request)
        args = request.args
        if args.get("client_id") != self.config.client_id or not args.get("redirect_uri"):
            return Response("Oauth error invalid_request: The redirect_uri and client_id are required", 400)
        shop = self.add_shop(domain)
        scopes = args.get("scope") or shop.scopes
        code = oauth.new_code()
        self.codes[code] = oauth.Grant(domain, scopes, time.time() + 600)
        params = {"code": code, "host": oauth.host_param(domain), "shop": domain, "timestamp": str(int(time.time()))}
        if args.get("state") is not None:
            params["state"] = args["state"]
        params["hmac"] = oauth.query_hmac(params, self.config.client_secret)
        sep = "&" if "?" in args["redirect_uri"] else "?"
        return Response("", 302, headers={"Location": args["redirect_uri"] + sep + urlencode(params)})

    # Control API (for `fakes.serve` and other processes) -----------------------------------------------------------
    def _http_control_add_shop(self, request: Request) -> Response:
        body = request.get_json(force=True) or {}
        shop = self.add_shop(
            body["shop"],
            token=body.get("token"),
            restore_rate=body.get("restore_rate"),
            maximum_available=body.get("maximum_available"),
        )
        return self._json({"shop": shop.domain, "token": body.get("token")})

    def _http_control_state(self, request: Request, shop: str) -> Response:
        state = self.shops.get(shop)
        if state is None:
            raise NotFound()
        ctx = Context(
            sandbox=self, shop=state, api_version=self.api_version, base_url=self._public_url(request), bulk=True
        )
        summary = {
            "shop": shop,
            "products": [
                {
                    "id": p.id,
                    "title": p.title,
                    "status": p.status,
                    "variants": [
                        {"id": v, "sku": state.variants[v].sku, "price": state.variants[v].price} for v in p.variant_ids
                    ],
                }
                for p in state.products.values()
            ],
            "locations": [nodes.location(ctx, loc)["name"] for loc in state.locations.values()],
            "inventory": {
                str(i.id): {str(loc): q for loc, q in i.levels.items()} for i in state.inventory_items.values()
            },
            "throttleStatus": state.bucket.status(),
            "requests": len(state.requests),
        }
        return self._json(summary)

    def _http_control_faults(self, request: Request, shop: str) -> Response:
        body = request.get_json(force=True) or {}
        self.inject(
            shop,
            body["kind"],
            int(body.get("count", 1)),
            retry_after=float(body.get("retry_after", 1.0)),
            seconds=float(body.get("seconds", 0.0)),
        )
        return self._json({"ok": True})

    def _http_control_session_token(self, request: Request, shop: str) -> Response:
        body = request.get_json(silent=True) or {}
        token = self.session_token(shop, int(body.get("user_id", 1)), int(body.get("exp_in", 60)))
        return self._json({"session_token": token})
