"""The wholesaler's page for what a retailer carries (/catalog/selection/<partnership_id>): the form, the preview
(nothing saved), saving (the push is requested), refusals with a clear 400, CSRF and tenancy."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Listing, ProductSelection, SyncRun
from portal.services import selection
from tests.conftest import csrf_token
from tests.support import factories


def _url(world) -> str:
    return f"/catalog/selection/{world.partnership.id}"


def _describe(world) -> None:
    """Product 0: vendor Acme, tag eco; product 1: vendor Bolt, tag eco; product 2: vendor Acme, no tag."""
    for product, vendor, tags in zip(world.products, ("Acme", "Bolt", "Acme"), (["eco"], ["eco"], []), strict=True):
        product.vendor, product.tags = vendor, tags
    db.session.commit()


def _list_all(world) -> None:
    """Every product already placed in the retailer's store (as a first push would leave them)."""
    for n, product in enumerate(world.products):
        remote = f"gid://shopify/Product/9{n}"
        listing = Listing(partnership_id=world.partnership.id, product_id=product.id,
                          retailer_connection_id=world.store.id, remote_product_id=remote)  # fmt: skip
        db.session.add(listing)
    db.session.commit()


def _post(client, world, **data):
    token = csrf_token(client.get(_url(world)).get_data(as_text=True))
    return client.post(_url(world), data={"csrf_token": token, **data})


def _saved(world):
    return db.session.execute(
        select(ProductSelection).where(ProductSelection.partnership_id == world.partnership.id)
    ).scalar_one_or_none()


def test_the_page_offers_the_three_modes_the_catalogs_values_and_the_picker(client, signed_in):
    _describe(signed_in)
    html = client.get(_url(signed_in)).get_data(as_text=True)
    assert 'value="all" checked' in html and 'value="rules"' in html and 'value="picked"' in html
    assert "Now: the whole catalog." in html
    assert "In your catalog: Acme, Bolt" in html and "In your catalog: eco" in html
    for product in signed_in.products:
        assert f'name="product_id" value="{product.id}"' in html


def test_the_partner_page_links_to_it(client, signed_in):
    html = client.get(f"/partners/{signed_in.partnership.id}").get_data(as_text=True)
    assert f'href="/catalog/selection/{signed_in.partnership.id}"' in html


def test_preview_counts_what_would_be_added_and_returned_to_draft_and_saves_nothing(client, signed_in):
    _describe(signed_in)
    _list_all(signed_in)
    answer = _post(client, signed_in, mode="rules", vendors="acme", tags="ECO, bags", action="preview")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<strong>0</strong> product(s) will be added" in html
    assert "<strong>2</strong>\n    returned to draft" in html  # Bolt's and the untagged one
    assert "the retailer will carry 1 product(s)" in html
    assert _saved(signed_in) is None
    assert 'value="ECO, bags"' in html  # the form keeps what was typed


def test_saving_a_hand_picked_selection_stores_it_and_requests_the_push(client, signed_in):
    first, second = signed_in.products[0].id, signed_in.products[1].id
    answer = _post(client, signed_in, mode="picked", product_id=[str(first), str(second)], action="save")
    assert answer.status_code == 302
    row = _saved(signed_in)
    assert (row.mode, row.product_ids, row.wholesaler_id) == ("picked", [first, second], signed_in.org.id)
    run = db.session.execute(
        select(SyncRun).where(SyncRun.job_name == "products.push", SyncRun.status == "queued")
    ).scalar_one()
    assert run.target_key == f"partnership:{signed_in.partnership.id}"
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Saved: the retailer carries 2 hand-picked product(s). 2 product(s) will be added as drafts" in html
    assert "Now: 2 hand-picked product(s)." in html
    assert html.count("checked") >= 3  # the mode and both picks


def test_saving_the_whole_catalog_after_rules_goes_back_to_all(client, signed_in):
    _describe(signed_in)
    _post(client, signed_in, mode="rules", tags="eco", action="save")
    assert selection.selection_of(signed_in.partnership).rules["tags"] == ("eco",)
    _post(client, signed_in, mode="all", tags="eco", action="save")
    assert selection.selection_of(signed_in.partnership) == selection.Selection()


def test_refusals_answer_400_with_the_reason_and_save_nothing(client, signed_in, other):
    cases = [
        ({"mode": "some"}, "Choose what the retailer carries"),
        ({"mode": "rules", "tags": " , "}, "Give at least one tag, product type, vendor or collection"),
        ({"mode": "picked"}, "Pick at least one product"),
        ({"mode": "picked", "product_id": "abc"}, "&#39;abc&#39; is not a product id"),
        ({"mode": "picked", "product_id": str(other.products[0].id)}, f"Product {other.products[0].id} is not in your"),
    ]
    for data, message in cases:
        answer = _post(client, signed_in, action="save", **data)
        assert answer.status_code == 400, data
        assert message in answer.get_data(as_text=True), data
    assert _saved(signed_in) is None
    assert db.session.execute(select(SyncRun).where(SyncRun.status == "queued")).first() is None


def test_a_post_without_the_csrf_token_is_refused(client, signed_in):
    answer = client.post(_url(signed_in), data={"mode": "all", "action": "save"})
    assert answer.status_code == 400
    assert _saved(signed_in) is None


def test_search_and_paging_keep_the_picks_made_on_other_pages(client, signed_in):
    extra = [factories.product(signed_in.org, skus=(f"PAGE-{n}",)) for n in range(30)]  # more than one picker page
    kept = signed_in.products[0].id
    answer = _post(client, signed_in, mode="picked", product_id=str(kept), q=extra[0].title, action="search")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'<label for="pick-{extra[0].id}">{extra[0].title}</label>' in html
    assert f'<input type="hidden" name="product_id" value="{kept}">' in html  # not on this page, still picked
    paged = client.post(
        f"{_url(signed_in)}?page=2",
        data={"csrf_token": csrf_token(html), "mode": "picked", "product_id": str(kept), "action": "page"},
    )
    assert paged.status_code == 200 and "Page 2 of 2" in paged.get_data(as_text=True)
    assert _saved(signed_in) is None


def test_the_dry_run_link_shows_the_push_under_the_saved_selection(client, signed_in):
    _list_all(signed_in)
    _post(client, signed_in, mode="picked", product_id=str(signed_in.products[0].id), action="save")
    html = client.get(f"{_url(signed_in)}/dry-run").get_data(as_text=True)
    assert "Dry run: products.push" in html
    assert "zero out <strong>2</strong>" in html
    assert "no longer in the retailer&#39;s selection" in html


def test_another_wholesaler_cannot_see_or_change_it(client, auth, world, other):
    auth.login(other.user.email)
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    for method, path in (("GET", _url(world)), ("POST", _url(world)), ("GET", f"{_url(world)}/dry-run")):
        answer = client.open(path, method=method, data={"csrf_token": token, "mode": "all", "action": "save"})
        assert answer.status_code == 404, (method, path)
    assert _saved(world) is None
