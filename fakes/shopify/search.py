"""Shopify's search syntax for `query:` arguments, the subset the product uses.

`sku:A OR sku:B`, `updated_at:>=2026-01-01T00:00:00Z`, `status:draft`, `title:Shirt`, `id:>=123`, bare words
(title contains). Terms joined by spaces or AND must all match; OR separates alternatives.
"""

from __future__ import annotations

import re
from datetime import datetime

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
    for alternative in re.split(r"\s+OR\s+", query.strip()):
        ok = True
        for m in _TERM.finditer(alternative):
            if m["word"]:
                if m["word"] in ("AND",):
                    continue
                ok = ok and m["word"].lower() in str(fields.get(default_field, "")).lower()
                continue
            name, value = m["field"], m["value"].strip("\"'")
            actual = fields.get(name)
            if isinstance(actual, list | tuple | set) and not m["op"]:
                ok = ok and any(_compare(a, None, value) for a in actual)
            else:
                ok = ok and _compare(actual, m["op"], value)
        if ok:
            return True
    return False
