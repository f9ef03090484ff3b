"""Catalog: products, their variants and stock, where each product is listed, and which products each retailer
carries (the product selection)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from jobs.plan import get_manual_job
from jobs.preview import dry_run
from jobs.runtime import request_run
from portal.catalog import bp
from portal.extensions import db, htmx
from portal.models import Organization, Partnership, Product
from portal.services import catalog, selection
from portal.services.text import page_number, whole_number
from portal.tenancy import current_org_id, get_owned_or_404

PER_PAGE = 50
PICKER_PAGE = 25


@bp.get("/")
@login_required
def index():
    """Products, newest first, searchable by title or SKU, with variant count, stock and listing count."""
    q = request.args.get("q", "")
    page = db.paginate(catalog.product_query(q), page=page_number(request.args.get("page")), per_page=PER_PAGE,
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


# ---------------------------------------------------------------- which products a retailer carries


def _partnership(partnership_id: int) -> Partnership:
    """A partnership this wholesaler supplies (its retailer may see it, but not choose what it is supplied)."""
    partnership = get_owned_or_404(Partnership, partnership_id)
    if partnership.wholesaler_id != current_org_id():
        abort(404)
    return partnership


def _submitted() -> tuple[str, dict[str, str], list[str]]:
    """The form as typed: mode, each rule kind's comma-separated text, and the picked product ids."""
    form = request.form
    texts = {kind: form.get(kind, "") for kind in selection.RULE_KINDS}
    return form.get("mode", "all"), texts, form.getlist("product_id")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _selection_page(partnership: Partnership, mode: str, texts: dict, picked: set[int], *, q: str = "", page: int = 1,
                    change=None, error: str | None = None, status: int = 200):  # fmt: skip
    products = db.paginate(selection.picker_query(partnership.wholesaler_id, q), page=page, per_page=PICKER_PAGE,
                           error_out=False)  # fmt: skip
    on_page = {p.id for p in products.items}
    retailer = db.session.get(Organization, partnership.retailer_id) if partnership.retailer_id else None
    context = dict(
        p=partnership, retailer=retailer, mode=mode, texts=texts, picked=picked, hidden=sorted(picked - on_page),
        products=products, q=q, change=change, error=error, choices=selection.choices(partnership.wholesaler_id),
        kinds=selection.RULE_KINDS, labels=selection.KIND_LABELS, saved=selection.selection_of(partnership),
    )  # fmt: skip
    return render_template("catalog/selection.html", **context), status


@bp.get("/selection/<int:partnership_id>")
@login_required
def selection_form(partnership_id: int):
    """What the retailer carries: the whole catalog, products matching rules, or hand-picked products."""
    partnership = _partnership(partnership_id)
    saved = selection.selection_of(partnership)
    texts = {kind: ", ".join(saved.rules.get(kind, ())) for kind in selection.RULE_KINDS}
    return _selection_page(partnership, saved.mode, texts, set(saved.product_ids), q=request.args.get("q", ""),
                           page=page_number(request.args.get("page")))  # fmt: skip


@bp.post("/selection/<int:partnership_id>")
@login_required
def selection_save(partnership_id: int):
    """Search or page the picker (nothing saved), preview the change, or save it and push the partnership's catalog.

    A refused selection answers 400 with the reason, and nothing is saved."""
    partnership = _partnership(partnership_id)
    mode, texts, raw_picked = _submitted()
    action = request.form.get("action", "preview")
    q = request.form.get("q", "")
    page = page_number(request.args.get("page") or request.form.get("page"))
    picked = {n for n in map(whole_number, raw_picked) if n is not None}
    try:
        chosen = selection.build(partnership, mode, {k: _split(v) for k, v in texts.items()}, raw_picked)
    except selection.SelectionRefused as refusal:
        if action in ("search", "page"):  # still choosing: the picker moves on, the form keeps what was typed
            return _selection_page(partnership, mode, texts, picked, q=q, page=page)
        return _selection_page(partnership, mode, texts, picked, q=q, page=page, error=str(refusal), status=400)
    if action in ("search", "page"):
        return _selection_page(partnership, mode, texts, picked, q=q, page=page)
    change = selection.preview(partnership, chosen)
    if action != "save":
        return _selection_page(partnership, mode, texts, picked, q=q, page=page, change=change)
    selection.save(partnership, chosen)
    db.session.commit()
    what = f"{len(change.added)} product(s) will be added as drafts, {len(change.drafted)} returned to draft"
    if partnership.status == "active" and partnership.sync_products_to_retailer:
        run = request_run("products.push", f"partnership:{partnership.id}", "manual")
        flash(f"Saved: the retailer carries {chosen.describe()}. {what} by products.push (run {run.id}).", "info")
    else:
        flash(f"Saved: the retailer carries {chosen.describe()}. {what} when products sync to it again.", "info")
    return redirect(url_for("catalog.selection_form", partnership_id=partnership.id))


@bp.get("/selection/<int:partnership_id>/dry-run")
@login_required
def selection_dry_run(partnership_id: int):
    """The dry run of products.push for this partnership under its saved selection (nothing written, no call)."""
    partnership = _partnership(partnership_id)
    spec = get_manual_job("products.push")
    previews = [dry_run(spec.name, f"partnership:{partnership.id}")]
    return render_template("sync/_dry_run.html" if htmx else "sync/dry_run.html", spec=spec, previews=previews)
