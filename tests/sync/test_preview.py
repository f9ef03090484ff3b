"""Dry runs: each flow says what it would do, and doing so writes nothing (no row, no commit, no mutation)."""

from decimal import Decimal

from sqlalchemy import func, select

from fakes.shopify.resolvers.orders import place_order
from jobs.plan import SYNC_PLAN
from jobs.preview import dry_run
from jobs.targets import targets_for
from portal.extensions import db
from portal.models.base import Base
from tests.sync.conftest import RT_SHOPS, mutation_calls


def _row_counts():
    return {
        t.name: db.session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in Base.metadata.sorted_tables
    }


def _all_mutations(world):
    return [mutation_calls(world.sandbox.shop(d)) for d in world.sandbox.sandbox.shops]


def test_every_preview_writes_nothing(world):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    counts, mutations = _row_counts(), _all_mutations(world)
    for spec in SYNC_PLAN:
        if not spec.manual:
            continue
        for target in targets_for(spec):
            dry = dry_run(spec.name, target)
            assert dry.job_name == spec.name
            db.session.rollback()  # anything a preview left pending would be discarded here, and is checked below
    assert _row_counts() == counts
    assert _all_mutations(world) == mutations


def test_push_preview_counts_what_a_price_change_would_update(world):
    world.sync_catalog()
    world.price_list.markup_percent = Decimal("50")
    db.session.commit()
    dry = dry_run("products.push", f"partnership:{world.partnerships[0].id}")
    assert (dry.create, dry.change, dry.skip) == (0, 3, 0)
    assert any("Force overwrite is off" in note for note in dry.notes)


def test_pull_preview_sees_new_orders_before_they_are_pulled(world):
    world.sync_catalog()
    place_order(world.sandbox.sandbox, RT_SHOPS[0], [("TOTE-1", 1)])
    dry = dry_run("orders.pull", f"connection:{world.stores[0].id}")
    assert dry.create == 1 and dry.sample[0].startswith("receive #")
