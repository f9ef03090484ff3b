"""Properties of the pricing engine: never negative, whole cents, monotonic in the wholesale price, the ending is
respected (applied to the price already rounded to the cent), and the explanation's last step is the price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.models import PriceException, PriceList, PriceListItem
from portal.services.pricing import CENT, compute_retail_price, round_to_ending

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=500, places=4, allow_nan=False, allow_infinity=False)
fx_rates = st.decimals(min_value=Decimal("0.0001"), max_value=200, places=6, allow_nan=False, allow_infinity=False)
endings = st.sampled_from([None, "0.00", "0.49", "0.95", "0.99", "4.95", "9.99", "19.99"]).map(
    lambda e: None if e is None else Decimal(e)
)


@st.composite
def price_lists(draw) -> PriceList:
    """A price list (not stored) with a list markup, maybe a per-SKU markup, maybe an exception active now."""
    pl = PriceList(
        name="Generated", currency="EUR", markup_percent=draw(rates), fx_rate=draw(fx_rates),
        rounding_ending=draw(endings),
    )  # fmt: skip
    item = draw(st.sampled_from([None, "fixed", "percent"]))
    if item == "fixed":
        pl.items.append(PriceListItem(sku="SKU", markup_kind="fixed", markup_value=draw(money)))
    elif item == "percent":
        pl.items.append(PriceListItem(sku="SKU", markup_kind="percent", markup_value=draw(rates)))
    exception = draw(st.sampled_from([None, "percent_off", "fixed_price"]))
    if exception:
        value = draw(st.decimals(min_value=0, max_value=100, places=2)) if exception == "percent_off" else draw(money)
        pl.exceptions.append(
            PriceException(
                sku="SKU", name="Sale", kind=exception, value=value,
                starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1),
            )
        )  # fmt: skip
    return pl


@SETTINGS
@given(price_lists(), money)
def test_the_price_is_never_negative_is_in_whole_cents_and_the_last_step_of_the_explanation_is_the_price(pl, base):
    quote = compute_retail_price(pl, "SKU", base, at=NOW)
    assert quote.price >= 0
    assert quote.price == quote.price.quantize(CENT)
    assert quote.steps[-1][1] == quote.price
    assert all(value == value.quantize(CENT) for _, value in quote.steps)  # each step starts from whole cents


@SETTINGS
@given(price_lists(), money, money)
def test_for_a_fixed_list_a_higher_wholesale_price_never_gives_a_lower_retail_price(pl, a, b):
    low, high = sorted((a, b))
    assert compute_retail_price(pl, "SKU", low, at=NOW).price <= compute_retail_price(pl, "SKU", high, at=NOW).price


@SETTINGS
@given(price_lists(), money)
def test_the_ending_is_applied_to_the_price_rounded_to_the_cent_and_never_lowers_it(pl, base):
    quote = compute_retail_price(pl, "SKU", base, at=NOW)
    if pl.rounding_ending is None:
        return
    before_ending = quote.steps[-2][1]  # the cent-rounded price the ending starts from
    ending = pl.rounding_ending
    block = Decimal(10) ** (len(str(int(ending))) if ending >= 1 else 0)
    assert quote.price >= before_ending
    assert quote.price - before_ending < block  # the nearest such value, not a later one
    assert (quote.price - ending) % block == 0  # it ends in the ending
    if (before_ending - ending) % block == 0:
        assert quote.price == before_ending  # already ending right: unchanged (18.99 stays 18.99)


@SETTINGS
@given(money, endings.filter(lambda e: e is not None))
def test_round_to_ending_is_idempotent(price, ending):
    once = round_to_ending(price, ending)
    assert round_to_ending(once, ending) == once
