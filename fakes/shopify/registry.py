"""The resolver registry: one function per root field (query or mutation) and one loader per node type.

A resolver is `fn(ctx, **arguments)` returning plain dicts keyed by schema field names (a value may be a callable
`fn(info, **args)` for fields with arguments, e.g. nested connections). `ctx` is a `fakes.shopify.context.Context`.
"""

from __future__ import annotations

from collections.abc import Callable

Resolver = Callable[..., object]


class Registry:
    """Maps `Query.<field>` / `Mutation.<field>` to resolver functions and GID types to node loaders."""

    def __init__(self) -> None:
        self.queries: dict[str, Resolver] = {}
        self.mutations: dict[str, Resolver] = {}
        self.nodes: dict[str, Callable] = {}

    def query(self, name: str):
        """Decorator: `@registry.query("products")` registers the resolver of the root query field `products`."""

        def register(fn: Resolver) -> Resolver:
            self.queries[name] = fn
            return fn

        return register

    def mutation(self, name: str):
        """Decorator: `@registry.mutation("productSet")` registers a root mutation resolver."""

        def register(fn: Resolver) -> Resolver:
            self.mutations[name] = fn
            return fn

        return register

    def node(self, gid_type: str):
        """Decorator: `@registry.node("Product")` registers `fn(ctx, numeric_id) -> dict | None` for `node(id:)`."""

        def register(fn: Callable) -> Callable:
            self.nodes[gid_type] = fn
            return fn

        return register

    def lookup(self, operation: str, name: str) -> Resolver | None:
        """The resolver for a root field of `query` or `mutation`, or None."""
        return (self.queries if operation == "query" else self.mutations).get(name)


registry = Registry()
