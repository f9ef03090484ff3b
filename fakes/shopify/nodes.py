"""State object -> schema-shaped dict, one builder per type, shared by every resolver module.

Fields with arguments (nested connections, `inventoryLevel(locationId:)`, `quantities(names:)`) are callables
`fn(info, **args)`, which graphql-core's default resolver calls; everything else is a plain value.
"""

from __future__ import annotations

from fakes.shopify.context import Context, conn_args, connection
from fakes.shopify.state import (
    BulkOperation,
    InventoryItem,
    Location,
    Media,
    Product,
    Publication,
    Variant,
    WebhookSubscription,
    gid,
    iso,
    parse_gid,
)


def location(ctx: Context, loc: Location) -> dict:
    shop = ctx.shop

    def inventory_levels(info, **args):
        items = [i for i in shop.inventory_items.values() if loc.id in i.levels]
        return connection(ctx, items, lambda i: _level(ctx, i, loc.id), **conn_args(args))  # not the field below

    def inventory_level(info, inventoryItemId, includeInactive=False):  # noqa: N803 - schema argument names
        # includeInactive (default false, always passed): the sandbox's levels are all active
        item = shop.inventory_items.get(parse_gid(inventoryItemId, "InventoryItem") or 0)
        return _level(ctx, item, loc.id) if item and loc.id in item.levels else None

    return {
        "__typename": "Location",
        "id": gid("Location", loc.id),
        "legacyResourceId": str(loc.id),
        "name": loc.name,
        "isActive": loc.is_active,
        "isPrimary": loc.is_primary,
        "isFulfillmentService": loc.fulfillment_service_id is not None,
        "fulfillsOnlineOrders": loc.fulfills_online_orders,
        "shipsInventory": True,
        # a callable, resolved only when asked: every level's `location` builds this dict
        "hasActiveInventory": lambda info: any(loc.id in i.levels for i in shop.inventory_items.values()),
        "createdAt": lambda info: iso(loc.created_at),  # lazy: a bulk read builds this per level
        "updatedAt": lambda info: iso(loc.updated_at),
        "inventoryLevels": inventory_levels,
        "inventoryLevel": inventory_level,
        "fulfillmentService": (
            ctx.sandbox.node_for(ctx, gid("FulfillmentService", loc.fulfillment_service_id))
            if loc.fulfillment_service_id
            else None
        ),
    }


def _level(ctx: Context, item: InventoryItem, location_id: int) -> dict:
    quantities = item.levels.get(location_id, {})

    def quantities_field(info, names):
        return [
            {
                "id": f"{gid('InventoryQuantity', item.id)}?location={location_id}&name={n}",
                "name": n,
                "quantity": quantities.get(n, 0),
                "updatedAt": iso(item.updated_at),
            }
            for n in names
        ]

    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{item.id}?inventory_item_id={item.id}&location_id={location_id}",
        "isActive": True,
        "canDeactivate": True,
        "createdAt": lambda info: iso(item.created_at),
        "updatedAt": lambda info: iso(item.updated_at),
        "quantities": quantities_field,
        "item": lambda info: inventory_item(ctx, item),
        "location": lambda info: location(ctx, ctx.shop.locations[location_id]),
    }


def inventory_level(ctx: Context, item: InventoryItem, location_id: int) -> dict:
    return _level(ctx, item, location_id)


def inventory_item(ctx: Context, item: InventoryItem) -> dict:
    shop = ctx.shop

    def levels(info, **args):
        loc_ids = sorted(item.levels)
        return connection(ctx, loc_ids, lambda lid: _level(ctx, item, lid), item_id=lambda lid: lid, **conn_args(args))

    def level(info, locationId, includeInactive=False):  # noqa: N803 - schema argument names
        # includeInactive (default false, always passed): the sandbox's levels are all active
        lid = parse_gid(locationId, "Location")
        return _level(ctx, item, lid) if lid in item.levels else None

    return {
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", item.id),
        "legacyResourceId": str(item.id),
        "sku": item.sku,
        "tracked": item.tracked,
        "requiresShipping": item.requires_shipping,
        "measurement": {
            "id": gid("InventoryItemMeasurement", item.id),
            "weight": dict(item.weight) if item.weight else {"unit": "GRAMS", "value": 0.0},
        },
        "createdAt": lambda info: iso(item.created_at),
        "updatedAt": lambda info: iso(item.updated_at),
        "locationsCount": {"count": len(item.levels), "precision": "EXACT"},
        "inventoryLevels": levels,
        "inventoryLevel": level,
        "variant": lambda info: (
            variant(ctx, shop.variants[item.variant_id]) if item.variant_id in shop.variants else None
        ),
    }


def variant(ctx: Context, v: Variant) -> dict:
    shop = ctx.shop
    item = shop.inventory_items.get(v.inventory_item_id)
    available = sum(lv.get("available", 0) for lv in item.levels.values()) if item else 0
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", v.id),
        "legacyResourceId": str(v.id),
        "title": v.title,
        "displayName": f"{shop.products[v.product_id].title} - {v.title}" if v.product_id in shop.products else v.title,
        "sku": v.sku,
        "barcode": v.barcode,
        "price": v.price,
        "compareAtPrice": v.compare_at_price,
        "position": v.position,
        "inventoryPolicy": v.inventory_policy,
        "inventoryQuantity": available,
        "availableForSale": available > 0 or v.inventory_policy == "CONTINUE",
        "taxable": v.taxable,
        "selectedOptions": [{"name": o["name"], "value": o["value"]} for o in v.option_values],
        "createdAt": lambda info: iso(v.created_at),  # lazy, as below: a bulk read builds one per variant
        "updatedAt": lambda info: iso(v.updated_at),
        "inventoryItem": (lambda info: inventory_item(ctx, item)) if item else None,
        "product": lambda info: product(ctx, shop.products[v.product_id]),
    }


