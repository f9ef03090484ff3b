"""Catalog, activity log and the overview: each shows only this organization's rows."""

from portal.extensions import db
from portal.models import ActivityLog, Listing


def test_catalog_lists_products_with_variant_count_and_stock(client, signed_in, other):
    html = client.get("/catalog/").get_data(as_text=True)
    for product in signed_in.products:
        assert product.title in html
    for product in other.products:
        assert f'/catalog/{product.id}"' not in html
    assert "<td>2</td><td>8</td>" in html  # two variants with 4 units each


def test_catalog_search_matches_an_exact_sku(client, signed_in):
    html = client.get("/catalog/?q=SKU-1-B").get_data(as_text=True)
    assert signed_in.products[1].title in html and signed_in.products[0].title not in html


def test_product_page_shows_variants_and_where_it_is_listed(client, signed_in, world):
    product = world.products[0]
    db.session.add(
        Listing(
            partnership_id=world.partnership.id,
            product_id=product.id,
            retailer_connection_id=world.store.id,
            remote_product_id="gid://shopify/Product/77",
            created_unpublished=True,
        )
    )
    db.session.commit()
    html = client.get(f"/catalog/{product.id}").get_data(as_text=True)
    assert "SKU-0-A" in html and world.retailer.name in html and "arrived unpublished" in html


def test_another_wholesalers_product_is_404(client, signed_in, other):
    assert client.get(f"/catalog/{other.products[0].id}").status_code == 404


def test_activity_groups_by_day_filters_and_scopes(client, signed_in, other):
    db.session.add(
        ActivityLog(
            organization_id=signed_in.org.id,
            action="delete",
            record_type="listing",
            record_id="9",
            summary="Removed listing 9",
        )
    )
    db.session.commit()
    html = client.get("/activity/").get_data(as_text=True)
    assert "Created Product 1 unpublished" in html and "Removed listing 9" in html
    assert html.count("Created Product 1 unpublished") == 1  # the other wholesaler's identical entry is not shown
    filtered = client.get("/activity/?action=delete").get_data(as_text=True)
    assert "Removed listing 9" in filtered and "Created Product 1" not in filtered
    assert client.get("/activity/?day=not-a-date").status_code == 400


def test_overview_shows_last_success_per_flow_per_partner(client, signed_in, world):
    html = client.get("/dashboard").get_data(as_text=True)
    section = html.split(f'aria-label="{world.retailer.name}"')[1].split("</section>")[0]
    row = section.split("<td>products.push</td>")[1].split("</tr>")[0]
    assert "UTC" in row and "late" not in row
    assert '<td>inventory.push</td><td><span class="muted">never</span>' in section


def test_a_run_filter_that_is_not_a_plain_whole_number_is_ignored_never_a_server_error(client, signed_in):
    for typed in ("²", "٣", "9" * 40, "-1", "1e3"):
        answer = client.get(f"/activity/?run={typed}")
        assert answer.status_code == 200, typed


def test_a_page_number_beyond_any_page_answers_a_page_never_a_server_error(client, signed_in):
    for path in ("/activity/", "/orders/", "/catalog/", "/partners/", "/sync/runs"):
        for typed in ("9" * 40, "99999999999", "²"):
            answer = client.get(f"{path}?page={typed}")
            assert answer.status_code in (200, 404), (path, typed, answer.status_code)
