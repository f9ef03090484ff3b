"""The embedded retailer app (App URL GET /shopify) and the wholesaler's "Connect your Shopify store".

Embedded requests are authenticated by Shopify session tokens, never cookies: the document load carries
`id_token`, every htmx request `Authorization: Bearer <token>` (401 + retry header when stale). The session token
stands in for the CSRF token there (no third-party cookies in the admin iframe), hence `csrf.exempt`.
"""

from __future__ import annotations

import functools

import shopify_app as shopify_lib
from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_htmx.responses import HTMXResponseStopPolling
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer

from integrations.shopify import auth
from jobs.plan import SYNC_PLAN, ManualRunRefused, UnknownJob, get_manual_job
from jobs.runtime import request_run
from portal.extensions import csrf, db
from portal.models import Connection, SyncRun, utcnow
from portal.services import connections as service
from portal.services import embedded as pages
from portal.services import invitations, partnerships, subscriptions
from portal.services.text import page_number
from portal.shopify_app import bp
from portal.tenancy import get_owned_or_404, scoped

PATCH_PATH = "/shopify/patch-id-token"
STATE_COOKIE = "shopify_oauth_state"


def _frame_ancestors(shop: str) -> str:
    """Only the shop's admin may frame the app (plus SHOPIFY_EXTRA_FRAME_ANCESTORS: the local sandbox's admin pages
    under `make run`, empty in production)."""
    extra = " ".join(current_app.config.get("SHOPIFY_EXTRA_FRAME_ANCESTORS", "").split())
    return f"frame-ancestors https://{shop} https://admin.shopify.com{' ' + extra if extra else ''};"


def _lib_response(check: auth.SessionCheck):
    resp = make_response(check.body, check.status)
    for k, v in check.headers.items():
        resp.headers[k] = v
    return resp


def embedded(view):
    """Authenticate an embedded request by its session token and scope it to the shop's retailer organization."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        check = auth.check_session_request(current_app.config, request.url, dict(request.headers), PATCH_PATH)
        if not check.ok:
            return _lib_response(check)
        conn = service.store_connection(check.shop)
        if not service.usable(conn):
            # Not installed, uninstalled, or the refresh failed: only a document load can exchange a new token.
            if "Authorization" in request.headers:
                return make_response("Reopen the Wholesync app from your Shopify admin.", 401, {auth.RETRY_HEADER: "1"})
            abort(401)
        g.org_id, g.shop, g.store = conn.organization_id, check.shop, conn
        resp = make_response(view(*args, **kwargs))
        for k, v in check.headers.items():
            resp.headers[k] = v
        resp.headers["Content-Security-Policy"] = _frame_ancestors(check.shop)
        return resp

    return csrf.exempt(wrapper)


@bp.get("/shopify")
@csrf.exempt
def app_home():
    """App URL: verify the id_token, install or renew the expiring offline token, render the app home."""
    check = auth.check_session_request(current_app.config, request.url, dict(request.headers), PATCH_PATH)
    if not check.ok:
        return _lib_response(check)
    conn = service.store_connection(check.shop)
    notice = None
    if conn is not None and conn.status == "active" and conn.access_token:
        try:
            service.fresh_access_token(conn)
        except auth.ShopifyAuthError:
            notice = "Wholesync lost access to your store and reconnected it."
    elif conn is not None and conn.status == "needs_reauth":
        # Shopify rejected the stored token (or its refresh): this document load's session token is the way back.
        notice = (
            "Wholesync lost access to your store and reconnected it; orders placed meanwhile come in with the next "
            "sync."
        )
    if not service.usable(conn):
        try:
            conn = service.install_store(check.shop, auth.exchange_id_token(current_app.config, check))
        except auth.ShopifyAuthError as exc:
            resp = make_response(render_template("shopify_app/error.html", message=exc.message), 401)
            resp.headers["Content-Security-Policy"] = _frame_ancestors(check.shop)
            return resp
    g.org_id, g.shop, g.store = conn.organization_id, check.shop, conn
    tab = request.args.get("tab") if request.args.get("tab") in HOME_TABS else "partners"
    resp = make_response(render_template("shopify_app/home.html", notice=notice, tab=tab, **HOME_TABS[tab]()))
    for k, v in check.headers.items():
        resp.headers[k] = v
    resp.headers["Content-Security-Policy"] = _frame_ancestors(check.shop)
    return resp


# The app's sections (App Bridge's navigation menu links `/shopify?tab=<key>`): what each one renders with.
HOME_TABS = {
    "partners": lambda: pages.partners_context(g.shop),
    "catalog": lambda: pages.catalog_context(g.store.id, page_number(request.args.get("page"))),
    "orders": lambda: pages.orders_context(page_number(request.args.get("page"))),
    "sync": lambda: pages.sync_context(g.store.id, store_jobs()),
}


@bp.get(PATCH_PATH)
@csrf.exempt
def patch_id_token():
    """The page App Bridge uses to re-issue a session token for a load that came without one (shopifyapp's)."""
    result = shopify_lib.app_home_patch_id_token(
        {"method": "GET", "url": request.url, "headers": dict(request.headers), "body": ""},
        auth.app_config(current_app.config),
    )
    res = result.response
    resp = make_response(res.body, res.status, dict(res.headers))
    shop = auth.valid_shop(request.args.get("shop", ""))
    if shop:
        resp.headers["Content-Security-Policy"] = _frame_ancestors(shop)
    return resp


@bp.get("/shopify/partners")
@embedded
def partners():
    """The retailer's wholesalers, and the form to enter an invitation code."""
    return render_template("shopify_app/_partners.html", **pages.partners_context(g.shop))


@bp.post("/shopify/partners/accept")
@embedded
def accept_invite():
    """Accept a wholesaler's invitation code: the partnership becomes active for this retailer."""
    code = (request.form.get("code") or "").strip()
    error = None
    try:
        partnerships.accept(code, g.org_id)
        invitations.forget_for_shop(g.shop)
    except partnerships.PartnershipError as exc:
        error = str(exc)
    status = 422 if error else 200
    return render_template(
        "shopify_app/_partners.html", error=error, accepted=not error, **pages.partners_context(g.shop)
    ), status


@bp.get("/shopify/catalog")
@embedded
def catalog():
    """Incoming catalog: what the wholesalers sent to this store (created unpublished)."""
    page = page_number(request.args.get("page"))
    return render_template("shopify_app/_catalog.html", **pages.catalog_context(g.store.id, page))


@bp.get("/shopify/orders")
@embedded
def orders():
    """Orders routed to wholesalers, with their shipments and tracking."""
    page = page_number(request.args.get("page"))
    return render_template("shopify_app/_orders.html", **pages.orders_context(page))


@bp.get("/shopify/sync")
@embedded
def sync():
    """The retailer-side jobs (their target is this store) with their last runs and Run now."""
    return render_template("shopify_app/_sync.html", **pages.sync_context(g.store.id, store_jobs()))


def store_jobs():
    """The jobs of the plan whose target is a retailer's store connection (a person may run them)."""
    return [spec for spec in SYNC_PLAN if spec.scope == "store" and spec.manual]


@bp.post("/shopify/sync/<job_name>/run")
@embedded
def run_now(job_name: str):
    """Run a store-scoped job on this store now; swaps in the live progress panel."""
    try:
        spec = get_manual_job(job_name)
    except (UnknownJob, ManualRunRefused):
        abort(404)
    if spec.scope != "store":
        abort(404)
    run = request_run(spec.name, f"connection:{g.store.id}", "manual")
    return render_template("shopify_app/_run_panel.html", run=run)


@bp.get("/shopify/runs/<int:sync_run_id>")
@embedded
def run_panel(sync_run_id: int):
    """A run's live panel for the embedded app; htmx's stop-polling status once the run is over."""
    run = get_owned_or_404(SyncRun, sync_run_id)
    html = render_template("shopify_app/_run_panel.html", run=run)
    return HTMXResponseStopPolling(html) if run.finished else html


# --- The wholesaler's "Connect your Shopify store" (authorization-code grant) -------------------------------------


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="shopify-oauth-state")


