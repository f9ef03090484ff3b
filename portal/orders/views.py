"""Orders: the filtered list and the order timeline with the two-hour promise."""

from flask import render_template, request
from flask_login import login_required

from portal.extensions import db, htmx
from portal.models import Order
from portal.orders import bp
from portal.services import orders
from portal.tenancy import get_owned_or_404

PER_PAGE = 50


@bp.get("/")
@login_required
def index():
    """Orders newest first, filterable by status, name and stuck; paginated in the database."""
    args = request.args.to_dict()
    page = db.paginate(orders.list_query(args), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)  # fmt: skip
    template = "orders/_table.html" if htmx else "orders/index.html"
    return render_template(template, page=page, args=args, statuses=orders.STATUSES, promise=orders.promise)


@bp.get("/<int:order_id>")
@login_required
def show(order_id: int):
    """The order's journey from the retailer's checkout to the invoice, and its two-hour promise."""
    order = get_owned_or_404(Order, order_id)
    return render_template("orders/show.html", order=order, steps=orders.timeline(order), promise=orders.promise(order),
                           details=orders.details(order))  # fmt: skip
