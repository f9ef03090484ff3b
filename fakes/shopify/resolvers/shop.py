"""Resolvers for `shop`, `locations`, `location`, `node` and `nodes`."""

from __future__ import annotations

from fakes.shopify import nodes
from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.registry import registry
from fakes.shopify.search import matches
from fakes.shopify.state import gid, parse_gid


@registry.query("shop")
def shop(ctx: Context):
    s = ctx.shop
    return {
        "__typename": "Shop",
        "id": gid("Shop", s.id),
        "name": s.name,
        "email": s.email,
        "contactEmail": s.email,
        "myshopifyDomain": s.domain,
        "url": f"https://{s.domain}",
        "currencyCode": s.currency,
        "ianaTimezone": "UTC",
        "timezoneAbbreviation": "UTC",
        "plan": {"displayName": s.plan, "publicDisplayName": s.plan, "partnerDevelopment": False, "shopifyPlus": False},
        "primaryDomain": {
            "id": gid("Domain", s.id),
            "host": s.domain,
            "url": f"https://{s.domain}",
            "sslEnabled": True,
        },
    }


@registry.query("locations")
def locations(ctx: Context, **args):
    locs = [
        loc
        for loc in ctx.shop.locations.values()
        if (loc.is_active or args.get("includeInactive")) and matches(args.get("query"), {"name": loc.name}, "name")
    ]
    return connection(ctx, locs, lambda loc: nodes.location(ctx, loc), **conn_args(args))


@registry.query("location")
def location(ctx: Context, id=None):
    if id is None:
        return nodes.location(ctx, ctx.shop.primary_location)
    return _location_node(ctx, parse_gid(id, "Location") or 0)


@registry.query("node")
def node(ctx: Context, id):
    return ctx.sandbox.node_for(ctx, id)


@registry.query("nodes")
def nodes_(ctx: Context, ids):
    return [ctx.sandbox.node_for(ctx, i) for i in ids]


@registry.node("Location")
def _location_node(ctx: Context, number: int):
    loc = ctx.shop.locations.get(number)
    return nodes.location(ctx, loc) if loc else None
