"""Wholesync's Flask portal: the wholesaler dashboard, the embedded retailer app, webhooks and the API."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import engine_options, load_config
from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate
from portal.redis_conn import init_redis

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app: environment config (overridden by `config`), extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("WHOLESYNC_INSTANCE_PATH", str(ROOT / "instance")),
    )
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    app.config.update(load_config(Path(app.instance_path)))
    app.config.update(config or {})
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (config or {}):  # for the database the app really uses
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_LOCK_TIMEOUT"]
        )
    init_redis(app)
    register_request_limits(app)  # first: before CSRF or the limiter read a body
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_request_limits(app: Flask) -> None:
    """Client addresses through trusted proxies, body sizes per kind of endpoint, and no control characters.

    Behind Heroku's router (TRUSTED_PROXIES=1) the limiter must key on the client, not the router. A body larger
    than its endpoint's limit is answered 413 by Werkzeug from Content-Length before a byte is read (a chunked
    body is read through a limited stream that stops at the limit). Form fields and query strings holding a
    control character are refused with 400 before any view sees them (PostgreSQL refuses NUL in text).
    """
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.before_request
    def limit_body():
        request.max_content_length = _body_limit(app.config)
        if request.content_length is None and request.environ.get("wsgi.input_terminated"):
            _read_chunked_body()
        if request.path.startswith("/webhooks/"):
            return None  # signed bodies, read raw by their views; nothing here may parse them first
        from portal.services.text import refused_field

        problem = refused_field(request.args.lists()) or refused_field(request.form.lists())
        if problem:
            return _refuse(400, "Control characters are not accepted", problem)
        return None

    app.add_template_filter(_web_url, "web_url")


def _read_chunked_body() -> None:
    """Read a body sent without Content-Length up to the limit, 413 past it.

    Werkzeug's limited stream raises 413 on a read past the limit, but `get_data()` stops silently at it and hands
    the view a truncated body; reading here in chunks makes the overflow a 413 and leaves at most the limit in
    memory, cached where get_data and the form parser look first.
    """
    body = bytearray()
    while chunk := request.stream.read(64 * 1024):
        body.extend(chunk)
    request._cached_data = bytes(body)


def _body_limit(config) -> int | None:
    """The largest body this request may have: webhooks, file uploads and plain forms each have their own."""
    ceiling = int(config.get("MAX_CONTENT_LENGTH") or 0) or None
    if request.path.startswith("/webhooks/"):
        wanted = config.get("WEBHOOK_MAX_BYTES")
    elif request.mimetype == "multipart/form-data":
        wanted = config.get("UPLOAD_MAX_BYTES")
    elif request.mimetype == "application/x-www-form-urlencoded":
        wanted = config.get("FORM_MAX_BYTES")
    else:
        wanted = ceiling
    limits = [int(v) for v in (wanted, ceiling) if v]
    return min(limits) if limits else None


def _web_url(value):
    from portal.services.text import web_url

    return web_url(value)


def _refuse(status: int, title: str, detail: str):
    if _wants_json():
        return jsonify(error=title, detail=detail), status
    return render_template("error.html", status=status, title=title, detail=detail), status


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401 - registers the tables with the metadata

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)


BLUEPRINTS = (
    "auth", "dashboard", "health", "sync", "partners", "pricing", "catalog", "orders", "activity", "ops",
    "billing", "shopify_app", "webhooks", "fulfillment_service", "woocommerce", "retailers",
    "alerts", "invitations", "feeds",
)  # fmt: skip


def register_blueprints(app: Flask) -> None:
    """Each area is a package (or module) of `portal` exposing a blueprint called `bp`."""
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"portal.{name}").bp)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/", "/healthz")) or request.accept_mimetypes.best == (
        "application/json"
    )


def register_errorhandlers(app: Flask) -> None:
    """Clear errors with the right status, as a page or as JSON; never a bare 500 for bad input."""

    def render(status: int, title: str, detail: str):
        if _wants_json():
            return jsonify(error=title, detail=detail), status
        return render_template("error.html", status=status, title=title, detail=detail), status

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render(400, "The form expired or was not sent from this site", err.description)

    @app.errorhandler(HTTPException)
    def http_error(err):
        return render(err.code or 500, err.name, err.description or "")


def register_security_headers(app: Flask) -> None:
    """Dashboard pages may not be framed; embedded pages set their own per-shop frame-ancestors."""

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if htmx:
            response.vary.add("HX-Request")
        return response


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
