"""Prices exactly as a wholesaler expects: the cent before the ending, values kept as typed or refused, plain
numbers on every page, the explanation agreeing with the final cent, and no negative or zero-FX price."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import PriceException, PriceList, PriceListItem, utcnow
from portal.services.pricing import PriceRefused, compute_retail_price, plain
from tests.conftest import csrf_token
from tests.support import factories


def _token(client, path="/price-lists/"):
    return csrf_token(client.get(path).get_data(as_text=True))


def _list(**kw):
    return factories.price_list(factories.wholesaler().organization, **kw)


def test_fx_result_is_rounded_to_the_cent_before_the_ending_is_applied(app):
    pl = _list(currency="GBP", fx_rate=Decimal("1.8991"), rounding_ending=Decimal("0.99"))
    quote = compute_retail_price(pl, "SKU-1", Decimal("10.00"))
    assert quote.price == Decimal("18.99")
    assert quote.explain().splitlines() == [
        "Base wholesale price: 10.00",
        "Converted to GBP at 1.8991: 18.99",
        "Already ends in 0.99: 18.99",
    ]


def test_every_explanation_step_follows_from_the_cent_shown_before_it(app):
    # 10.00 x 1.3333 = 13.333 -> 13.33; 13.33 x 1.23456789 = 16.4567... -> 16.46; then up to .99 -> 16.99.
    pl = _list(markup_percent=Decimal("33.33"), fx_rate=Decimal("1.23456789"), rounding_ending=Decimal("0.99"))
    quote = compute_retail_price(pl, "SKU-1", Decimal("10.00"))
    values = [value for _, value in quote.steps]
    assert values == [Decimal("10.00"), Decimal("13.33"), Decimal("16.46"), Decimal("16.99")]
    assert all(v == v.quantize(Decimal("0.01")) for v in values)
    assert values[-1] == quote.price
    assert (Decimal("13.33") * Decimal("1.23456789")).quantize(Decimal("0.01")) == values[2]


def test_a_negative_wholesale_price_is_refused_not_passed_on(app):
    pl = _list(markup_percent=Decimal("40"))
    with pytest.raises(PriceRefused, match="negative price is not passed on"):
        compute_retail_price(pl, "SKU-1", Decimal("-5.00"))
    with pytest.raises(PriceRefused):
        compute_retail_price(None, "SKU-1", Decimal("-0.01"))


def test_a_discount_below_zero_is_refused_rather_than_sent_as_a_negative_price(app):
    pl = _list()
    now = utcnow()
    db.session.add(
        PriceException(price_list_id=pl.id, name="Too much", sku="SKU-1", kind="percent_off", value=Decimal("150"),
                       starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    )  # fmt: skip
    db.session.commit()
    with pytest.raises(PriceRefused, match=r"would be -5\.00"):
        compute_retail_price(pl, "SKU-1", Decimal("10.00"), at=now)


def test_a_stored_fx_rate_of_zero_is_refused_not_treated_as_one(app):
    pl = _list(fx_rate=Decimal("0"))
    with pytest.raises(PriceRefused, match="FX rate of 0"):
        compute_retail_price(pl, "SKU-1", Decimal("10.00"))


def test_plain_never_shows_an_exponent():
    assert plain(Decimal("40.0000")) == "40"
    assert plain(Decimal("10.00000000")) == "10"
    assert plain(Decimal("1.00004900")) == "1.000049"
    assert plain(Decimal("0.9000")) == "0.9"
    assert plain(Decimal("-0.00")) == "0"


def _create(client, **fields):
    data = {"name": "EU", "currency": "EUR", "markup_percent": "0", "fx_rate": "1", "rounding_ending": "", **fields}
    return client.post("/price-lists/", data={**data, "csrf_token": _token(client)}, follow_redirects=True)


def test_an_fx_rate_with_six_decimals_is_kept_exactly_as_typed(client, signed_in):
    _create(client, fx_rate="1.000049", markup_percent="12.345678")
    pl = db.session.execute(select(PriceList).where(PriceList.name == "EU")).scalar_one()
    db.session.refresh(pl)
    assert pl.fx_rate == Decimal("1.000049")
    assert pl.markup_percent == Decimal("12.345678")
    html = client.get(f"/price-lists/{pl.id}").get_data(as_text=True)
    assert 'value="1.000049"' in html and 'value="12.345678"' in html


def test_a_rate_with_more_decimals_than_can_be_kept_is_refused_with_a_message(client, signed_in):
    html = _create(client, fx_rate="1.0000000049").get_data(as_text=True)
    assert "FX rate can have at most 8 decimals" in html
    assert db.session.execute(select(PriceList)).scalars().all() == []


def test_an_fx_rate_of_zero_is_refused_with_a_message_not_saved_as_one(client, signed_in):
    html = _create(client, fx_rate="0").get_data(as_text=True)
    assert "FX rate must be more than zero." in html
    assert db.session.execute(select(PriceList)).scalars().all() == []
    pl = factories.price_list(signed_in.org, fx_rate=Decimal("0.9"))
    client.post(f"/price-lists/{pl.id}", data={"name": "Retail", "currency": "USD", "fx_rate": "0",
                                                "csrf_token": _token(client)})  # fmt: skip
    db.session.refresh(pl)
    assert pl.fx_rate == Decimal("0.9")


def test_a_negative_markup_is_refused_with_a_message(client, signed_in):
    html = _create(client, markup_percent="-10").get_data(as_text=True)
    assert "Markup % must be zero or more." in html


def test_forty_percent_and_fx_ten_show_as_plain_numbers_on_the_list_and_in_the_form(client, signed_in):
    pl = factories.price_list(signed_in.org, markup_percent=Decimal("40"), fx_rate=Decimal("10"))
    db.session.add(PriceListItem(price_list_id=pl.id, sku="SKU-0-A", markup_kind="percent", markup_value=Decimal("20")))
    db.session.commit()
    db.session.expire_all()
    index = client.get("/price-lists/").get_data(as_text=True)
    show = client.get(f"/price-lists/{pl.id}").get_data(as_text=True)
    for html in (index, show):
        assert "E+" not in html
    assert "<td>40%</td><td>10</td>" in index
    assert 'value="40"' in show and 'value="10"' in show and "20%" in show


def test_explaining_a_negative_wholesale_price_shows_the_refusal(client, signed_in):
    pl = factories.price_list(signed_in.org, markup_percent=Decimal("40"))
    variant = signed_in.products[0].variants[0]
    variant.wholesale_price = Decimal("-3.00")
    db.session.commit()
    html = client.get(f"/price-lists/{pl.id}/explain?sku={variant.sku}").get_data(as_text=True)
    assert "a negative price is not passed on" in html and "sells for" not in html


def test_uploaded_markups_keep_six_decimals_and_refuse_more_than_eight(client, signed_in):
    pl = factories.price_list(signed_in.org)
    csv = b"sku,markup_kind,markup_value\nSKU-0-A,percent,12.345678\nSKU-0-B,percent,1.0000000001\n"
    response = client.post(
        f"/price-lists/{pl.id}/items",
        data={"file": (io.BytesIO(csv), "m.csv"), "csrf_token": _token(client, f"/price-lists/{pl.id}")},
        content_type="multipart/form-data",
    )
    assert "Line 3: markup_value" in response.get_data(as_text=True)
    items = db.session.execute(select(PriceListItem.sku, PriceListItem.markup_value)).all()
    assert items == [("SKU-0-A", Decimal("12.345678"))]
