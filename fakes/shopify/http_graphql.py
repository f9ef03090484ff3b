"""The Admin GraphQL endpoint (`POST /admin/api/<version>/graphql.json`) with token auth and injected faults,
plus the bulk operation result files the sandbox serves itself.
"""

from __future__ import annotations

import time
import uuid

from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from fakes.shopify.config import DEMO_TOKEN_PREFIX
from fakes.shopify.http_common import host_shop, json_response, public_url
from fakes.shopify.state import ShopState

UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def authenticate(sandbox, request: Request, domain: str) -> ShopState | None:
    """The shop whose valid access token the request carries (demo tokens create their shop), else None."""
    token = request.headers.get("X-Shopify-Access-Token", "")
    record = sandbox.tokens.get(token)
    demo = sandbox.config.auto_create_demo_shops and token == DEMO_TOKEN_PREFIX + domain.split(".")[0]
    if record is None and demo:
        sandbox.add_shop(domain, token=token)
        record = sandbox.tokens.get(token)
    if record is None or record.shop != domain or record.expired:
        return None
    return sandbox.shops.get(domain)


def graphql_endpoint(sandbox, request: Request, version: str) -> Response:
    """Authenticate, apply the next injected fault if any, then run the document."""
    domain = host_shop(request)
    shop = authenticate(sandbox, request, domain)
    if shop is None:
        return json_response(UNAUTHORIZED, 401)
    force_throttle = False
    if shop.faults:
        fault = shop.faults.popleft()
        if fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault.kind == "throttled":
            force_throttle = True  # answered below, with the document's real requested cost
        elif fault.kind == "429":
            body = {
                "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                "uninterrupted service."
            }
            return json_response(body, 429, {"Retry-After": f"{fault.retry_after:g}"})
        else:
            return json_response({"errors": "Internal Server Error"}, int(fault.kind))
    try:
        payload = request.get_json(force=True)
    except Exception:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
    body = sandbox.run(
        shop,
        payload["query"],
        payload.get("variables") or {},
        payload.get("operationName"),
        api_version=version,
        base_url=public_url(sandbox, request),
        force_throttle=force_throttle,
    )
    return json_response(body, headers={"X-Shopify-API-Version": version, "X-Request-Id": str(uuid.uuid4())})


def bulk_file(sandbox, request: Request, shop: str, op_id: int) -> Response:
    """The JSONL result of a finished bulk operation."""
    state = sandbox.shops.get(shop)
    op = state.bulk_operations.get(op_id) if state else None
    if op is None or op.status != "COMPLETED":
        raise NotFound()
    lines = op.lines  # streamed: a 100,000-variant result is never one string in memory
    return Response((line + "\n" for line in lines), content_type="application/jsonl",
                    headers={"Content-Length": str(op.file_size or 0)})  # fmt: skip


RULES = [
    Rule("/admin/api/<version>/graphql.json", endpoint=graphql_endpoint, methods=["POST"]),
    Rule("/_sandbox/bulk/<shop>/<int:op_id>.jsonl", endpoint=bulk_file, methods=["GET"]),
]
