"""One way to turn a datetime or ISO-8601 text into an aware UTC datetime, with errors that name it."""

from __future__ import annotations

from datetime import UTC, datetime

from shopml.errors import DataError, ShopmlError

__all__ = ["as_utc"]


def as_utc(
    value: datetime | str,
    name: str = "time",
    *,
    naive_is_utc: bool = False,
    error: type[ShopmlError] = DataError,
) -> datetime:
    """``value`` as an aware UTC datetime. ISO text may end in ``Z``. A naive value is an ``error``
    unless ``naive_is_utc``.

    >>> as_utc("2026-01-31T00:00:00Z").isoformat()
    '2026-01-31T00:00:00+00:00'
    >>> as_utc(datetime(2026, 1, 31), naive_is_utc=True).tzinfo
    datetime.timezone.utc
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise error(f"{name}: expected an ISO-8601 time (2026-01-31T00:00:00Z), got {value!r}") from exc
    if value.tzinfo is None:
        if not naive_is_utc:
            raise error(f"{name}: expected a timezone-aware time, got naive {value.isoformat()}")
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
