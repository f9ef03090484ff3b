"""Properties of the merge of one invoice's gateway events: any delivery order ends in the state time order gives,
and paid/void/uncollectible are never undone (portal.services.billing.events.merge_status and confirmed_status)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.billing.events import confirmed_status, merge_status
from portal.services.billing.ledger import FINAL_STATUSES

SETTINGS = settings(max_examples=500, deadline=None, derandomize=True)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
NON_FINAL = ("sent", "payment_failed")


@st.composite
def histories(draw):
    """One invoice's events with distinct times: non-final ones and at most one kind of final state (a real
    invoice ends paid or void, not both), and a delivery order (a permutation of them)."""
    final = draw(st.sampled_from([None, *FINAL_STATUSES]))
    kinds = st.sampled_from(NON_FINAL + ((final,) if final else ()))
    seconds = draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=8, unique=True))
    events = [(draw(kinds), T0 + timedelta(seconds=s)) for s in seconds]
    delivery = draw(st.permutations(events))
    return events, delivery


def _fold(events, start=("sent", None)):
    status, as_of = start
    seen = []
    for new, at in events:
        merged = merge_status(status, as_of, new, at)
        if merged is not None:
            status, as_of = merged
        seen.append(status)
    return status, seen


@SETTINGS
@given(histories())
def test_events_applied_in_any_order_end_in_the_state_time_order_gives(history):
    events, delivery = history
    in_time_order, _ = _fold(sorted(events, key=lambda e: e[1]))
    delivered, _ = _fold(delivery)
    assert delivered == in_time_order


@SETTINGS
@given(histories())
def test_a_final_state_is_never_left_whatever_arrives_after_it(history):
    _, delivery = history
    _, seen = _fold(delivery)
    for earlier, later in itertools.pairwise(seen):
        if earlier in FINAL_STATUSES:
            assert later == earlier


@SETTINGS
@given(st.sampled_from((*NON_FINAL, *FINAL_STATUSES)), st.sampled_from(("draft", "open", *FINAL_STATUSES)))
def test_only_a_state_the_gateway_reports_can_become_final(claimed, fetched):
    applied = confirmed_status(claimed, fetched)
    if applied in FINAL_STATUSES:
        assert applied == fetched  # a payload never makes an invoice paid or void by itself
    if fetched == "draft":
        assert applied is None
