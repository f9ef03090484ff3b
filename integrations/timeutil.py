"""ISO-8601 timestamps as platforms send and expect them, always read back as timezone-aware UTC.

One parser and one formatter for every integration (and for the portal, which may import integrations).
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_iso(value: datetime | str | None) -> datetime | None:
    """An ISO-8601 timestamp (`2026-07-01T12:00:00Z`, any offset) or a datetime, as an aware UTC datetime.

    A naive value is taken as UTC (SQLite hands aggregates back naive); None or "" gives None; a string that is
    not ISO-8601 raises ValueError.
    """
    if not value:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_iso(value: datetime) -> str:
    """`value` in the UTC, second-precision `2026-07-01T12:00:00Z` form that platforms accept (naive is UTC)."""
    return parse_iso(value).strftime("%Y-%m-%dT%H:%M:%SZ")
