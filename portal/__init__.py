"""Wholesync's Flask portal: the wholesaler dashboard, the embedded retailer app, webhooks and the API."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.config import load_config
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
    init_redis(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


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
    "billing", "shopify_app", "webhooks", "fulfillment_service",
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
