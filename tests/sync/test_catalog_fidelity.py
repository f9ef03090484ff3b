"""The whole product reaches the retailer's copy: images with alt text and order, weight, compare-at price,
barcode, requires-shipping and taxable; a changed image replaces the old one; nothing changed, nothing written.
"""

from portal.services import partnerships
from tests.sync.conftest import mutation_calls

WS = "acme-wholesale.myshopify.com"
SET = "mutation($id: ID!, $i: ProductSetInput!) { productSet(identifier: {id: $id}, input: $i) { product { id } } }"


def _dress_tote(world, images):
    world.sandbox.graphql(WS, SET, {"id": world.seeded["Canvas Tote"]["product_id"], "i": {
        "files": [{"originalSource": url, "contentType": "IMAGE", "alt": alt} for url, alt in images],
        "variants": [{"optionValues": [{"optionName": "Title", "name": "TOTE-1"}], "sku": "TOTE-1", "price": "10.00",
                      "compareAtPrice": "25.00", "barcode": "0123456789012", "taxable": False,
                      "inventoryItem": {"requiresShipping": False,
                                        "measurement": {"weight": {"unit": "KILOGRAMS", "value": 1.25}}}}],
    }})  # fmt: skip


def _retailer_tote(world, n=0):
    shop = world.store_shop(n)
    variant = shop.variant_by_sku("TOTE-1")
    return shop, shop.products[variant.product_id], variant


def test_images_weight_compare_at_barcode_shipping_and_tax_reach_the_retailers_draft(world):
    _dress_tote(world, [("https://cdn.example/tote-front.jpg", "Front"), ("https://cdn.example/tote-back.jpg", "Back")])
    world.sync_catalog()
    shop, product, variant = _retailer_tote(world)
    assert product.status == "DRAFT"
    assert [(m.source, m.alt) for m in product.media] == [
        ("https://cdn.example/tote-front.jpg", "Front"), ("https://cdn.example/tote-back.jpg", "Back")]  # fmt: skip
    item = shop.inventory_items[variant.inventory_item_id]
    assert (variant.compare_at_price, variant.barcode, variant.taxable) == ("25.00", "0123456789012", False)
    assert item.requires_shipping is False and item.weight == {"unit": "GRAMS", "value": 1250.0}


def test_a_changed_image_is_replaced_not_duplicated(world):
    partnerships.set_force_overwrite(world.partnerships[0].id, True)
    _dress_tote(world, [("https://cdn.example/tote-front.jpg", "Front"), ("https://cdn.example/tote-back.jpg", "Back")])
    world.sync_catalog()
    _, product, _ = _retailer_tote(world)
    front_id = product.media[0].id
    _dress_tote(world, [("https://cdn.example/tote-front.jpg", "Front"), ("https://cdn.example/tote-side.jpg", "Side")])
    world.sync_catalog()
    _, product, _ = _retailer_tote(world)
    assert [(m.source, m.alt) for m in product.media] == [
        ("https://cdn.example/tote-front.jpg", "Front"), ("https://cdn.example/tote-side.jpg", "Side")]  # fmt: skip
    assert product.media[0].id == front_id  # the unchanged image is kept, not uploaded again


def test_without_force_overwrite_compare_at_follows_as_price_but_images_stay(world):
    world.sync_catalog()
    _dress_tote(world, [("https://cdn.example/tote-front.jpg", "Front")])
    world.sync_catalog()
    _, product, variant = _retailer_tote(world)
    assert variant.compare_at_price == "25.00"  # compare-at counts as price
    assert product.media == [] and variant.taxable is True  # the rest is the retailer's after the first load


def test_re_push_of_a_full_product_with_nothing_changed_makes_zero_writes(world):
    partnerships.set_force_overwrite(world.partnerships[0].id, True)
    _dress_tote(world, [("https://cdn.example/tote-front.jpg", "Front"), ("https://cdn.example/tote-back.jpg", "Back")])
    world.sync_catalog()
    before = mutation_calls(world.store_shop(0))
    world.sync_catalog()
    assert mutation_calls(world.store_shop(0)) == before
