"""Date helpers in LoanTrack's single business time zone, Asia/Shanghai."""

import calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format

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


# Working hours for promised reply times (inquiries): 09:00–18:00 on business days, Asia/Shanghai.
WORKDAY_START_HOUR = 9
WORKDAY_END_HOUR = 18
WORKDAY_HOURS = WORKDAY_END_HOUR - WORKDAY_START_HOUR


def add_working_hours(start: datetime, hours: int | float) -> datetime:
    """The moment `hours` working hours after `start`, counting only 09:00–18:00 on business days.

    A start outside working hours counts from the next opening, so a question sent on Friday at 17:00 with a 4-hour
    target is due on Monday at 12:00 (one hour on Friday, three on Monday). Returns an aware Asia/Shanghai datetime.
    """
    if timezone.is_naive(start):
        raise ValueError("add_working_hours needs an aware datetime.")
    if hours < 0:
        raise ValueError(f"hours must be zero or positive, not {hours}.")
    remaining = timedelta(hours=hours)
    current = start.astimezone(SHANGHAI)
    while True:
        day = current.date()
        opening = datetime.combine(day, time(WORKDAY_START_HOUR), tzinfo=SHANGHAI)
        closing = datetime.combine(day, time(WORKDAY_END_HOUR), tzinfo=SHANGHAI)
        if not is_business_day(day) or current >= closing:
            current = datetime.combine(add_business_days(day, 1), time(WORKDAY_START_HOUR), tzinfo=SHANGHAI)
            continue
        current = max(current, opening)
        if current + remaining <= closing:
            return current + remaining
        remaining -= closing - current
        current = closing


def working_minutes_between(start: datetime, end: datetime) -> int:
    """Whole working minutes (09:00–18:00 on business days) from `start` to `end`; 0 if `end` is not later."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("working_minutes_between needs aware datetimes.")
    start, end = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if is_business_day(day):
            opening = datetime.combine(day, time(WORKDAY_START_HOUR), tzinfo=SHANGHAI)
            closing = datetime.combine(day, time(WORKDAY_END_HOUR), tzinfo=SHANGHAI)
            span_start, span_end = max(start, opening), min(end, closing)
            if span_end > span_start:
                total += span_end - span_start
        day += ONE_DAY
    return int(total.total_seconds() // 60)


# English dates in messages and replies read "15 March 2026"; Chinese uses the locale's 2026年3月15日.
PEOPLE_DATE_FORMATS = {"en": "j F Y"}


def date_text(day: date, language: str) -> str:
    """A date as a borrower reads it in `language`: 2026年3月15日, or 15 March 2026 in English."""
    with translation.override(language):
        return date_format(day, PEOPLE_DATE_FORMATS.get(language, "DATE_FORMAT"))
