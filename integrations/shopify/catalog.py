"""Shopify catalogs: read a wholesaler's products (incremental, or a bulk operation for a full large catalog) and
place products in a retailer's store with `productSet` (new ones DRAFT, keyed by our handle so a retry never
duplicates) or price-only `productVariantsBulkUpdate`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from integrations.base import PlacedVariant, ProductPush, RemoteProduct, RemoteVariant
from integrations.timeutil import parse_iso

PRODUCTS_PAGE = 2  # products per incremental page: each may cost ~360 points (50 variants, 50 images)
# A bulk query is asynchronous: poll its status from 0.05 s, doubling up to 2 s (a small catalog's answer comes
# within a few polls, a 100,000-variant one takes minutes and about one poll every 2 s), for at most 30 minutes.
BULK_POLL_FIRST_SECONDS, BULK_POLL_MAX_SECONDS = 0.05, 2.0
BULK_TIMEOUT_SECONDS = 1800

VARIANT_FIELDS = (
    "id sku title price compareAtPrice barcode taxable inventoryQuantity selectedOptions { name value } "
    "inventoryItem { id requiresShipping measurement { weight { unit value } } }"
)
MEDIA_FIELDS = "... on MediaImage { id alt image { url } }"
GRAMS_PER_UNIT = {"GRAMS": Decimal(1), "KILOGRAMS": Decimal(1000), "OUNCES": Decimal("28.349523125"),
                  "POUNDS": Decimal("453.59237")}  # fmt: skip

PRODUCT_FIELDS = f"""
id title handle status descriptionHtml vendor productType tags updatedAt
options {{ name values }}
collections(first: 25) {{ nodes {{ title }} }}
media(first: 50) {{ nodes {{ {MEDIA_FIELDS} }} }}
variants(first: 50) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }}
"""

PRODUCT_QUERY = f"""
query SyncProduct($id: ID!) {{
  product(id: $id) {{ {PRODUCT_FIELDS} }}
}}
"""

# The rest of a large product's variants (up to 2,048), 150 a page: with weight and shipping each variant costs 5
# points, and a query may cost at most 1,000.
MORE_VARIANTS = f"""
query SyncMoreVariants($id: ID!, $after: String) {{
  product(id: $id) {{
    variants(first: 150, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {VARIANT_FIELDS} }} }}
  }}
}}
"""

PRODUCTS_QUERY = f"""
query SyncProducts($first: Int!, $after: String, $query: String) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {PRODUCT_FIELDS} }}
  }}
}}
"""

PRODUCT_IDS_QUERY = """
query SyncProductIds($after: String) {
  products(first: 250, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } }
}
"""

BULK_PRODUCTS = """
{ products { edges { node {
  id title handle status descriptionHtml vendor productType tags updatedAt options { name values }
  media { edges { node { ... on MediaImage { id alt image { url } } } } }
  collections { edges { node { id title } } }
  variants { edges { node { id sku title price compareAtPrice barcode taxable inventoryQuantity
    selectedOptions { name value } inventoryItem { id requiresShipping measurement { weight { unit value } } } } } }
} } } }
"""

BULK_RUN = """
mutation SyncBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

BULK_STATUS = """
query SyncBulkStatus($id: ID!) {
  bulkOperation(id: $id) { id status errorCode objectCount url }
}
"""

VARIANTS_BY_SKU = """
query SyncVariantsBySku($query: String!, $after: String) {
  productVariants(first: 100, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku inventoryItem { id } product { id handle } }
  }
}
"""

PRODUCT_VARIANTS = """
query SyncProductVariants($id: ID!, $after: String) {
  product(id: $id) {
    handle
    variants(first: 250, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id sku inventoryItem { id } }
    }
  }
}
"""

PRODUCT_SET = """
mutation SyncProductSet($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product {
      id handle media(first: 250) { nodes { id } }
      variants(first: 250) { pageInfo { hasNextPage } nodes { id sku inventoryItem { id } } } }
    userErrors { field message code }
  }
}
"""

VARIANT_PRICES = """
mutation SyncVariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id }
    userErrors { field message code }
  }
}
"""

