"""Catalog: products, their variants and stock, and where each product is listed."""

from flask import render_template, request
from flask_login import login_required

from portal.catalog import bp
from portal.extensions import db, htmx
from portal.models import Product
from portal.services import catalog
from portal.tenancy import get_owned_or_404

PER_PAGE = 50


@bp.get("/")
@login_required
def index():
    """Products, newest first, searchable by title or SKU, with variant count, stock and listing count."""
    q = request.args.get("q", "")
    page = db.paginate(catalog.product_query(q), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)  # fmt: skip
    ids = [p.id for p in page.items]
    context = dict(page=page, q=q, stats=catalog.page_stats(ids), listed=catalog.page_listing_counts(ids))
    return render_template("catalog/_table.html" if htmx else "catalog/index.html", **context)


@bp.get("/<int:product_id>")
@login_required
def show(product_id: int):
    """One product: its variants with price and stock, and every retailer store it is listed in."""
    product = get_owned_or_404(Product, product_id)
    return render_template("catalog/show.html", product=product, listings=catalog.listings(product))
