"""Bulk operations: `bulkOperationRunQuery`, `currentBulkOperation`, `bulkOperation`, and `node` for them.

The sandbox runs the query at once (every connection returns all its items), flattens the result to JSONL the way
Shopify does (each node one line; nodes of nested connections get `__parentId`) and serves it at the op's `url`.
"""

from __future__ import annotations

import json

import graphql

from fakes.shopify import nodes
from fakes.shopify.context import Context
from fakes.shopify.registry import registry
from fakes.shopify.state import BulkOperation, next_id, now, parse_gid


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


@registry.mutation("bulkOperationRunQuery")
def bulk_operation_run_query(ctx: Context, query, groupObjects=False):  # noqa: N803 - schema argument names
    shop = ctx.shop
    if any(op.status in ("CREATED", "RUNNING") for op in shop.bulk_operations.values()):
        return {
            "bulkOperation": None,
            "userErrors": [
                {
                    "field": ["query"],
                    "message": "A bulk query operation for this app and shop is already in progress",
                    "code": "OPERATION_IN_PROGRESS",
                }
            ],
        }
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
    op = BulkOperation(id=next_id(), query=query, status="RUNNING")
    shop.bulk_operations[op.id] = op
    body = ctx.sandbox.run(shop, query, api_version=ctx.api_version, base_url=ctx.base_url, bulk=True, charge=False)
    if body.get("errors"):
        op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
        op.lines = []
    else:
        op.lines, op.root_object_count = flatten(body["data"])
        op.object_count = len(op.lines)
        op.file_size = sum(len(line) + 1 for line in op.lines)
        op.status = "COMPLETED"
    op.completed_at = now()
    ctx.shop.extra.setdefault("bulk_errors", {})[op.id] = body.get("errors")
    return {"bulkOperation": nodes.bulk_operation(ctx, op), "userErrors": []}


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