SKU_QUERY_CHUNK = 40  # SKUs per productVariants search (keeps the query string short)


def _grams(item: dict) -> int | None:
    """The inventory item's weight in whole grams (None when the store holds none)."""
    weight = (item.get("measurement") or {}).get("weight")
    if not weight or weight.get("value") is None:
        return None
    return int((Decimal(str(weight["value"])) * GRAMS_PER_UNIT.get(weight.get("unit"), Decimal(1))).to_integral_value())


def _money(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _images(media: list[dict]) -> list[dict]:
    """The product's images in display order (other media kinds, and images still processing, have no url yet)."""
    return [{"url": m["image"]["url"], "alt": m.get("alt") or ""} for m in media if (m.get("image") or {}).get("url")]


def _variant(node: dict) -> RemoteVariant:
    item = node.get("inventoryItem") or {}
    return RemoteVariant(
        remote_id=node["id"],
        sku=node.get("sku") or "",
        price=Decimal(str(node.get("price") or "0")),
        title=node.get("title") or "",
        barcode=node.get("barcode"),
        option_values=[{"name": o["name"], "value": o["value"]} for o in node.get("selectedOptions") or []],
        inventory_item_id=item.get("id"),
        quantity=node.get("inventoryQuantity") or 0,
        weight_grams=_grams(item),
        compare_at_price=_money(node.get("compareAtPrice")),
        taxable=node.get("taxable") is not False,
        requires_shipping=item.get("requiresShipping") is not False,
    )


def _product(node: dict, variants: list[dict], media: list[dict] | None = None,
             collections: list[dict] | None = None) -> RemoteProduct:  # fmt: skip
    images = _images((node.get("media") or {}).get("nodes") or [] if media is None else media)
    if collections is None:
        collections = (node.get("collections") or {}).get("nodes") or []
    return RemoteProduct(
        remote_id=node["id"],
        title=node["title"],
        updated_at=parse_iso(node.get("updatedAt")),
        description_html=node.get("descriptionHtml") or "",
        vendor=node.get("vendor") or "",
        product_type=node.get("productType") or "",
        tags=list(node.get("tags") or []),
        collections=[c["title"] for c in collections if c.get("title")],
        options=[{"name": o["name"], "values": list(o["values"])} for o in node.get("options") or []],
        variants=[_variant(v) for v in variants],
        status=(node.get("status") or "ACTIVE").lower(),
        images=images,
        image_urls=[i["url"] for i in images],
    )


class CatalogSource:
    """The wholesaler side: read products, incrementally by updated_at or in full."""

    def products(self, updated_since: datetime | None, bulk: bool = True) -> Iterator[RemoteProduct]:
        """Products updated at or after `updated_since` (all when None), oldest update first.

        `bulk=False` never starts a bulk operation (dry runs: only plain queries)."""
        if updated_since is None and bulk:
            # A full read (first run, or reconciliation) is one bulk operation: no pagination, no per-page cost.
            yield from self._bulk_products()
            return
        query = f"updated_at:>='{updated_since.strftime('%Y-%m-%dT%H:%M:%SZ')}'" if updated_since else None
        for node in self.pages(PRODUCTS_QUERY, {"first": PRODUCTS_PAGE, "query": query}, "products"):
            yield _product(node, self._all_variants(node))

    def product(self, remote_id: str) -> RemoteProduct | None:
        """One product with every variant (paged past the first 50), or None when it no longer exists."""
        node = self.gql(PRODUCT_QUERY, {"id": remote_id}).get("product")
        return _product(node, self._all_variants(node)) if node else None

    def _all_variants(self, node: dict) -> list[dict]:
        """A product's variants: the first page came with the product; a large product's others are paged."""
        first = node["variants"]
        variants = list(first["nodes"])
        if first.get("pageInfo", {}).get("hasNextPage"):
            after = first["pageInfo"]["endCursor"]
            while after:
                page = self.gql(MORE_VARIANTS, {"id": node["id"], "after": after})["product"]["variants"]
                variants.extend(page["nodes"])
                after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
        return variants

    def product_ids(self) -> set[str]:
        """Every product id the system of record has now (cheap: ids only), to notice deletions."""
        return {node["id"] for node in self.pages(PRODUCT_IDS_QUERY, {}, "products")}

    def _bulk_products(self) -> Iterator[RemoteProduct]:
        """The whole catalog from one bulk query: children come after their parent with `__parentId`."""
        parent, children, media, collections = None, [], [], []
        for row in self.bulk_rows(BULK_PRODUCTS):
            if "__parentId" in row:
                row_id = row.get("id") or ""
                kind = media if "/MediaImage/" in row_id else collections if "/Collection/" in row_id else children
                kind.append(row)
                continue
            if parent is not None:
                yield _product(parent, children, media, collections)
            parent, children, media, collections = row, [], [], []
        if parent is not None:
            yield _product(parent, children, media, collections)

    def bulk_rows(self, query: str) -> Iterator[dict]:
        """Run a bulk query, wait for it, and yield the rows of its JSONL result."""
        operation = self.mutate(BULK_RUN, {"query": query}, "bulkOperationRunQuery")["bulkOperation"]
        deadline, pause = time.monotonic() + BULK_TIMEOUT_SECONDS, BULK_POLL_FIRST_SECONDS
        while operation["status"] not in ("COMPLETED", "FAILED", "CANCELED", "EXPIRED") or "url" not in operation:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bulk operation did not finish in {BULK_TIMEOUT_SECONDS} s")
            time.sleep(pause)
            pause = min(pause * 2, BULK_POLL_MAX_SECONDS)
            operation = self.gql(BULK_STATUS, {"id": operation["id"]})["bulkOperation"]
        if operation["status"] != "COMPLETED":
            raise RuntimeError(f"bulk operation {operation['status']}: {operation.get('errorCode')}")
        if not operation.get("url"):
            return
        # Streamed line by line through the shared (sandbox-aware) transport: memory stays flat at any catalog size.
        with self.client.http.stream("GET", operation["url"], timeout=60) as answer:
            for line in answer.iter_lines():
                if line.strip():
                    yield json.loads(line)


class CatalogTarget:
    """The retailer side: find variants by SKU, create or update products, update prices only."""

    product_call_cost = 10  # points one productSet costs against the shop's rate limit (for previews)

    def variants_by_sku(self, skus: Iterable[str]) -> dict[str, PlacedVariant]:
        """The store's variants with these SKUs ("Get SKU by ID": link instead of duplicating)."""
        found: dict[str, PlacedVariant] = {}
        skus = sorted({s for s in skus if s})
        for start in range(0, len(skus), SKU_QUERY_CHUNK):
            chunk = skus[start : start + SKU_QUERY_CHUNK]
            query = " OR ".join(f"sku:'{sku}'" for sku in chunk)
            for node in self.pages(VARIANTS_BY_SKU, {"query": query}, "productVariants"):
                if node.get("sku") in chunk:
                    found[node["sku"]] = PlacedVariant(
                        sku=node["sku"],
                        product_id=node["product"]["id"],
                        variant_id=node["id"],
                        inventory_item_id=(node.get("inventoryItem") or {}).get("id"),
                        product_key=node["product"].get("handle"),
                    )
        return found

    def set_product(self, push: ProductPush) -> tuple[str, dict[str, PlacedVariant]]:
        """Create or update a product; returns its id and its variants by SKU."""
        if not push.full:
            return self._set_prices(push)
        product = push.product
        options = product.options or [{"name": "Title", "values": ["Default Title"]}]
        option_names = [o["name"] for o in options]
        data = {
            "files": _files(product.images, push.remote_media or []),
            "title": product.title,
            "descriptionHtml": product.description_html,
            "vendor": product.vendor,
            "productType": product.product_type,
            "tags": product.tags,
            "productOptions": [{"name": o["name"], "values": [{"name": v} for v in o["values"]]} for o in options],
            "variants": [_variant_input(v, option_names, push) for v in push.variants],
        }
        if push.remote_product_id:
            identifier = {"id": push.remote_product_id}
        else:
            # New: DRAFT and published nowhere; our key is its handle, so a retried create updates the same product.
            identifier = {"handle": push.key}
            data |= {"handle": push.key, "status": "DRAFT"}
        payload = self.mutate(PRODUCT_SET, {"identifier": identifier, "input": data}, "productSet")["product"]
        # `files` is ordered and the store's media come back in that order: pair them to remember each image's id.
        media_ids = [m["id"] for m in payload["media"]["nodes"]]
        push.remote_media = [{"url": i["url"], "id": m} for i, m in zip(product.images, media_ids, strict=False)]
        if payload["variants"]["pageInfo"]["hasNextPage"]:  # more than 250 variants: read their ids page by page
            nodes = list(self.pages(PRODUCT_VARIANTS, {"id": payload["id"]}, "product", "variants"))
            payload = {**payload, "variants": {"nodes": nodes}}
        return payload["id"], _placed(payload)

    def set_status(self, remote_product_id: str, status: str) -> None:
        """Set a product's status (ACTIVE | DRAFT | ARCHIVED) and nothing else; never deletes it."""
        data = {"status": status}
        self.mutate(PRODUCT_SET, {"identifier": {"id": remote_product_id}, "input": data}, "productSet")

    def _set_prices(self, push: ProductPush) -> tuple[str, dict[str, PlacedVariant]]:
        variants = [_price_input(v) for v in push.variants if v.get("variant_id")]
        if variants:
            self.mutate(
                VARIANT_PRICES, {"productId": push.remote_product_id, "variants": variants}, "productVariantsBulkUpdate"
            )
        return push.remote_product_id, {}


def _variant_input(variant: dict, option_names: list[str], push: ProductPush) -> dict:
    values = variant.get("option_values") or []
    by_name = {o["name"]: o["value"] for o in values}
    option_values = [{"optionName": name, "name": by_name.get(name, "Default Title")} for name in option_names]
    data = {
        "sku": variant["sku"],
        "price": str(variant["price"]),
        "compareAtPrice": _money_str(variant.get("compare_at_price")),
        "optionValues": option_values,
        "barcode": variant.get("barcode") or None,
        "taxable": variant.get("taxable", True) is not False,
    }
    item = {"requiresShipping": variant.get("requires_shipping", True) is not False}
    if variant.get("weight_grams") is not None:
        item["measurement"] = {"weight": {"unit": "GRAMS", "value": float(variant["weight_grams"])}}
    data["inventoryItem"] = item
    if variant.get("variant_id"):
        data["id"] = variant["variant_id"]
    elif push.placement:
        # Only a new variant gets its first stock here, at our fulfillment-service location (never the retailer's).
        location_id = push.placement["location_id"]
        data["inventoryQuantities"] = [
            {"locationId": location_id, "name": "available", "quantity": max(0, int(variant["quantity"]))}
        ]
    return data


def _money_str(value) -> str | None:
    return str(value) if value is not None else None


def _price_input(variant: dict) -> dict:
    """A price-only update: the price and the compare-at price (both count as price)."""
    data = {"id": variant["variant_id"], "price": str(variant["price"])}
    if "compare_at_price" in variant:  # a product linked by SKU keeps the retailer's own compare-at price
        data["compareAtPrice"] = _money_str(variant["compare_at_price"])
    return data


def _files(images: list[dict], placed: list[dict]) -> list[dict]:
    """`files` for productSet: an image placed before is kept by its media id (its alt may change); a new or changed
    image is sent by URL. Images left out are removed by the store, so a changed image replaces the old one."""
    ids = {m["url"]: m["id"] for m in placed}
    files = []
    for image in images:
        if image["url"] in ids:
            files.append({"id": ids.pop(image["url"]), "alt": image.get("alt") or ""})
        else:
            files.append({"originalSource": image["url"], "contentType": "IMAGE", "alt": image.get("alt") or ""})
    return files


def _placed(product: dict) -> dict[str, PlacedVariant]:
    return {
        node["sku"]: PlacedVariant(
            sku=node["sku"],
            product_id=product["id"],
            variant_id=node["id"],
            inventory_item_id=(node.get("inventoryItem") or {}).get("id"),
            product_key=product.get("handle"),
        )
        for node in product["variants"]["nodes"]
        if node.get("sku")
    }
