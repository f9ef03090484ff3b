"""Small helpers shared by the sandbox's HTTP endpoints: JSON answers, the shop a request is for, form bodies.

Shops are told apart by the Host header, as production calls `https://{shop}/admin/...`.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer with the given status and extra headers."""
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def host_shop(request: Request) -> str:
    """The shop domain a request is addressed to (its Host, or the forwarded one), lower-cased, without port."""
    return (request.headers.get("X-Forwarded-Host") or request.host or "").split(":")[0].lower()


def public_url(sandbox, request: Request) -> str:
    """The sandbox's own address (not the shop's Host), for URLs clients fetch directly."""
    if sandbox.config.public_url:
        return sandbox.config.public_url.rstrip("/")
    env = request.environ
    return f"{env.get('wsgi.url_scheme', 'http')}://{env['SERVER_NAME']}:{env['SERVER_PORT']}"


def form_data(request: Request) -> dict:
    """A form-encoded or JSON body as a flat dict of strings."""
    if request.is_json:
        return {k: str(v) for k, v in (request.get_json(silent=True) or {}).items()}
    return request.form.to_dict()
