"""Stock events that arrive together are read back together: each `inventory_levels/update` receipt notes its item
and is processed at once, and one queued read of the connection takes every item noted meanwhile (the chaos soak's
echo of our own order creations re-read one item per event). No event is lost: a read that fails gives its items
back and its retry reads them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs.flows import stock_events
from jobs.runtime import connection
from jobs.worker import make_worker
from portal.models import WebhookReceipt
from tests.sync.test_events_stock import placed_and_subscribed, retailer_level, set_sor_stock, settle

SKUS = {"TOTE-1": 6, "SHIRT-S": 1, "SHIRT-M": 4, "SCARF-1": 9}


@pytest.fixture
def events(world, app):
    return placed_and_subscribed(world, app)


def level_reads(world) -> int:
    """Calls to the wholesaler's store that read variants' levels back (the stock events' re-read)."""
    return sum(1 for r in world.sor_shop().requests if r["root_fields"] == ["nodes"])


def stock_receipts() -> list[WebhookReceipt]:
    return list(
        stock_events.db.session.execute(
            select(WebhookReceipt).where(WebhookReceipt.topic == "inventory_levels/update")
        ).scalars()
    )


def test_a_burst_of_stock_events_on_several_items_is_read_back_in_one_call(events, app):
    for sku, quantity in SKUS.items():
        set_sor_stock(events, sku, quantity)
    before = level_reads(events)
    events.sandbox.deliver_webhooks()
    make_worker(app).work(burst=True)  # the receipts first, then the one read queued behind them
    assert level_reads(events) - before == 1
    receipts = stock_receipts()
    assert len(receipts) == len(SKUS) and all(r.processed_at is not None for r in receipts)
    settle(events, app)
    for sku, quantity in SKUS.items():
        assert [retailer_level(events, n, sku) for n in range(2)] == [quantity, quantity], sku


def test_a_read_that_fails_gives_its_items_back_and_its_retry_reads_them(events, app, monkeypatch):
    sor_class = type(stock_events.system_of_record(events.sor))
    real = sor_class.variant_levels
    key = "test:variant-levels-calls"  # the work-horse is a forked process: it tells what it read through Redis

    def fails_once(self, ids):
        if connection().rpush(key, ",".join(sorted(ids))) == 1:
            raise RuntimeError("the store answered 503")
        return real(self, ids)

    monkeypatch.setattr(sor_class, "variant_levels", fails_once)
    set_sor_stock(events, "SHIRT-M", 2)
    set_sor_stock(events, "SCARF-1", 8)
    settle(events, app, rounds=8)
    calls = connection().lrange(key, 0, -1)
    assert len(calls) == 2 and calls[0] == calls[1] and calls[0].count(b",") == 1  # the retry read both again
    assert all(r.processed_at is not None for r in stock_receipts())
    assert [retailer_level(events, n, "SHIRT-M") for n in range(2)] == [2, 2]
    assert [retailer_level(events, n, "SCARF-1") for n in range(2)] == [8, 8]
    assert not connection().exists(stock_events.ITEMS.format(connection=events.sor.id))
