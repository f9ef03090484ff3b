"""Declarative base, UTC time helpers and the column types every model shares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, MetaData, Numeric, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Money():  # noqa: N802 - reads like a type in column declarations
    """Money column: exact decimal with 4 places so FX conversions keep precision before rounding."""
    return Numeric(14, 4, asdecimal=True)


def Rate():  # noqa: N802 - reads like a type in column declarations
    """Rate column (FX rates, markups): eight decimals, so a rate such as 1.000049 is kept exactly as typed."""
    return Numeric(18, 8, asdecimal=True)


ZERO = Decimal("0")


class Base(DeclarativeBase):
    """Base for every table; constraint names are deterministic so migrations agree on both databases."""

    metadata = MetaData(naming_convention=NAMING)
