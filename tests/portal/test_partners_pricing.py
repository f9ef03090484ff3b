"""Partners and price lists: invitations, flags and toggles, CSV uploads with per-line errors, explain a price."""

import io
from decimal import Decimal

from sqlalchemy import select

from portal.extensions import db
from portal.models import SYNC_TOGGLES, Partnership, PriceList, PriceListItem
from tests.conftest import csrf_token
from tests.support import factories


def _token(client, path="/partners/"):
    return csrf_token(client.get(path).get_data(as_text=True))


def test_partner_list_shows_invite_status_and_only_this_wholesalers_partners(client, signed_in, other):
    factories.partnership(signed_in.org, None, status="invited", invite_email="shop@example.com")
    html = client.get("/partners/").get_data(as_text=True)
    assert signed_in.retailer.name in html and "sent to shop@example.com" in html
    assert other.retailer.name not in html


def test_invite_by_email_with_a_price_list(client, signed_in):
    pl = factories.price_list(signed_in.org, name="Wholesale +40")
    response = client.post(
        "/partners/invite", data={"email": "new@example.com", "price_list": pl.id, "csrf_token": _token(client)}
    )
    assert response.status_code == 302
    p = db.session.execute(select(Partnership).where(Partnership.invite_email == "new@example.com")).scalar_one()
    assert (p.status, p.price_list_id, p.wholesaler_id) == ("invited", pl.id, signed_in.org.id)


def test_invite_refuses_another_wholesalers_price_list(client, signed_in, other):
    foreign = factories.price_list(other.org)
    response = client.post(
        "/partners/invite", data={"email": "x@example.com", "price_list": foreign.id, "csrf_token": _token(client)}
    )
    assert response.status_code == 400
    assert db.session.execute(select(Partnership).where(Partnership.invite_email == "x@example.com")).first() is None


def test_partner_csv_imports_good_lines_and_reports_bad_ones(client, signed_in):
    factories.price_list(signed_in.org, name="Standard")
    csv = (
        b"email,price_list,force_overwrite\n"
        b"a@example.com,Standard,yes\nnot-an-email,,\nb@example.com,Missing,\nc@example.com,,no\n"
    )
    response = client.post(
        "/partners/upload",
        data={"file": (io.BytesIO(csv), "partners.csv"), "csrf_token": _token(client)},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3: email" in html and "Line 4: no price list called &#39;Missing&#39;" in html
    emails = set(
        db.session.execute(select(Partnership.invite_email).where(Partnership.invite_email.is_not(None))).scalars()
    )
    assert emails == {"a@example.com", "c@example.com"}
    a = db.session.execute(select(Partnership).where(Partnership.invite_email == "a@example.com")).scalar_one()
    assert a.force_overwrite is True and a.price_list.name == "Standard"


def test_partner_settings_save_flags_and_the_eight_toggles(client, signed_in, world):
    url = f"/partners/{world.partnership.id}"
    html = client.get(url).get_data(as_text=True)
    for toggle in SYNC_TOGGLES:
        assert f'name="{toggle}"' in html
    data = {
        "csrf_token": csrf_token(html),
        "force_overwrite": "on",
        "billing_enabled": "on",
        "stock_buffer": "2",
        "sync_orders_from_retailer": "on",
    }
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(world.partnership)
    p = world.partnership
    assert (p.force_overwrite, p.billing_enabled, p.stock_buffer) == (True, True, 2)
    assert [t for t in SYNC_TOGGLES if getattr(p, t)] == ["sync_orders_from_retailer"]


def test_partnership_can_be_paused(client, signed_in, world):
    token = _token(client, f"/partners/{world.partnership.id}")
    client.post(f"/partners/{world.partnership.id}/status", data={"status": "paused", "csrf_token": token})
    db.session.refresh(world.partnership)
    assert world.partnership.status == "paused"


def test_price_list_is_created_and_edited(client, signed_in):
    token = _token(client, "/price-lists/")
    data = {"name": "EU", "currency": "eur", "markup_percent": "40", "fx_rate": "0.9", "rounding_ending": "0.99"}
    response = client.post("/price-lists/", data={**data, "csrf_token": token})
    pl = db.session.execute(select(PriceList).where(PriceList.name == "EU")).scalar_one()
    assert response.headers["Location"].endswith(f"/price-lists/{pl.id}")
    assert (pl.currency, pl.markup_percent, pl.fx_rate) == ("EUR", Decimal("40"), Decimal("0.9"))
    client.post(f"/price-lists/{pl.id}", data={**data, "markup_percent": "abc", "csrf_token": token})
    db.session.refresh(pl)
    assert pl.markup_percent == Decimal("40")  # refused, unchanged


def test_markup_csv_saves_good_lines_and_reports_bad_ones(client, signed_in):
    pl = factories.price_list(signed_in.org)
    csv = (
        b"sku,markup_kind,markup_value\n"
        b"SKU-0-A,fixed,2.50\nSKU-0-B,bogus,1\n,percent,5\nSKU-1-A,percent,abc\nSKU-1-B,percent,10\n"
    )
    response = client.post(
        f"/price-lists/{pl.id}/items",
        data={"file": (io.BytesIO(csv), "m.csv"), "csrf_token": _token(client, f"/price-lists/{pl.id}")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3: markup_kind" in html and "Line 4: the sku is empty" in html and "Line 5: markup_value" in html
    items = db.session.execute(select(PriceListItem.sku, PriceListItem.markup_value)).all()
    assert sorted(items) == [("SKU-0-A", Decimal("2.5")), ("SKU-1-B", Decimal("10"))]


def test_explain_this_price_shows_each_step(client, signed_in):
    pl = factories.price_list(signed_in.org, markup_percent=Decimal("40"), rounding_ending=Decimal("0.99"))
    html = client.get(f"/price-lists/{pl.id}/explain?sku=SKU-0-A", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "Base wholesale price: 10.00" in html and "List markup 40%: 14.00" in html and "14.99" in html
    missing = client.get(f"/price-lists/{pl.id}/explain?sku=NOPE").get_data(as_text=True)
    assert "No variant with SKU" in missing


def test_explain_does_not_price_another_wholesalers_sku(client, signed_in, other):
    factories.product(other.org, skus=("THEIRS-1",))
    pl = factories.price_list(signed_in.org)
    html = client.get(f"/price-lists/{pl.id}/explain?sku=THEIRS-1").get_data(as_text=True)
    assert "No variant with SKU" in html
