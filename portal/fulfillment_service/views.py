"""The callbacks Shopify makes to a partnership's fulfillment service in a retailer's store.

`POST <callback>/fulfillment_order_notification`: a fulfillment or cancellation request; it only says "look", so
we start orders.pull for the retailer's store (fulfillment) or order_updates.push for the partnership, which reads
the cancellation requests and answers them (cancellation). `GET <callback>/fetch_stock[?sku=]`: our current
counts for the retailer, `{"SKU": qty}`. Both are verified with the app secret (Shopify's HMAC) and must come from
the shop of this partnership's retailer: a request signed for another shop is refused like a forged one.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, request

from integrations.shopify.webhooks import shopify_header, verify_query_hmac, verify_webhook_hmac
from jobs.runtime import request_run
from portal.extensions import csrf, db
from portal.fulfillment_service import bp
from portal.models import Partnership
from portal.services.organizations import org_connection
from portal.services.selection import offered_levels
from portal.services.stock import retailer_quantities


def _secrets() -> tuple[str, str | None]:
    return current_app.config["SHOPIFY_API_SECRET"], current_app.config.get("SHOPIFY_API_SECRET_OLD")


def _verified_partnership(partnership_id: int):
    """The partnership and its retailer's store if the request is Shopify's for that store; 403 otherwise."""
    body = request.get_data(cache=True)
    signed = verify_webhook_hmac(body, shopify_header(request.headers, "hmac-sha256"), _secrets())
    if not signed and request.method == "GET":
        signed = verify_query_hmac(request.args.to_dict(), _secrets())
    if not signed:
        abort(403)
    partnership = db.session.get(Partnership, partnership_id)
    store = org_connection(partnership.retailer_id, "store") if partnership else None
    shop = shopify_header(request.headers, "shop-domain") or request.args.get("shop")
    if partnership is None or store is None or partnership.status != "active" or shop != store.address:
        abort(404)
    return partnership, store


@bp.post("/<int:partnership_id>/fulfillment_order_notification")
@csrf.exempt
def fulfillment_order_notification(partnership_id: int):
    """A fulfillment request: fetch the retailer's new orders now (the order is then created and accepted)."""
    partnership, store = _verified_partnership(partnership_id)
    kind = (request.get_json(silent=True) or {}).get("kind", "")
    if kind == "FULFILLMENT_REQUEST" and partnership.sync_orders_from_retailer:
        request_run("orders.pull", f"connection:{store.id}", trigger="webhook")
    elif kind == "CANCELLATION_REQUEST" and partnership.sync_order_updates_to_retailer:
        # The retailer cancelled an order we accepted: order_updates.push reads the request and answers it.
        request_run("order_updates.push", f"partnership:{partnership.id}", trigger="webhook")
    return jsonify({"received": kind or "unknown"})


@bp.get("/<int:partnership_id>/fetch_stock")
@bp.get("/<int:partnership_id>/fetch_stock.json")
def fetch_stock(partnership_id: int):
    """Our counts for this retailer (stock - in-flight orders - buffer), every SKU or the one asked for; 0 for a
    product it does not carry (portal.services.selection) or that left the wholesaler's catalog."""
    partnership, _store = _verified_partnership(partnership_id)
    wanted = request.args.get("sku")
    # A product that left the selection or the catalog counts 0, not left out (no document says a missing SKU means 0).
    counts = {level.sku: level.quantity for level in offered_levels(partnership, retailer_quantities(partnership))}
    if wanted is not None:
        counts = {wanted: counts[wanted]} if wanted in counts else {}
    return jsonify(counts)