def collection(c) -> dict:
    """A collection as `Product.collections` returns it."""
    return {"__typename": "Collection", "id": gid("Collection", c.id), "title": c.title, "handle": c.handle}


def media_image(m: Media) -> dict:
    """A product image as `Product.media` returns it (a MediaImage)."""
    image = {"id": gid("ImageSource", m.id), "url": m.source, "altText": m.alt, "width": 1024, "height": 1024}
    return {
        "__typename": "MediaImage",
        "id": gid("MediaImage", m.id),
        "alt": m.alt,
        "mediaContentType": m.content_type,
        "status": m.status,
        "fileStatus": m.status,
        "mediaErrors": [],
        "mediaWarnings": [],
        "fileErrors": [],
        "image": image if m.status == "READY" else None,
        "preview": {"status": m.status, "image": image if m.status == "READY" else None},
        "originalSource": {"url": m.source, "fileSize": None},
    }


def product(ctx: Context, p: Product) -> dict:
    shop = ctx.shop

    def variants(info, **args):
        vs = [shop.variants[i] for i in p.variant_ids]
        return connection(ctx, vs, lambda v: variant(ctx, v), **conn_args(args))

    def media(info, **args):
        return connection(ctx, list(p.media), media_image, item_id=lambda m: m.id, **conn_args(args))

    def collections(info, **args):
        held = [c for c in shop.collections.values() if p.id in c.product_ids]
        return connection(ctx, held, collection, **conn_args(args))

    def published_on_publication(info, publicationId):  # noqa: N803 - schema argument names
        pub = shop.publications.get(parse_gid(publicationId, "Publication") or 0)
        return bool(pub and p.id in pub.product_ids)

    prices = [float(shop.variants[i].price) for i in p.variant_ids] or [0.0]
    money = lambda x: {"amount": f"{x:.2f}", "currencyCode": shop.currency}  # noqa: E731
    return {
        "__typename": "Product",
        "id": gid("Product", p.id),
        "legacyResourceId": str(p.id),
        "title": p.title,
        "handle": p.handle,
        "status": p.status,
        "vendor": p.vendor,
        "productType": p.product_type,
        "descriptionHtml": p.description_html,
        "tags": list(p.tags),
        "createdAt": iso(p.created_at),
        "updatedAt": iso(p.updated_at),
        "totalInventory": sum(
            sum(
                lv.get("available", 0)
                for lv in shop.inventory_items[shop.variants[i].inventory_item_id].levels.values()
            )
            for i in p.variant_ids
        ),
        "tracksInventory": True,
        "media": media,
        "mediaCount": {"count": len(p.media), "precision": "EXACT"},
        "hasOnlyDefaultVariant": len(p.variant_ids) == 1 and not p.options,
        "variantsCount": {"count": len(p.variant_ids), "precision": "EXACT"},
        "priceRangeV2": {"minVariantPrice": money(min(prices)), "maxVariantPrice": money(max(prices))},
        "options": [
            {
                "id": gid("ProductOption", o["id"]),
                "name": o["name"],
                "position": n,
                "values": list(o["values"]),
                "optionValues": [
                    {"id": gid("ProductOptionValue", o["id"] * 1000 + k), "name": val, "hasVariants": True}
                    for k, val in enumerate(o["values"])
                ],
            }
            for n, o in enumerate(p.options, start=1)
        ],
        "variants": variants,
        "collections": collections,
        "publishedOnPublication": published_on_publication,
        "resourcePublicationsCount": {
            "count": sum(1 for pub in shop.publications.values() if p.id in pub.product_ids),
            "precision": "EXACT",
        },
    }


def publication(ctx: Context, pub: Publication) -> dict:
    shop = ctx.shop

    def products(info, **args):
        items = [shop.products[i] for i in sorted(pub.product_ids) if i in shop.products]
        return connection(ctx, items, lambda p: product(ctx, p), **conn_args(args))

    return {
        "__typename": "Publication",
        "id": gid("Publication", pub.id),
        "name": pub.name,
        "autoPublish": False,
        "supportsFuturePublishing": False,
        "products": products,
        "includedProductsCount": {"count": len(pub.product_ids), "precision": "EXACT"},
    }


def webhook_subscription(ctx: Context, sub: WebhookSubscription) -> dict:
    return {
        "__typename": "WebhookSubscription",
        "id": gid("WebhookSubscription", sub.id),
        "legacyResourceId": str(sub.id),
        "topic": sub.topic,
        "uri": sub.uri,
        "callbackUrl": sub.uri,
        "format": sub.format,
        "includeFields": list(sub.include_fields),
        "filter": sub.filter,
        "apiVersion": {"handle": ctx.api_version, "displayName": ctx.api_version, "supported": True},
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.uri},
        "createdAt": iso(sub.created_at),
        "updatedAt": iso(sub.created_at),
    }


def bulk_operation(ctx: Context, op: BulkOperation) -> dict:
    done = op.status == "COMPLETED"
    return {
        "__typename": "BulkOperation",
        "id": gid("BulkOperation", op.id),
        "status": op.status,
        "type": op.type,
        "query": op.query,
        "errorCode": op.error_code,
        "objectCount": str(op.object_count),
        "rootObjectCount": str(op.root_object_count),
        "fileSize": str(op.file_size) if op.file_size is not None else None,
        "url": f"{ctx.base_url}/_sandbox/bulk/{ctx.shop.domain}/{op.id}.jsonl" if done and op.lines else None,
        "partialDataUrl": None,
        "createdAt": iso(op.created_at),
        "completedAt": iso(op.completed_at),
    }
