"""Bulk operations: `bulkOperationRunQuery`, `currentBulkOperation`, `bulkOperation`, and `node` for them.

As on Shopify the mutation answers at once with the operation CREATED; a background thread runs the query (RUNNING,
then COMPLETED or FAILED), flattens the result to JSONL the way Shopify does (each node one line; nodes of nested
connections get `__parentId`), serves it at the op's `url` and sends `bulk_operations/finish`. The thread reads the
root connection's items once, then builds their nodes a slice at a time, each slice under the shop's lock: every root
object is read whole and consistent with its children, and other calls are served between slices (a 100,000-variant
build takes a minute). Shopify promises no snapshot either: a change made meanwhile may or may not be in the file.
"""

from __future__ import annotations

import json
import threading
import time

import graphql

from fakes.shopify import nodes
from fakes.shopify.context import BulkWindow, Context
from fakes.shopify.registry import registry
from fakes.shopify.state import BulkOperation, gid, iso, next_id, now, parse_gid

# Up to 5 bulk query operations at once per app and shop from API version 2026-01, one before (../shared/design
# SHOPIFY-2.md section 4); going over answers LIMIT_REACHED (OPERATION_IN_PROGRESS before 2026-01).
CONCURRENT_QUERIES = 5
CONCURRENCY_FROM_VERSION = "2026-01"
SLICE_SECONDS = 0.05  # how long one slice may hold the shop's lock; its size adapts to it


def _is_connection(value) -> bool:
    return (
        isinstance(value, dict)
        and ("edges" in value or "nodes" in value)
        and (isinstance(value.get("edges"), list) or isinstance(value.get("nodes"), list))
    )


def _items(conn: dict) -> list[dict]:
    if isinstance(conn.get("nodes"), list):
        return conn["nodes"]
    return [e["node"] for e in conn.get("edges") or [] if isinstance(e, dict) and "node" in e]


def flatten(data: dict) -> tuple[list[str], int]:
    """JSONL lines of a bulk result, and the number of root objects."""
    lines: list[str] = []
    roots = 0

    def emit(obj: dict, parent_id: str | None):
        flat = {k: v for k, v in obj.items() if not _is_connection(v)}
        if parent_id:
            flat["__parentId"] = parent_id
        lines.append(json.dumps(flat, separators=(",", ":")))
        for v in obj.values():
            if _is_connection(v):
                for child in _items(v):
                    emit(child, obj.get("id"))

    for value in (data or {}).values():
        if _is_connection(value):
            for item in _items(value):
                roots += 1
                emit(item, None)
    return lines, roots


def _limit_error(ctx: Context) -> dict | None:
    running = sum(1 for op in ctx.shop.bulk_operations.values() if op.status in ("CREATED", "RUNNING"))
    if ctx.api_version >= CONCURRENCY_FROM_VERSION:  # "unstable" sorts after every dated version
        if running < CONCURRENT_QUERIES:
            return None
        return {"field": None, "message": "Bulk operations limit reached. Please try again later.",
                "code": "LIMIT_REACHED"}  # fmt: skip
    if running == 0:
        return None
    return {"field": ["query"], "message": "A bulk query operation for this app and shop is already in progress",
            "code": "OPERATION_IN_PROGRESS"}  # fmt: skip


@registry.mutation("bulkOperationRunQuery")
def bulk_operation_run_query(ctx: Context, query, groupObjects=False):  # noqa: N803 - schema argument names
    shop = ctx.shop
    limit = _limit_error(ctx)
    if limit:
        return {"bulkOperation": None, "userErrors": [limit]}
    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": exc.message, "code": "INVALID"}]}
    problems = graphql.validate(ctx.sandbox.schema, document)
    if problems:
        return {
            "bulkOperation": None,
            "userErrors": [{"field": ["query"], "message": p.message, "code": "INVALID"} for p in problems],
        }
    op = BulkOperation(id=next_id(), query=query, status="CREATED")
    shop.bulk_operations[op.id] = op
    build = Context(sandbox=ctx.sandbox, shop=shop, api_version=ctx.api_version, base_url=ctx.base_url, bulk=True)
    answer = {"bulkOperation": nodes.bulk_operation(ctx, op), "userErrors": []}
    threading.Thread(target=_build, args=(build, op, document), name=f"bulk-{op.id}", daemon=True).start()
    return answer


