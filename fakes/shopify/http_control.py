"""The control API other processes use to steer a running sandbox (`fakes.serve`): add shops, read a shop's
state, inject faults, mint App Bridge session tokens. Not part of Shopify; served under `/_sandbox/shops`.
"""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fakes.shopify import nodes
from fakes.shopify.context import Context
from fakes.shopify.http_common import json_response, public_url


def add_shop(sandbox, request: Request) -> Response:
    """`{"shop", "token"?, "restore_rate"?, "maximum_available"?}`: create the shop (and register the token)."""
    body = request.get_json(force=True) or {}
    shop = sandbox.add_shop(
        body["shop"],
        token=body.get("token"),
        restore_rate=body.get("restore_rate"),
        maximum_available=body.get("maximum_available"),
    )
    return json_response({"shop": shop.domain, "token": body.get("token")})


def shop_state(sandbox, request: Request, shop: str) -> Response:
    """A summary of a shop: products with variants, locations, inventory levels, throttle status."""
    state = sandbox.shops.get(shop)
    if state is None:
        raise NotFound()
    ctx = Context(
        sandbox=sandbox, shop=state, api_version=sandbox.api_version, base_url=public_url(sandbox, request), bulk=True
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
        "inventory": {str(i.id): {str(loc): q for loc, q in i.levels.items()} for i in state.inventory_items.values()},
        "throttleStatus": state.bucket.status(),
        "requests": len(state.requests),
    }
    return json_response(summary)


def faults(sandbox, request: Request, shop: str) -> Response:
    """`{"kind", "count"?, "retry_after"?, "seconds"?}`: make the shop's next requests fail."""
    body = request.get_json(force=True) or {}
    sandbox.inject(
        shop,
        body["kind"],
        int(body.get("count", 1)),
        retry_after=float(body.get("retry_after", 1.0)),
        seconds=float(body.get("seconds", 0.0)),
    )
    return json_response({"ok": True})


def session_token(sandbox, request: Request, shop: str) -> Response:
    """`{"user_id"?, "exp_in"?}`: an App Bridge session token for the shop."""
    body = request.get_json(silent=True) or {}
    token = sandbox.session_token(shop, int(body.get("user_id", 1)), int(body.get("exp_in", 60)))
    return json_response({"session_token": token})


RULES = [
    Rule("/_sandbox/shops", endpoint=add_shop, methods=["POST"]),
    Rule("/_sandbox/shops/<shop>", endpoint=shop_state, methods=["GET"]),
    Rule("/_sandbox/shops/<shop>/faults", endpoint=faults, methods=["POST"]),
    Rule("/_sandbox/shops/<shop>/session_token", endpoint=session_token, methods=["POST"]),
]
