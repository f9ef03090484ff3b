"""What every sync benchmark shares: the partnership it trades on, waiting for an outcome, and the p95 it reports."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal


def bench_partnership(wholesaler_id: int, retailer_id: int):
    """The benchmark's one partnership (active, on a 40 % markup price list ending in .99), committed."""
    from portal.extensions import db
    from portal.models import Partnership, PriceList, utcnow

    price_list = PriceList(wholesaler_id=wholesaler_id, name="Retail", markup_percent=Decimal("40"),
                           rounding_ending=Decimal("0.99"))  # fmt: skip
    db.session.add(price_list)
    db.session.flush()
    partnership = Partnership(wholesaler_id=wholesaler_id, retailer_id=retailer_id, status="active",
                              invite_code="bench", price_list_id=price_list.id, accepted_at=utcnow())  # fmt: skip
    db.session.add(partnership)
    db.session.commit()
    return partnership


def wait_for(predicate, timeout: float = 120.0) -> bool:
    """Poll `predicate` every 20 ms until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def p95(samples: list[float]) -> float:
    """The 95th percentile in seconds, rounded to the millisecond (a single sample stands for itself)."""
    if len(samples) < 2:
        return round(samples[0], 3) if samples else 0.0
    return round(statistics.quantiles(samples, n=20, method="inclusive")[18], 3)
