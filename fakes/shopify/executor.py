"""One GraphQL document for one shop: parse, validate, coerce, cost, charge the bucket, execute, then send webhooks.

Every document is checked against Shopify's official schema before any resolver runs; errors use Shopify's shapes.
"""

from __future__ import annotations

import time

import graphql
from graphql import GraphQLError, OperationDefinitionNode, default_field_resolver, get_operation_ast
from graphql.execution.values import get_variable_values

from fakes.shopify import errors
from fakes.shopify.context import Context, connection
from fakes.shopify.cost import MAX_SINGLE_QUERY_COST, CostCalculator
from fakes.shopify.state import ShopState

MAX_INPUT_ARRAY = 250  # Shopify's limit on array inputs (productSet's `variants` may hold up to 2048)


def _longest_input_array(value, key: str | None = None) -> int:
    """The longest list in coerced variables, not counting productSet's variants list."""
    if isinstance(value, dict):
        return max((_longest_input_array(v, k) for k, v in value.items()), default=0)
    if isinstance(value, list):
        own = 0 if key == "variants" else len(value)
        return max([own, *(_longest_input_array(v) for v in value)])
    return 0


def field_resolver(source, info, **args):
    """Root fields go to the registry's resolvers (or fail loudly); every other field reads the returned dicts."""
    sandbox = info.context.sandbox
    root = info.parent_type
    if root is sandbox.schema.query_type or root is sandbox.schema.mutation_type:
        operation = "query" if root is sandbox.schema.query_type else "mutation"
        fn = sandbox.registry.lookup(operation, info.field_name)
        if fn is None:
            raise GraphQLError(
                f"The Shopify sandbox does not implement {root.name}.{info.field_name}; add a resolver with "
                f"@registry.{operation}({info.field_name!r}) (see fakes/shopify/README.md).",
                extensions={"code": "NOT_IMPLEMENTED_IN_SANDBOX"},
            )
        ctx = info.context
        ctx.info = info
        window = ctx.window
        if window is not None and window.chunk is not None:  # a bulk pass: the captured roots, a slice at a time
            return connection(ctx, window.chunk, window.to_node)
        return fn(ctx, **args)
    return default_field_resolver(source, info, **args)


def execute(
    sandbox,
    shop: ShopState,
    query: str,
    variables: dict | None = None,
    operation_name: str | None = None,
    *,
    api_version: str | None = None,
    base_url: str = "",
    bulk: bool = False,
    charge: bool = True,
    force_throttle: bool = False,
    context: Context | None = None,
) -> dict:
    """Validate, cost, charge and execute one document for a shop; returns the JSON body Shopify would send.
    `context` reuses a resolver context across executions (a bulk operation's passes)."""
    schema = sandbox.schema
    variables = variables or {}
    try:
        document = graphql.parse(query)
    except GraphQLError as exc:
        return {"errors": [errors.syntax_error(exc)]}
    problems = graphql.validate(schema, document)
    if problems:
        paths = errors.field_paths(document)
        return {"errors": [errors.validation_error(e, paths) for e in problems]}
    op = get_operation_ast(document, operation_name)
    if op is None:
        return {"errors": [{"message": "An operation name is required", "extensions": {"code": "operationNotFound"}}]}
    coerced = get_variable_values(schema, op.variable_definitions or [], variables)
    if isinstance(coerced, list):
        types = {v.variable.name.value: graphql.print_ast(v.type) for v in op.variable_definitions}
        return {"errors": [errors.variable_error(e, variables, types, schema) for e in coerced]}
    too_long = _longest_input_array(coerced)
    if too_long > MAX_INPUT_ARRAY:
        message = f"The input array size of {too_long} is greater than the maximum allowed of {MAX_INPUT_ARRAY}."
        return {"errors": [{"message": message, "extensions": {"code": "MAX_INPUT_SIZE_EXCEEDED"}}]}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)}
    calc = CostCalculator(schema, fragments, coerced)
    requested = calc.operation(op)
    if charge and not bulk:
        if requested > MAX_SINGLE_QUERY_COST:
            return errors.max_cost_exceeded(requested)
        if force_throttle or not shop.bucket.take(requested):
            body = errors.throttled(
                {"requestedQueryCost": requested, "actualQueryCost": None, "throttleStatus": shop.bucket.status()}
            )
            _log(shop, op, requested, None, throttled=True)
            return body
    ctx = context or Context(
        sandbox=sandbox, shop=shop, api_version=api_version or sandbox.api_version, base_url=base_url, bulk=bulk
    )
    with shop.lock:
        result = graphql.execute(
            schema,
            document,
            context_value=ctx,
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=field_resolver,
        )
    body: dict = {}
    if result.errors:
        body["errors"] = [_format_error(e) for e in result.errors]
    body["data"] = result.data
    if charge and not bulk:
        actual = min(requested, calc.operation(op, result.data or {}))
        shop.bucket.refund(requested - actual)
        body["extensions"] = {
            "cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": shop.bucket.status()}
        }
        _log(shop, op, requested, actual, throttled=False)
    ctx.flush()
    return body


def _format_error(error: GraphQLError) -> dict:
    out = error.formatted
    out.setdefault("extensions", {})
    if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
        # A bug in a resolver: Shopify would say INTERNAL_SERVER_ERROR; keep the cause for the developer.
        out["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "sandboxCause": repr(error.original_error)}
    return out


def _log(shop: ShopState, op: OperationDefinitionNode, requested, actual, *, throttled: bool) -> None:
    fields = [s.name.value for s in op.selection_set.selections if hasattr(s, "name")]
    shop.requests.append(
        {
            "operation": op.operation.value,
            "name": op.name.value if op.name else None,
            "root_fields": fields,
            "requested": requested,
            "actual": actual,
            "throttled": throttled,
            "at": time.time(),
        }
    )
