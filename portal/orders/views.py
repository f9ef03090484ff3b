"""Orders: the filtered list and the order timeline with the two-hour promise."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from jobs.flows.order_changes import reject_from_portal
from portal.extensions import db, htmx
from portal.models import Order
from portal.orders import bp
from portal.services import orders
from portal.services.text import page_number
from portal.tenancy import current_org_id, get_owned_or_404

PER_PAGE = 50


@bp.get("/")
@login_required
def index():
    """Orders newest first, filterable by status, name and stuck; paginated in the database."""
    args = request.args.to_dict()
    page = db.paginate(orders.list_query(args), page=page_number(request.args.get("page")), per_page=PER_PAGE,
                       error_out=False)  # fmt: skip
    template = "orders/_table.html" if htmx else "orders/index.html"
    return render_template(template, page=page, args=args, statuses=orders.STATUSES, promise=orders.promise)


@bp.get("/<int:order_id>")
@login_required
def show(order_id: int):
    """The order's journey from the retailer's checkout to the invoice, and its two-hour promise."""
    order = get_owned_or_404(Order, order_id)
    rejectable = orders.rejectable(order) if order.wholesaler_id == current_org_id() else {}
    return render_template("orders/show.html", order=order, steps=orders.timeline(order), promise=orders.promise(order),
                           details=orders.details(order), rejectable=rejectable, reasons=orders.REJECTION_REASONS,
                           returnable=orders.returnable(order) if order.wholesaler_id == current_org_id() else {},
                           events=orders.events(order))  # fmt: skip


@bp.post("/<int:order_id>/reject")
@login_required
def reject(order_id: int):
    """ "Reject lines we cannot fill": the wholesaler gives the units per line and the reason; the retailer's store is
    told, the system of record follows, stock is re-pushed. Only the supplying wholesaler may do it."""
    order = get_owned_or_404(Order, order_id)
    if order.wholesaler_id != current_org_id():
        abort(404)
    kind = request.form.get("reason", "")
    message = " ".join(request.form.get("message", "").split())[:500]
    quantities = _units_per_line(orders.rejectable(order), "qty")
    if quantities is None:
        flash("Quantities to reject are whole numbers of units.", "error")
        return redirect(url_for("orders.show", order_id=order.id))
    if kind not in orders.REJECTION_REASONS or not message:
        flash("Choose why the lines cannot be filled and write a message for the retailer.", "error")
        return redirect(url_for("orders.show", order_id=order.id))
    if not any(quantities.values()):
        flash("Nothing to reject: give the units of at least one line.", "error")
        return redirect(url_for("orders.show", order_id=order.id))
    changes = reject_from_portal(order, quantities, f"{orders.REJECTION_REASONS[kind]}: {message}")
    if changes:
        flash(f"Rejected {', '.join(changes)}; the retailer is told with your reason.", "success")
    else:
        flash("Nothing left to reject: those units have shipped or were cancelled.", "error")
    return redirect(url_for("orders.show", order_id=order.id))


@bp.post("/<int:order_id>/return")
@login_required
def record_return(order_id: int):
    """ "Record a return": units that came back to the wholesaler, per line; credited on the next invoice when the
    partnership's policy says so. Only the supplying wholesaler may do it."""
    order = get_owned_or_404(Order, order_id)
    if order.wholesaler_id != current_org_id():
        abort(404)
    quantities = _units_per_line(orders.returnable(order), "ret")
    if quantities is None:
        flash("Returned quantities are whole numbers of units.", "error")
        return redirect(url_for("orders.show", order_id=order.id))
    note = " ".join(request.form.get("note", "").split())[:500]
    changes = orders.record_return(order, quantities, note)
    if not changes:
        flash("Nothing recorded: give the units of at least one shipped line.", "error")
        return redirect(url_for("orders.show", order_id=order.id))
    db.session.commit()
    flash(f"Return recorded: {', '.join(changes)}.", "success")
    return redirect(url_for("orders.show", order_id=order.id))


def _units_per_line(line_ids, prefix: str) -> dict[int, int] | None:
    """Units typed per line in the fields `<prefix>-<line id>` (blank is 0), or None when one is not a whole number
    of at most six digits (ASCII only: "²" is a digit to Python but not a number of units)."""
    quantities = {}
    for line_id in line_ids:
        raw = request.form.get(f"{prefix}-{line_id}", "").strip() or "0"
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
            return None
        quantities[line_id] = int(raw)
    return quantities
