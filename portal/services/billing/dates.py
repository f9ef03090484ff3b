"""Billing dates: when a wholesaler's billing day closes, in its own timezone, and the first day a partnership owes.

All instants are UTC; a billing date is a calendar date in the wholesaler's timezone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.models import Organization, Partnership


def cutoff_for(org: Organization, billing_date: date) -> datetime:
    """The UTC instant at which `billing_date` closes: the wholesaler's billing time in its timezone."""
    local = datetime.combine(billing_date, org.billing_time, tzinfo=ZoneInfo(org.timezone or "UTC"))
    return local.astimezone(UTC)


def due_billing_date(org: Organization, now: datetime) -> date:
    """The latest billing date whose cut-off has passed at `now`."""
    local = now.astimezone(ZoneInfo(org.timezone or "UTC"))
    return local.date() if local.time() >= org.billing_time else local.date() - timedelta(days=1)


def first_billable_date(partnership: Partnership, org: Organization) -> date | None:
    """The first billing date the partnership can have: the day it was accepted, in the wholesaler's timezone."""
    start = partnership.accepted_at or partnership.created_at
    return start.astimezone(ZoneInfo(org.timezone or "UTC")).date() if start else None
