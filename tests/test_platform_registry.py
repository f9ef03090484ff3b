"""The platform registry: a platform registers its adapters once; an unknown platform or role is a clear error."""

from __future__ import annotations

import pytest

from integrations.registry import AdapterContext, Registry, UnknownPlatform, registry
from integrations.shopify.adapters import ShopifyRetailerStore, ShopifySystemOfRecord
from integrations.woocommerce.adapters import WooRetailerStore, WooSystemOfRecord
from portal.models import Connection


def test_shopify_is_registered_for_both_sides():
    assert "shopify" in registry.names()
    conn = Connection(platform="shopify", role="store", address="a.myshopify.com")
    # Redis is touched only by the cost bucket when a call is sent; building a client just registers its scripts.
    settings = {"SHOPIFY_API_VERSION": "2026-07"}
    context = AdapterContext(token=lambda: "shpat_x", redis=_ScriptlessRedis(), settings=settings, http=None)
    store = registry.retailer_store("shopify")(conn, context)
    sor = registry.system_of_record("shopify")(conn, context)
    assert isinstance(store, ShopifyRetailerStore) and isinstance(sor, ShopifySystemOfRecord)
    assert store.client.shop == "a.myshopify.com" and store.client.api_version == "2026-07"
    assert store.client.token() == "shpat_x"


def test_an_unknown_platform_is_refused_with_the_known_ones_named():
    with pytest.raises(UnknownPlatform, match=r"magento.*registered: csv, shopify, woocommerce"):
        registry.system_of_record("magento")


def test_woocommerce_is_registered_for_both_sides_with_its_own_http_client():
    conn = Connection(platform="woocommerce", role="store", address="https://shop.example", api_key="ck_1")
    context = AdapterContext(token=lambda: "cs_1", redis=None, settings={}, http=None)
    store = registry.retailer_store("woocommerce")(conn, context)
    sor = registry.system_of_record("woocommerce")(conn, context)
    assert isinstance(store, WooRetailerStore) and isinstance(sor, WooSystemOfRecord)
    assert (store.client.site, store.client.consumer_key, store.client.consumer_secret) == (
        "https://shop.example",
        "ck_1",
        "cs_1",
    )
    assert store.client.secure  # https: Basic auth, not OAuth
    assert registry.platform("woocommerce").http_client is not None


def test_a_platform_registers_once_and_only_for_the_sides_it_serves():
    local = Registry(packages=())
    local.register("csv", system_of_record=lambda connection, context: ("feed", connection))
    assert local.system_of_record("csv")("conn", None) == ("feed", "conn")
    with pytest.raises(UnknownPlatform, match="cannot be a retailer store"):
        local.retailer_store("csv")
    with pytest.raises(ValueError, match="already registered"):
        local.register("csv")


class _ScriptlessRedis:
    def register_script(self, script):
        return lambda **kwargs: None
