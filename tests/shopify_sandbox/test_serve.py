"""`python -m fakes.serve`: one process serving the sandbox (demo shops seeded) and the other fakes by prefix."""

from __future__ import annotations

import argparse
import json

from werkzeug.test import Client

from fakes.serve import build, seed_demo
from portal.demo import WHOLESALER_SHOP, sandbox_token


def test_serve_seeds_demo_shops_and_mounts_other_fakes():
    args = argparse.Namespace(app_url="http://localhost:5000", restore_rate=100.0, maximum_available=2000.0)
    sandbox, app = build(args)
    sandbox.outbox.auto_deliver = False
    seed_demo(sandbox)
    client = Client(app)
    response = client.post(
        "/admin/api/2026-07/graphql.json",
        json={"query": "{ productVariants(first: 50) { nodes { sku inventoryQuantity } } }"},
        headers={"Host": WHOLESALER_SHOP, "X-Shopify-Access-Token": sandbox_token(WHOLESALER_SHOP)},
    )
    variants = json.loads(response.data)["data"]["productVariants"]["nodes"]
    assert {"sku": "TEE-M", "inventoryQuantity": 55} in variants
    assert set(app.mounts) >= {"/stripe", "/apruve"}
