"""Error bodies shaped like Shopify's (its GraphQL server is graphql-ruby): messages, `locations`, `path`, codes.

graphql-core's validation messages are rewritten into graphql-ruby's wording and `extensions` (e.g. undefinedField
with typeName/fieldName), so code written against the sandbox sees what Shopify would answer.
"""

from __future__ import annotations

import json
import re

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
)


def _loc(error: GraphQLError) -> list[dict]:
    return [{"line": loc.line, "column": loc.column} for loc in (error.locations or [])]


def field_paths(document: DocumentNode) -> dict[int, list[str]]:
    """Map id(FieldNode) -> graphql-ruby style path (`["query Name", "product", "foo"]`)."""
    paths: dict[int, list[str]] = {}

    def walk(selection_set, prefix):
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                here = [*prefix, sel.alias.value if sel.alias else sel.name.value]
                paths[id(sel)] = here
                walk(sel.selection_set, here)
            elif getattr(sel, "selection_set", None) is not None:
                cond = getattr(sel, "type_condition", None)
                walk(sel.selection_set, [*prefix, f"... on {cond.name.value}" if cond else "..."])

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            head = definition.operation.value + (f" {definition.name.value}" if definition.name else "")
            walk(definition.selection_set, [head])
        elif isinstance(definition, FragmentDefinitionNode):
            walk(definition.selection_set, [f"fragment {definition.name.value}"])
    return paths


_RULES = [
    (
        re.compile(r"Cannot query field '(?P<field>[^']+)' on type '(?P<type>[^']+)'"),
        lambda m: (
            f"Field '{m['field']}' doesn't exist on type '{m['type']}'",
            {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]},
        ),
    ),
    (
        re.compile(r"Unknown argument '(?P<arg>[^']+)' on field '(?P<type>[^'.]+)\.(?P<field>[^']+)'"),
        lambda m: (
            f"Field '{m['field']}' doesn't accept argument '{m['arg']}'",
            {"code": "argumentNotAccepted", "name": m["field"], "typeName": "Field", "argumentName": m["arg"]},
        ),
    ),
    (
        re.compile(r"Field '(?P<field>[^']+)' argument '(?P<arg>[^']+)' of type '[^']+' is required"),
        lambda m: (
            f"Field '{m['field']}' is missing required arguments: {m['arg']}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m["field"], "arguments": m["arg"]},
        ),
    ),
    (
        re.compile(r"Unknown type '(?P<type>[^']+)'"),
        lambda m: (f"No such type {m['type']}, so it can't be a fragment condition", {"code": "undefinedType"}),
    ),
    (
        re.compile(r"Variable '\$(?P<var>[^']+)' is never used"),
        lambda m: (f"Variable ${m['var']} is declared by anonymous query but not used", {"code": "variableNotUsed"}),
    ),
    (
        re.compile(r"Variable '\$(?P<var>[^']+)' is not defined"),
        lambda m: (f"Variable ${m['var']} is used but not declared", {"code": "variableNotDefined"}),
    ),
    (
        re.compile(r"Field '(?P<field>[^']+)' of type '(?P<type>[^']+)' must have a selection of subfields"),
        lambda m: (
            f"Field must have selections (field '{m['field']}' returns {m['type'].strip('[]!')} but has no selections)",
            {"code": "selectionMismatch", "nodeName": f"field '{m['field']}'", "typeName": m["type"].strip("[]!")},
        ),
    ),
    (
        re.compile(r"Field '(?P<field>[^']+)' must not have a selection since type '(?P<type>[^']+)' has no subfields"),
        lambda m: (
            f"Selections can't be made on scalars (field '{m['field']}' returns {m['type'].strip('[]!')} "
            f"but has selections [...])",
            {"code": "selectionMismatch", "nodeName": f"field '{m['field']}'", "typeName": m["type"].strip("[]!")},
        ),
    ),
]