@bp.get("/shopify/connect")
@login_required
def connect():
    """The wholesaler's "Connect your Shopify store" page: the shop address, then Shopify's grant screen."""
    rows = db.session.execute(
        scoped(Connection).where(Connection.platform == "shopify", Connection.role == "system_of_record")
    ).scalars()
    return render_template("shopify_app/connect.html", connections=list(rows))


@bp.get("/shopify/auth")
@login_required
def oauth_start():
    """Send the wholesaler to Shopify's grant screen, with a state nonce bound to a signed cookie."""
    shop = auth.valid_shop((request.args.get("shop") or "").strip())
    if shop is None:
        abort(400, "Enter your store's address like your-store.myshopify.com.")
    state = auth.new_state()
    resp = redirect(
        auth.authorize_url(current_app.config, shop, url_for("shopify_app.oauth_callback", _external=True), state)
    )
    cookie = _state_serializer().dumps({"state": state, "shop": shop, "user": current_user.id})
    resp.set_cookie(
        STATE_COOKIE,
        cookie,
        max_age=600,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        path="/shopify/auth",
    )
    return resp


@bp.get("/shopify/auth/callback")
@login_required
def oauth_callback():
    """Verify shop, HMAC, state and cookie; exchange the code; check scopes; store the connection encrypted."""
    try:
        bound = _state_serializer().loads(request.cookies.get(STATE_COOKIE, ""), max_age=600)
    except BadSignature:
        bound = {}
    if bound.get("user") != current_user.id:
        bound = {}
    params = request.args.to_dict()
    try:
        shop = auth.verify_callback(current_app.config, params, bound.get("state"), bound.get("shop"), now=utcnow())
        tokens = auth.exchange_code(current_app.config, shop, params.get("code", ""), now=utcnow())
        conn = service.connect_wholesaler_shop(current_user.organization_id, shop, tokens)
        subscriptions.subscribe_after_connect(conn)  # stock and product events from the wholesaler's store
    except auth.ShopifyAuthError as exc:
        db.session.rollback()
        resp = make_response(
            render_template("error.html", status=exc.status, title="Shopify connection refused", detail=exc.message),
            exc.status,
        )
        resp.delete_cookie(STATE_COOKIE, path="/shopify/auth")
        return resp
    flash(f"Connected {shop}.", "success")
    resp = redirect(url_for("dashboard.index"))
    resp.delete_cookie(STATE_COOKIE, path="/shopify/auth")
    return resp
