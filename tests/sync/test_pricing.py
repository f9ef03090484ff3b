"""Retail prices: every step of the one pricing function, and the explanation it gives of itself."""

from datetime import timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import PriceException, PriceListItem, utcnow
from portal.services.pricing import compute_retail_price, round_to_ending
from tests.support import factories


def _list(**kw):
    ws = factories.wholesaler().organization
    return factories.price_list(ws, **kw)


def test_list_markup_then_rounding_to_99_explains_each_step(app):
    pl = _list(markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    quote = compute_retail_price(pl, "SKU-1", Decimal("10.00"))
    assert quote.price == Decimal("14.99")
    assert quote.explain().splitlines() == [
        "Base wholesale price: 10.00",
        "List markup 40%: 14.00",
        "Rounded up to end in 0.99: 14.99",
    ]


def test_per_sku_fixed_markup_replaces_the_list_markup(app):
    pl = _list(markup_percent=Decimal("40"))
    db.session.add(PriceListItem(price_list_id=pl.id, sku="SKU-1", markup_kind="fixed", markup_value=Decimal("2.5")))
    db.session.commit()
    assert compute_retail_price(pl, "SKU-1", Decimal("10")).price == Decimal("12.50")
    assert compute_retail_price(pl, "SKU-2", Decimal("10")).price == Decimal("14.00")


def test_per_sku_percent_markup(app):
    pl = _list(markup_percent=Decimal("40"))
    db.session.add(PriceListItem(price_list_id=pl.id, sku="SKU-1", markup_kind="percent", markup_value=Decimal("25")))
    db.session.commit()
    assert compute_retail_price(pl, "SKU-1", Decimal("8.00")).price == Decimal("10.00")


def test_exception_applies_only_between_its_dates_and_reverts_by_itself(app):
    pl = _list(markup_percent=Decimal("100"))
    now = utcnow()
    db.session.add(
        PriceException(price_list_id=pl.id, name="Spring sale", sku="SKU-1", kind="percent_off", value=Decimal("50"),
                       starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    )  # fmt: skip
    db.session.commit()
    during = compute_retail_price(pl, "SKU-1", Decimal("10"), at=now)
    after = compute_retail_price(pl, "SKU-1", Decimal("10"), at=now + timedelta(days=2))
    before = compute_retail_price(pl, "SKU-1", Decimal("10"), at=now - timedelta(days=2))
    assert during.price == Decimal("10.00")
    assert "Spring sale" in during.explain()
    assert after.price == before.price == Decimal("20.00")
    assert "Spring sale" not in after.explain()


def test_fixed_price_exception_then_fx_then_rounding(app):
    pl = _list(markup_percent=Decimal("40"), currency="EUR", fx_rate=Decimal("0.9"), rounding_ending=Decimal("9.99"))
    now = utcnow()
    db.session.add(
        PriceException(price_list_id=pl.id, name="Promo", sku="SKU-1", kind="fixed_price", value=Decimal("30"),
                       starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    )  # fmt: skip
    db.session.commit()
    quote = compute_retail_price(pl, "SKU-1", Decimal("10"), at=now)
    assert quote.currency == "EUR"
    labels = [label for label, _ in quote.steps]
    assert labels[0] == "Base wholesale price" and labels[1] == "List markup 40%"
    assert labels[2].startswith("Exception 'Promo' fixed price")
    assert labels[3] == "Converted to EUR at 0.9"
    assert quote.steps[3][1] == Decimal("27.0")
    assert quote.price == Decimal("29.99")


def test_rounding_endings():
    assert round_to_ending(Decimal("23.40"), Decimal("0.99")) == Decimal("23.99")
    assert round_to_ending(Decimal("24.00"), Decimal("0.99")) == Decimal("24.99")
    assert round_to_ending(Decimal("23.40"), Decimal("9.99")) == Decimal("29.99")
    assert round_to_ending(Decimal("30.50"), Decimal("9.99")) == Decimal("39.99")
    assert round_to_ending(Decimal("23.01"), Decimal("0.00")) == Decimal("24.00")
    assert round_to_ending(Decimal("23.00"), Decimal("0.00")) == Decimal("23.00")


def test_without_a_price_list_the_retail_price_is_the_wholesale_price(app):
    assert compute_retail_price(None, "SKU-1", Decimal("7.5")).price == Decimal("7.50")


def test_cli_explains_a_price(app, runner):
    _user, ws, _sor, _rt, _store, p = factories.trading_pair()
    pl = factories.price_list(ws, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    p.price_list_id = pl.id
    db.session.commit()
    factories.product(ws, skus=("TEE-S",), price="10.00")
    result = runner.invoke(args=["partners", "explain-price", str(p.id), "TEE-S"])
    assert result.exit_code == 0, result.output
    assert "List markup 40%: 14.00" in result.output
    assert "Retail price: 14.99 USD" in result.output
