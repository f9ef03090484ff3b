"""Price lists: create, edit, per-SKU markups by CSV with per-line errors, and "explain this price" for a SKU."""

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from portal.extensions import db, htmx
from portal.models import PriceList, PriceListItem, Variant
from portal.pricing import bp
from portal.services.price_list_csv import import_items
from portal.services.pricing import RATE_PLACES, PriceRefused, compute_retail_price, parse_rate, plain
from portal.services.text import page_number
from portal.tenancy import current_org_id, get_owned_or_404, scoped

PER_PAGE = 50
# Each setting: its label in messages, whether zero is refused, how many decimals are kept, the value when empty.
FIELDS = {
    "fx_rate": ("FX rate", True, RATE_PLACES, Decimal("1")),
    "markup_percent": ("Markup %", False, RATE_PLACES, Decimal("0")),
    "rounding_ending": ("Rounding ending", False, 2, None),
}


def _read_form(price_list: PriceList) -> str | None:
    """Copy the form onto `price_list`; the first problem as a sentence, or None.

    Values are kept exactly as typed or refused with the reason: an FX rate of 0 is refused (not saved as 1), and
    a value with more decimals than the column keeps is refused rather than cut.
    """
    name = request.form.get("name", "").strip()
    currency = request.form.get("currency", "USD").strip().upper()
    if not name or len(name) > 200:
        return "Give the price list a name (up to 200 characters)."
    if len(currency) != 3 or not currency.isalpha():
        return "The currency is a three-letter code such as USD."
    values = {}
    for field, (label, positive, places, empty) in FIELDS.items():
        raw = request.form.get(field, "").strip()
        if not raw:
            values[field] = empty
            continue
        parsed = parse_rate(raw, label, positive=positive, places=places)
        if isinstance(parsed, str):
            return parsed
        values[field] = parsed
    price_list.name, price_list.currency = name, currency
    price_list.fx_rate = values["fx_rate"]
    price_list.markup_percent = values["markup_percent"]
    price_list.rounding_ending = values["rounding_ending"]
    return None


@bp.get("/")
@login_required
def index():
    """The wholesaler's price lists and the form to add one."""
    lists = db.session.execute(scoped(PriceList).order_by(PriceList.name)).scalars().all()
    return render_template("pricing/index.html", lists=lists)


@bp.post("/")
@login_required
def create():
    """Add a price list."""
    price_list = PriceList(wholesaler_id=current_org_id())
    problem = _read_form(price_list)
    if problem:
        flash(problem, "error")
        return redirect(url_for("pricing.index"))
    db.session.add(price_list)
    db.session.commit()
    return redirect(url_for("pricing.show", price_list_id=price_list.id))


@bp.get("/<int:price_list_id>")
@login_required
def show(price_list_id: int, errors=None, status=200):
    """Edit the list, its per-SKU markups (paginated) and upload them by CSV; explain any SKU's price."""
    price_list = get_owned_or_404(PriceList, price_list_id)
    items = db.paginate(
        select(PriceListItem).where(PriceListItem.price_list_id == price_list.id).order_by(PriceListItem.sku),
        page=page_number(request.args.get("page")), per_page=PER_PAGE, error_out=False,
    )  # fmt: skip
    return render_template("pricing/show.html", pl=price_list, items=items, errors=errors or []), status


@bp.post("/<int:price_list_id>")
@login_required
def update(price_list_id: int):
    """Save the list's name, currency, FX rate, markup and rounding."""
    price_list = get_owned_or_404(PriceList, price_list_id)
    problem = _read_form(price_list)
    if problem:
        db.session.rollback()
        flash(problem, "error")
    else:
        db.session.commit()
        flash("Saved.", "info")
    return redirect(url_for("pricing.show", price_list_id=price_list.id))


@bp.post("/<int:price_list_id>/items")
@login_required
def upload_items(price_list_id: int):
    """Per-SKU markups from a CSV: good lines saved, refused lines listed with their number and reason."""
    price_list = get_owned_or_404(PriceList, price_list_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("Choose a CSV file to upload.", "error")
        return show(price_list.id, status=400)
    result = import_items(price_list.id, file.read())
    flash(result.summary(), "error" if result.file_error else "info")
    return show(price_list.id, errors=result.errors, status=422 if result.file_error or result.errors else 200)


@bp.get("/<int:price_list_id>/explain")
@login_required
def explain(price_list_id: int):
    """Every step from the wholesale price of one SKU to its retail price under this list."""
    price_list = get_owned_or_404(PriceList, price_list_id)
    sku = request.args.get("sku", "").strip()
    variant = db.session.execute(scoped(Variant).where(Variant.sku == sku)).scalar_one_or_none() if sku else None
    quote, refused = None, None
    if variant is not None:
        try:
            quote = compute_retail_price(price_list, sku, variant.wholesale_price)
        except PriceRefused as err:
            refused = str(err)
    template = "pricing/_explain.html" if htmx else "pricing/explain.html"
    return render_template(template, pl=price_list, sku=sku, variant=variant, quote=quote, refused=refused)


@bp.app_template_filter("plain")
def plain_filter(value) -> str:
    """Jinja filter: a Decimal as a person writes it (40, 1.000049), never 4E+1."""
    return plain(value)
