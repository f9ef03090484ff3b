"""`python -m benchmarks.chaos.prices`: the price-list price of each SKU, computed by the product's pricing engine.

Reads {partnership id: {sku: wholesale price}} as JSON on stdin (the wholesale prices the wholesaler's store shows
now) and prints {partnership id: {sku: retail price}}; run in the soak's environment, so it reads its database.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal


def main() -> None:
    from portal import create_app
    from portal.extensions import db
    from portal.models import Partnership
    from portal.services.pricing import compute_retail_price

    wanted = json.load(sys.stdin)
    out = {}
    with create_app().app_context():
        for pid, skus in wanted.items():
            partnership = db.session.get(Partnership, int(pid))
            out[pid] = {
                sku: str(compute_retail_price(partnership.price_list, sku, Decimal(price)).price)
                for sku, price in skus.items()
            }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
