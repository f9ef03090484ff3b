"""The one ISO-8601 parser and formatter: platform timestamps read back as aware UTC, written as `...Z`.

Naive values (SQLite aggregates) are taken as UTC; other offsets are converted.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.timeutil import format_iso, parse_iso


def test_a_shopify_z_timestamp_is_read_as_aware_utc():
    assert parse_iso("2026-07-01T12:30:00Z") == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert parse_iso("2026-07-01T12:30:00Z").tzinfo is UTC


def test_an_offset_timestamp_is_converted_to_utc_and_a_naive_one_taken_as_utc():
    assert parse_iso("2026-07-01T14:30:00+02:00") == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert parse_iso(datetime(2026, 7, 1, 12, 30)) == datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert parse_iso("2026-07-01 12:30:00").tzinfo is UTC


def test_absent_values_are_none_and_garbage_is_refused():
    assert parse_iso(None) is None and parse_iso("") is None
    with pytest.raises(ValueError):
        parse_iso("yesterday")


def test_timestamps_are_written_in_utc_with_a_z():
    local = datetime(2026, 7, 1, 14, 30, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    assert format_iso(local) == "2026-07-01T12:30:05Z"
