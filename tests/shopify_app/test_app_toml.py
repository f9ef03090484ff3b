"""shopify.app.toml: the keys Shopify CLI reads, the scopes we ask for, every topic pointing at our one endpoint."""

import tomllib
from pathlib import Path
from urllib.parse import urlparse

from integrations.shopify.events import SOR_TOPICS
from jobs.webhook_jobs import HANDLERS

TOML = tomllib.loads((Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text())


def test_the_app_is_embedded_with_its_app_url_on_the_app_home_route(app):
    assert TOML["embedded"] is True and TOML["client_id"] and TOML["name"]
    assert urlparse(TOML["application_url"]).path == "/shopify"
    assert [urlparse(u).path for u in TOML["auth"]["redirect_urls"]] == ["/shopify/auth/callback"]
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/shopify", "/shopify/auth/callback", "/webhooks/shopify"} <= rules


def test_the_scopes_are_the_ones_the_app_checks_for(app):
    assert set(TOML["access_scopes"]["scopes"].split(",")) == set(app.config["SHOPIFY_SCOPES"].split(","))


def test_webhooks_use_api_2026_07_and_every_topic_goes_to_the_one_endpoint(app):
    hooks = TOML["webhooks"]
    assert hooks["api_version"] == app.config["SHOPIFY_API_VERSION"] == "2026-07"
    topics, compliance = set(), set()
    for sub in hooks["subscriptions"]:
        assert urlparse(sub["uri"]).path == "/webhooks/shopify" and sub["uri"].startswith("https://")
        topics |= set(sub.get("topics", []))
        compliance |= set(sub.get("compliance_topics", []))
    assert topics == {"orders/create", "orders/updated", "orders/cancelled", "app/uninstalled", "app/scopes_update"}
    assert compliance == {"customers/data_request", "customers/redact", "shop/redact"}
    # Every app-wide topic has a handler; the other handlers serve the wholesaler's store's own subscriptions
    # (created per shop, never in the TOML) and WooCommerce deliveries.
    per_shop = {
        enum.lower()[::-1].replace("_", "/", 1)[::-1] for enum in SOR_TOPICS
    }  # PRODUCTS_CREATE -> products/create
    woocommerce = {topic for topic in HANDLERS if topic.startswith("woocommerce/")}
    assert topics | compliance | per_shop | woocommerce == set(HANDLERS)
