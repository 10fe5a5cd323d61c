from datetime import UTC, datetime, timedelta, timezone

import pytest

from shopml.errors import ConfigError, DataError
from shopml.times import as_utc


def test_text_aware_and_naive_values() -> None:
    assert as_utc("2026-01-31T01:00:00+01:00") == datetime(2026, 1, 31, tzinfo=UTC)
    aware = datetime(2026, 1, 31, 3, tzinfo=timezone(timedelta(hours=3)))
    assert as_utc(aware) == datetime(2026, 1, 31, tzinfo=UTC)
    assert as_utc(datetime(2026, 1, 31), naive_is_utc=True) == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(DataError, match="now: expected a timezone-aware time, got naive 2026-01-31"):
        as_utc(datetime(2026, 1, 31), "now")


def test_bad_text_names_the_field_and_error_kind() -> None:
    with pytest.raises(DataError, match=r"since: expected an ISO-8601 time .*got 'yesterday'"):
        as_utc("yesterday", "since")
    with pytest.raises(ConfigError, match="now: expected an ISO-8601 time"):
        as_utc("31/01/2026", "now", error=ConfigError)