def _build(ctx: Context, op: BulkOperation, document: graphql.DocumentNode) -> None:
    """Run the operation's query (the thread's body): COMPLETED with its lines, or FAILED; then the webhook."""
    with ctx.shop.lock:  # once the mutation that created it has answered
        op.status = "RUNNING"
    try:
        errors = _run_in_slices(ctx, op, document)
    except Exception as exc:  # a bug in a resolver: the operation fails as Shopify's would, the cause is kept
        errors = [{"message": repr(exc), "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    with ctx.shop.lock:
        if errors:
            op.status, op.error_code, op.lines = "FAILED", "INTERNAL_SERVER_ERROR", []
            op.object_count = op.root_object_count = 0
        else:
            op.status = "COMPLETED"
            op.file_size = sum(len(line) + 1 for line in op.lines)
        op.completed_at = now()
        ctx.shop.extra.setdefault("bulk_errors", {})[op.id] = errors or None
    ctx.sandbox.emit(ctx.shop.domain, "bulk_operations/finish", {
        "admin_graphql_api_id": gid("BulkOperation", op.id), "completed_at": iso(op.completed_at),
        "created_at": iso(op.created_at), "error_code": op.error_code and op.error_code.lower(),
        "status": op.status.lower(), "type": op.type.lower(),
    })  # fmt: skip


def _run_in_slices(ctx: Context, op: BulkOperation, document: graphql.DocumentNode) -> list | None:
    """Capture the root items, then build and flatten them a slice at a time; returns the errors, if any."""
    run = ctx.sandbox.run
    operation = graphql.get_operation_ast(document)
    roots_selected = len(operation.selection_set.selections) if operation else 0
    ctx.window = BulkWindow() if roots_selected == 1 else None
    body = run(ctx.shop, op.query, bulk=True, charge=False, context=ctx)
    if body.get("errors") or ctx.window is None or ctx.window.to_node is None:
        # Not one root connection (or it failed): what the first pass built is the whole result.
        _append(op, body.get("data"))
        return body.get("errors")
    roots, size, start = ctx.window.roots or [], 50, 0
    while start < len(roots):
        began = time.monotonic()
        ctx.window.chunk = roots[start : start + size]
        body = run(ctx.shop, op.query, bulk=True, charge=False, context=ctx)
        if body.get("errors"):
            return body["errors"]
        _append(op, body.get("data"))
        start += size
        elapsed = time.monotonic() - began
        size = max(10, min(2000, int(size * SLICE_SECONDS / max(elapsed, 0.001))))
        time.sleep(0.002)  # let the calls waiting for the shop's lock in before the next slice
    return None


def _append(op: BulkOperation, data: dict | None) -> None:
    lines, roots = flatten(data or {})
    op.lines.extend(lines)
    op.object_count += len(lines)
    op.root_object_count += roots


@registry.query("currentBulkOperation")
def current_bulk_operation(ctx: Context, type=None):
    ops = [o for o in ctx.shop.bulk_operations.values() if o.type == (type or "QUERY")]
    return nodes.bulk_operation(ctx, max(ops, key=lambda o: o.id)) if ops else None


@registry.query("bulkOperation")
def bulk_operation(ctx: Context, id):
    op = ctx.shop.bulk_operations.get(parse_gid(id, "BulkOperation") or 0)
    return nodes.bulk_operation(ctx, op) if op else None


@registry.node("BulkOperation")
def _bulk_node(ctx: Context, number: int):
    op = ctx.shop.bulk_operations.get(number)
    return nodes.bulk_operation(ctx, op) if op else None