def validation_error(error: GraphQLError, paths: dict[int, list[str]]) -> dict:
    """One graphql-core validation error as Shopify would word it."""
    body: dict = {"message": error.message, "locations": _loc(error)}
    for pattern, make in _RULES:
        match = pattern.search(error.message)
        if match:
            body["message"], extensions = make(match)
            break
    else:
        extensions = {"code": "validationError"}
    for node in error.nodes or ():
        if id(node) in paths:
            body["path"] = paths[id(node)]
            break
    body["extensions"] = extensions
    return body


def syntax_error(error: GraphQLError) -> dict:
    """A parse failure, graphql-ruby style: `Parse error on "x" (IDENTIFIER) at [1, 5]`."""
    loc = error.locations[0] if error.locations else None
    detail = error.message.replace("Syntax Error: ", "").rstrip(".")
    at = f" at [{loc.line}, {loc.column}]" if loc else ""
    return {"message": f"Parse error on {detail}{at}", "locations": _loc(error)}


_VAR_RE = re.compile(
    r"Variable '\$(?P<var>[^']+)' got invalid value (?P<value>.*?)(?: at '(?P<path>[^']+)')?; (?P<why>.*)"
)
_VAR_MISSING_RE = re.compile(r"Variable '\$(?P<var>[^']+)' of (?:required|non-null) type '(?P<type>[^']+)'")


def _value_at(value, path: list):
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _explain(why: str, path: list, value, schema) -> tuple[list, str]:
    """graphql-core's explanation -> graphql-ruby's (`Could not coerce value "x" to Int`, ...), path extended."""
    if m := re.match(r"Field '(?P<f>[^']+)' of required type '[^']+' was not provided", why):
        return [*path, m["f"]], "Expected value to not be null"
    if m := re.match(r"Field '(?P<f>[^']+)' is not defined by type '(?P<t>[^']+)'", why):
        return [*path, m["f"]], f"Field is not defined on {m['t']}"
    if re.match(r"Expected value of type '[^']+!', found null", why) or why.startswith("Expected non-nullable type"):
        return path, "Expected value to not be null"
    if m := re.match(r"Value '(?P<v>[^']*)' does not exist in '(?P<t>[^']+)' enum", why):
        enum = schema.type_map.get(m["t"]) if schema else None
        values = ", ".join(enum.values) if enum is not None else "?"
        return path, f'Expected "{m["v"]}" to be one of: {values}'
    if m := re.match(r"(?P<t>\w+) cannot represent", why):
        return path, f"Could not coerce value {json.dumps(_value_at(value, path))} to {m['t']}"
    return path, why


def variable_error(error: GraphQLError, variables: dict, types: dict[str, str], schema=None) -> dict:
    """A variable-coercion failure, graphql-ruby style: `Variable $id of type ID! was provided invalid value`,
    `for <path> (<explanation>)` when the problem is inside the value, plus `extensions.value` / `problems`."""
    body = {"message": error.message, "locations": _loc(error)}
    match = _VAR_RE.match(error.message)
    missing = _VAR_MISSING_RE.match(error.message)
    if match:
        var = match["var"]
        path = match["path"].split(".")[1:] if match["path"] else []
        path = [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", ".".join(path)) if p != ""]
        value = variables.get(var)
        path, why = _explain(match["why"], path, value, schema)
        body["message"] = f"Variable ${var} of type {types.get(var, '?')} was provided invalid value"
        if path:
            body["message"] += f" for {'.'.join(str(p) for p in path)} ({why})"
        body["extensions"] = {"value": value, "problems": [{"path": path, "explanation": why}]}
    elif missing:
        var = missing["var"]
        body["message"] = f"Variable ${var} of type {missing['type']} was provided invalid value"
        body["extensions"] = {"value": None, "problems": [{"path": [], "explanation": "Expected value to not be null"}]}
    return body


def throttled(cost: dict) -> dict:
    """The THROTTLED body (HTTP 200), with the cost extension like Shopify sends it."""
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ],
        "extensions": {"cost": cost},
    }


def max_cost_exceeded(cost: int) -> dict:
    return {
        "errors": [
            {
                "message": f"Query cost is {cost}, which exceeds the single query max cost limit (1000).\n\n"
                "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                "cost of a query is calculated.\n\n"
                "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
                "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": 1000},
            }
        ]
    }
