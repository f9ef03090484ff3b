"""Merchant edits of the catalog outside `productSet`: `productVariantsBulkUpdate` (price-only updates) and
`productDelete`, which removes the variants and their inventory items and sends `products/delete`.
"""

from __future__ import annotations

from decimal import Decimal

from fakes.shopify.context import Context
from fakes.shopify.registry import registry
from fakes.shopify.state import Product, gid, now, parse_gid


@registry.mutation("productVariantsBulkUpdate")
def product_variants_bulk_update(ctx: Context, variants, **args):
    from fakes.shopify.nodes import product as product_node
    from fakes.shopify.nodes import variant as variant_node

    shop = ctx.shop
    product = shop.products.get(parse_gid(args["productId"], "Product") or 0)
    if product is None:
        return {
            "product": None,
            "productVariants": None,
            "userErrors": [
                {"field": ["productId"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}
            ],
        }
    changed, out = False, []
    for n, vin in enumerate(variants):
        v = shop.variants.get(parse_gid(vin.get("id") or "", "ProductVariant") or 0)
        if v is None or v.product_id != product.id:
            return {
                "product": None,
                "productVariants": None,
                "userErrors": [
                    {
                        "field": ["variants", str(n), "id"],
                        "message": "Product variant does not exist",
                        "code": "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    }
                ],
            }
        if vin.get("price") is not None:
            price = f"{Decimal(str(vin['price'])):.2f}"
            if v.price != price:
                v.price, v.updated_at, changed = price, now(), True
        if "compareAtPrice" in vin:
            compare_at = f"{Decimal(str(vin['compareAtPrice'])):.2f}" if vin["compareAtPrice"] is not None else None
            if v.compare_at_price != compare_at:
                v.compare_at_price, v.updated_at, changed = compare_at, now(), True
        out.append(v)
    if changed:
        from fakes.shopify.resolvers.products import product_webhook_payload

        product.updated_at = now()
        ctx.emit("products/update", product_webhook_payload(ctx, product))
    return {
        "product": product_node(ctx, product),
        "productVariants": [variant_node(ctx, v) for v in out],
        "userErrors": [],
    }


def delete_product(ctx: Context, product: Product) -> None:
    """Remove a product with its variants and their inventory items; orders keep their line data."""
    shop = ctx.shop
    for variant_id in product.variant_ids:
        variant = shop.variants.pop(variant_id, None)
        if variant is not None:
            shop.inventory_items.pop(variant.inventory_item_id, None)
    for publication in shop.publications.values():
        publication.product_ids.discard(product.id)
    del shop.products[product.id]
    ctx.emit("products/delete", {"id": product.id})  # Shopify's body has no admin_graphql_api_id


@registry.mutation("productDelete")
def product_delete(ctx: Context, input, synchronous=True):
    product = ctx.shop.products.get(parse_gid(input["id"], "Product") or 0)
    if product is None:
        return {"deletedProductId": None, "productDeleteOperation": None, "userErrors": [
            {"field": ["id"], "message": "Product does not exist"}]}  # fmt: skip
    from fakes.shopify.resolvers.shop import shop

    delete_product(ctx, product)
    return {"deletedProductId": gid("Product", product.id), "productDeleteOperation": None, "shop": shop(ctx),
            "userErrors": []}  # fmt: skip
