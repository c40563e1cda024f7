"""Date helpers in LoanTrack's single business time zone, Asia/Shanghai."""

import calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)


def local_now() -> datetime:
    """Return the current aware datetime in Asia/Shanghai."""
    return timezone.now().astimezone(SHANGHAI)


def local_today() -> date:
    """Return today's date in Asia/Shanghai."""
    return local_now().date()


def add_months(d: date, months: int, *, day: int | None = None) -> date:
    """Add months to a date, clipping the anchor day (default d.day) to the end of the target month."""
    anchor = d.day if day is None else day
    if not 1 <= anchor <= 31:
        raise ValueError(f"Anchor day must be between 1 and 31, not {anchor}.")
    year, month_index = divmod(d.year * 12 + d.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(anchor, last_day))


@lru_cache(maxsize=32)
def _parse_dates(values: tuple[str | date, ...]) -> frozenset[date]:
    return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in values)


def _configured_dates(name: str) -> frozenset[date]:
    # Read on every call rather than at import so override_settings and later edits take effect.
    values: Iterable[str | date] = getattr(settings, name, ()) or ()
    if isinstance(values, str):  # a single comma-separated string, as an environment variable would give
        values = [v for v in values.split(",") if v.strip()]
    return _parse_dates(tuple(v.strip() if isinstance(v, str) else v for v in values))


def is_business_day(d: date) -> bool:
    """Tell whether d is a working day: Mon–Fri minus holidays, plus make-up workdays (调休)."""
    if d in _configured_dates("LOANTRACK_EXTRA_WORKDAYS"):
        return True
    return d.weekday() < 5 and d not in _configured_dates("LOANTRACK_HOLIDAYS")


def add_business_days(d: date, n: int) -> date:
    """Return the n-th business day after d; with n=0, d itself if a business day, else the next one."""
    if n < 0:
        raise ValueError(f"n must be zero or positive, not {n}.")
    current = d
    if n == 0:
        while not is_business_day(current):
            current += ONE_DAY
        return current
    # Count only the business days strictly after d, so a Saturday plus one business day is Monday.
    remaining = n
    while remaining:
        current += ONE_DAY
        if is_business_day(current):
            remaining -= 1
    return current


def next_local_time(at: datetime, *, hour: int) -> datetime:
    """Return the first Asia/Shanghai datetime at hour:00 that is at or after `at`."""
    if timezone.is_naive(at):
        raise ValueError("next_local_time needs an aware datetime.")
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be between 0 and 23, not {hour}.")
    local = at.astimezone(SHANGHAI)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=SHANGHAI)
    if candidate < local:
        candidate = datetime.combine(local.date() + ONE_DAY, time(hour), tzinfo=SHANGHAI)
    return candidate
