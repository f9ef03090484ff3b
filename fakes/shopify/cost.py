"""Calculated query cost and the per-shop leaky bucket, as Shopify documents them for the Admin GraphQL API.

Requested cost is static: scalars and enums 0, objects 1, connections 2 + `first`/`last` times the cost of one
item, mutations 10 (productSet: 10 + 0.2 per variant + ..., Shopify's dynamic cost since 2025-10). Actual cost
uses the number of items really returned. A query above 1000 is refused.
"""

from __future__ import annotations

import math
import threading
import time

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    get_named_type,
    is_abstract_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.values import get_argument_values
from graphql.language import IntValueNode, VariableNode

MAX_SINGLE_QUERY_COST = 1000
MUTATION_COST = 10


class LeakyBucket:
    """A bucket of `maximum_available` points refilled at `restore_rate` points per second."""

    def __init__(self, maximum_available: float, restore_rate: float):
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self._available = float(maximum_available)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        t = time.monotonic()
        self._available = min(self.maximum_available, self._available + (t - self._at) * self.restore_rate)
        self._at = t

    def configure(self, maximum_available: float | None = None, restore_rate: float | None = None) -> None:
        with self._lock:
            self._refill()
            if maximum_available is not None:
                self.maximum_available = float(maximum_available)
                self._available = min(self._available, self.maximum_available)
            if restore_rate is not None:
                self.restore_rate = float(restore_rate)

    def take(self, cost: int) -> bool:
        """Charge `cost` if the bucket holds it; False (nothing charged) otherwise."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum_available, self._available + points)

    def set_available(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = max(0.0, min(self.maximum_available, float(points)))

    def status(self) -> dict:
        """The `throttleStatus` object of a response."""
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum_available,
                "currentlyAvailable": int(self._available),
                "restoreRate": self.restore_rate,
            }


def _int_arg(field: FieldNode, name: str, variables: dict) -> int | None:
    for arg in field.arguments or ():
        if arg.name.value != name:
            continue
        if isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
        if isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
            return int(value) if isinstance(value, int) else None
    return None


class CostCalculator:
    """Computes requested (static) and actual (from the result data) cost of one operation."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables or {}

    def operation(self, op: OperationDefinitionNode, data: dict | None = None) -> int:
        root = self.schema.mutation_type if op.operation.value == "mutation" else self.schema.query_type
        if op.operation.value == "mutation":
            return sum(self._mutation_cost(f, root) for f in self._fields(op.selection_set))
        return self._selection(op.selection_set, root, data, actual=data is not None)

    def _mutation_cost(self, f: FieldNode, root) -> int:
        """10 per mutation; productSet uses Shopify's dynamic complexity (changelog 2025-10)."""
        if f.name.value != "productSet" or f.name.value not in root.fields:
            return MUTATION_COST
        try:
            args = get_argument_values(root.fields["productSet"], f, self.variables)
        except GraphQLError:
            return MUTATION_COST
        data = args.get("input") or {}
        variants = data.get("variants") or []
        cost = (
            10
            + 0.2 * len(variants)
            + 0.6 * sum(1 for v in variants if v.get("file"))
            + 0.4 * sum(len(v.get("metafields") or []) for v in variants)
            + 0.4 * len(data.get("metafields") or [])
            + 1.9 * len(data.get("files") or [])
        )
        return math.ceil(round(cost, 6))

    def _fields(self, selection_set):
        """Flatten fragments: yield every FieldNode of a selection set (type conditions are merged, over-counting)."""
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                yield sel
            elif isinstance(sel, InlineFragmentNode):
                yield from self._fields(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in self.fragments:
                yield from self._fields(self.fragments[sel.name.value].selection_set)

    def _field_type(self, parent, name: str):
        candidates = [parent]
        if is_abstract_type(parent):
            candidates = list(self.schema.get_possible_types(parent))
        for t in candidates:
            fields = getattr(t, "fields", {})
            if name in fields:
                return fields[name].type
        return None

    def _selection(self, selection_set, parent, data, actual: bool) -> int:
        total = 0
        for f in self._fields(selection_set):
            name = f.name.value
            if name.startswith("__"):
                continue
            ftype = self._field_type(parent, name)
            if ftype is None:
                continue
            key = f.alias.value if f.alias else name
            value = data.get(key) if isinstance(data, dict) else None
            total += self._field_cost(f, ftype, value, actual)
        return total

    def _field_cost(self, f: FieldNode, ftype, value, actual: bool) -> int:
        named = get_named_type(ftype)
        if not (is_object_type(named) or is_abstract_type(named)):
            return 0
        if named.name.endswith("Connection") and "edges" in getattr(named, "fields", {}):
            return self._connection_cost(f, named, value, actual)
        inner = ftype.of_type if is_non_null_type(ftype) else ftype
        if is_list_type(inner) and actual and isinstance(value, list):
            return sum(1 + self._selection(f.selection_set, named, item, actual) for item in value)
        if actual and value is None:
            return 0
        return 1 + self._selection(f.selection_set, named, value, actual)

    def _connection_cost(self, f: FieldNode, conn_type, value, actual: bool) -> int:
        node_type = get_named_type(conn_type.fields["nodes"].type) if "nodes" in conn_type.fields else None
        if actual:
            if not isinstance(value, dict):
                return 0
            cost = 2
            for sub in self._fields(f.selection_set):
                key = sub.alias.value if sub.alias else sub.name.value
                items = value.get(key) or []
                if sub.name.value == "nodes":
                    cost += sum(1 + self._selection(sub.selection_set, node_type, i, True) for i in items)
                elif sub.name.value == "edges":
                    for edge in items:
                        for ef in self._fields(sub.selection_set):
                            if ef.name.value == "node":
                                k = ef.alias.value if ef.alias else "node"
                                cost += 1 + self._selection(ef.selection_set, node_type, edge.get(k), True)
            return cost
        size = _int_arg(f, "first", self.variables) or _int_arg(f, "last", self.variables) or 0
        per_item = 0
        for sub in self._fields(f.selection_set):
            if sub.name.value == "nodes":
                per_item = max(per_item, 1 + self._selection(sub.selection_set, node_type, None, False))
            elif sub.name.value == "edges":
                for ef in self._fields(sub.selection_set):
                    if ef.name.value == "node":
                        per_item = max(per_item, 1 + self._selection(ef.selection_set, node_type, None, False))
        return 2 + size * per_item
