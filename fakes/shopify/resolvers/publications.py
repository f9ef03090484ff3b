"""Resolvers for `publications` and `publishablePublish` (products onto sales channels)."""

from __future__ import annotations

from fakes.shopify import nodes
from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.registry import registry
from fakes.shopify.state import parse_gid


@registry.query("publications")
def publications(ctx: Context, **args):
    items = sorted(ctx.shop.publications.values(), key=lambda p: p.id)
    return connection(ctx, items, lambda p: nodes.publication(ctx, p), **conn_args(args))


@registry.node("Publication")
def _publication_node(ctx: Context, number: int):
    pub = ctx.shop.publications.get(number)
    return nodes.publication(ctx, pub) if pub else None


@registry.mutation("publishablePublish")
def publishable_publish(ctx: Context, id, input):
    shop = ctx.shop
    product = shop.products.get(parse_gid(id, "Product") or 0)
    if product is None:
        return {
            "publishable": None,
            "shop": None,
            "userErrors": [{"field": ["id"], "message": "Publishable does not exist"}],
        }
    errors = []
    targets = []
    for n, pub_in in enumerate(input):
        pub = shop.publications.get(parse_gid(pub_in.get("publicationId") or "", "Publication") or 0)
        if pub is None:
            errors.append({"field": ["input", str(n), "publicationId"], "message": "Publication does not exist"})
        else:
            targets.append(pub)
    if errors:
        return {"publishable": None, "shop": None, "userErrors": errors}
    for pub in targets:
        pub.product_ids.add(product.id)
    return {
        "publishable": nodes.product(ctx, product),
        "shop": ctx.sandbox.registry.queries["shop"](ctx),
        "userErrors": [],
    }
