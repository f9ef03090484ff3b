"""Resolver modules; importing this package registers them all with `fakes.shopify.registry.registry`.

To add one: create `fakes/shopify/resolvers/<area>.py` using `@registry.query` / `@registry.mutation`, and add
its name to MODULES below (modules that do not exist yet are skipped, so parallel work can land in any order).
"""

from __future__ import annotations

import importlib

MODULES = (
    "shop",
    "products",
    "inventory",
    "publications",
    "webhooks",
    "bulk",
    "orders",
    "fulfillments",
    "product_changes",
    "order_changes",
)

for _name in MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_name}":
            raise
