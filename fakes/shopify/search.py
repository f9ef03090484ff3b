"""Shopify's search syntax for `query:` arguments, the subset the product uses.

`sku:A OR sku:B`, `updated_at:>=2026-01-01T00:00:00Z`, `status:draft`, `title:Shirt`, `id:>=123`, bare words
(title contains). Terms joined by spaces or AND must all match; OR separates alternatives.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

_TERM = re.compile(r"(?P<field>\w+):(?P<op>>=|<=|>|<)?(?P<value>\"[^\"]*\"|'[^']*'|\S+)|(?P<word>\S+)")


def _parse_dt(value: str) -> datetime | None:
    try:
        v = value.replace("Z", "+00:00")
        dt = datetime.fromisoformat(v)
        if dt.tzinfo is None:
            from datetime import UTC

            dt = dt.replace(tzinfo=UTC)
        return dt
    except ValueError:
        return None


def _compare(actual, op: str | None, wanted: str) -> bool:
    if actual is None:
        return False
    if isinstance(actual, datetime):
        target = _parse_dt(wanted)
        if target is None:
            return False
    elif isinstance(actual, int | float):
        try:
            target = type(actual)(wanted)
        except ValueError:
            return False
    elif isinstance(actual, list | tuple | set):
        return any(str(a).lower() == wanted.lower() for a in actual)
    else:
        actual, target = str(actual).lower(), wanted.lower()
        if op is None and target.endswith("*"):
            return actual.startswith(target[:-1])
    if op is None:
        return actual == target
    return {">=": actual >= target, "<=": actual <= target, ">": actual > target, "<": actual < target}[op]


def matches(query: str | None, fields: dict, default_field: str = "title") -> bool:
    """Whether a record (a dict of searchable field -> value; a value may be a list: any matches) fits `query`."""
    if not query or not query.strip():
        return True
    sets = _equalities(query)
    if sets is not None and all(isinstance(fields.get(name), str | None) for name in sets):
        return any(fields.get(name) is not None and fields[name].lower() in wanted for name, wanted in sets.items())
    for alternative in _parse(query):
        ok = True
        for word, name, op, value in alternative:
            if word:
                if word in ("AND",):
                    continue
                ok = ok and word.lower() in str(fields.get(default_field, "")).lower()
                continue
            actual = fields.get(name)
            if isinstance(actual, list | tuple | set) and not op:
                ok = ok and any(_compare(a, None, value) for a in actual)
            else:
                ok = ok and _compare(actual, op, value)
        if ok:
            return True
    return False


def only_values_of(query: str | None, name: str) -> frozenset | None:
    """The lowercased values of `name:A OR name:B ...` when that is the whole query, else None: a caller may then
    compare one attribute per record instead of building each record's searchable fields."""
    if not query or not query.strip():
        return None
    sets = _equalities(query)
    return sets[name] if sets is not None and set(sets) == {name} else None


@lru_cache(maxsize=256)
def _parse(query: str) -> tuple:
    """The query's OR alternatives, each its terms (word, field, op, value): parsed once per query, not once per
    record searched (a search over a large shop reads every record)."""
    return tuple(
        tuple(
            (m["word"], m["field"], m["op"], None if m["word"] else m["value"].strip("\"'"))
            for m in _TERM.finditer(alternative)
        )
        for alternative in re.split(r"\s+OR\s+", query.strip())
    )


@lru_cache(maxsize=256)
def _equalities(query: str) -> dict[str, frozenset] | None:
    """`sku:A OR sku:B ...` (each alternative one `field:value`, no comparison, no wildcard) as the set of values
    per field, so a text field is matched by one set lookup; None for any other query."""
    values: dict[str, set] = {}
    for alternative in _parse(query):
        if len(alternative) != 1:
            return None
        word, name, op, value = alternative[0]
        if word or op or value.endswith("*"):
            return None
        values.setdefault(name, set()).add(value.lower())
    return {name: frozenset(v) for name, v in values.items()}
