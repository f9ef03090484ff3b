"""What a resolver receives: the sandbox, the shop's state, the request's version/base URL and helpers.

Resolvers are `fn(ctx, **arguments)`; `ctx.info` is the graphql-core resolve info of the current root field.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import GraphQLError

from fakes.shopify.state import ShopState


@dataclass
class Context:
    sandbox: object  # fakes.shopify.app.Sandbox
    shop: ShopState
    api_version: str
    base_url: str  # e.g. http://127.0.0.1:5001 (for URLs the sandbox serves, like bulk results)
    bulk: bool = False  # True while running a bulk operation's query: connections return every item
    info: object = None
    events: list[tuple[str, dict]] = field(default_factory=list)  # webhooks to send once the request is done
    after: list = field(default_factory=list)  # other calls out (fulfillment service callbacks), sent after events
    window: BulkWindow | None = None  # a bulk operation's pass over its root connection (see `connection`)

    def emit(self, topic: str, payload: dict) -> None:
        """Queue a webhook (`products/update`, ...); delivered after the request, as Shopify does asynchronously."""
        self.events.append((topic, payload))

    def flush(self) -> None:
        """Send the queued webhooks (once the change is complete and the shop's lock released)."""
        events, self.events = self.events, []
        for topic, payload in events:
            self.sandbox.emit(self.shop.domain, topic, payload)
        calls, self.after = self.after, []
        for call in calls:
            call()

    def error(self, message: str, code: str = "BAD_REQUEST") -> GraphQLError:
        return GraphQLError(message, extensions={"code": code})


@dataclass
class BulkWindow:
    """How a bulk operation reads its root connection a slice at a time: a first pass captures the root items (in
    the order the connection gives them) and how to build a node; each later pass builds only `chunk`."""

    roots: list | None = None
    to_node: Callable | None = None
    chunk: list | None = None


def encode_cursor(item_id: int) -> str:
    return base64.b64encode(json.dumps({"last_id": item_id}).encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        return int(json.loads(base64.b64decode(cursor))["last_id"])
    except Exception as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}) from exc


def connection(
    ctx: Context | None,
    items: list,
    to_node,
    *,
    first=None,
    last=None,
    after=None,
    before=None,
    reverse=False,
    item_id=lambda item: item.id,
    max_page: int = 250,
) -> dict:
    """A Relay connection over `items` (state objects, in order) with Shopify's limits and cursors."""
    bulk = bool(ctx and ctx.bulk)
    if not bulk:
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
        for value in (first, last):
            if value is not None and value > max_page:
                raise GraphQLError(
                    f"The maximum number of items that can be requested is {max_page}.",
                    extensions={"code": "BAD_REQUEST"},
                )
    items = list(reversed(items)) if reverse else list(items)
    if after:
        last_id = decode_cursor(after)
        ids = [item_id(i) for i in items]
        items = items[ids.index(last_id) + 1 :] if last_id in ids else []
    if before:
        last_id = decode_cursor(before)
        ids = [item_id(i) for i in items]
        items = items[: ids.index(last_id)] if last_id in ids else items
    total = len(items)
    has_next = has_prev = False
    if not bulk and first is not None:
        has_next = total > first
        items = items[:first]
    if not bulk and last is not None:
        has_prev = len(items) > last
        items = items[-last:] if last else []
    window = ctx.window if bulk and ctx else None
    if window is not None and window.to_node is None:  # the capture pass: remember the root items, build nothing
        window.roots, window.to_node, items = items, to_node, []
    nodes = [to_node(i) for i in items]
    edges = [{"cursor": encode_cursor(item_id(i)), "node": n} for i, n in zip(items, nodes, strict=True)]
    return {
        "edges": edges,
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev or bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def conn_args(args: dict) -> dict:
    """The pagination arguments of a connection field."""
    return {k: args.get(k) for k in ("first", "last", "after", "before")} | {"reverse": bool(args.get("reverse"))}
