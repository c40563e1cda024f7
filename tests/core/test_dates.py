from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core.dates import (
    SHANGHAI,
    add_business_days,
    add_months,
    is_business_day,
    local_now,
    local_today,
    next_local_time,
)

# 2025 National Day: 1–8 October off, Sunday 28 September and Saturday 11 October worked instead (调休).
NATIONAL_DAY_2025 = [f"2025-10-0{day}" for day in range(1, 9)]
MAKE_UP_WORKDAYS_2025 = ["2025-09-28", "2025-10-11"]


@pytest.fixture
def frozen_now(monkeypatch):
    # 17:30 UTC on 31 January is already 1 February in Shanghai.
    instant = datetime(2028, 1, 31, 17, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


def test_it_gives_the_aware_local_time_in_shanghai(frozen_now):
    now = local_now()
    assert now == frozen_now
    assert now.tzinfo == SHANGHAI
    assert (now.hour, now.minute) == (1, 30)


def test_it_gives_the_local_date_not_the_utc_date(frozen_now):
    assert local_today() == date(2028, 2, 1)


def test_it_clips_the_month_end_to_a_leap_february():
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_it_keeps_the_anchor_day_after_a_short_month():
    assert add_months(date(2028, 1, 31), 2) == date(2028, 3, 31)
    assert add_months(date(2028, 2, 29), 1, day=31) == date(2028, 3, 31)


def test_it_clips_to_february_28_in_a_common_year():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)


def test_it_crosses_year_boundaries():
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert add_months(date(2027, 12, 31), 12) == date(2028, 12, 31)


def test_it_goes_back_with_negative_months():
    assert add_months(date(2028, 3, 31), -1) == date(2028, 2, 29)
    assert add_months(date(2028, 1, 15), -1) == date(2027, 12, 15)
    assert add_months(date(2028, 5, 31), -15) == date(2027, 2, 28)


def test_it_returns_the_same_date_for_zero_months():
    assert add_months(date(2028, 1, 31), 0) == date(2028, 1, 31)


@pytest.mark.parametrize("day", [0, 32])
def test_it_rejects_an_impossible_anchor_day(day):
    with pytest.raises(ValueError):
        add_months(date(2028, 1, 1), 1, day=day)


def test_it_treats_weekdays_as_business_days_and_weekends_not(settings):
    del settings.LOANTRACK_HOLIDAYS
    del settings.LOANTRACK_EXTRA_WORKDAYS
    assert is_business_day(date(2025, 9, 26))  # Friday
    assert not is_business_day(date(2025, 9, 27))  # Saturday
    assert not is_business_day(date(2025, 9, 28))  # Sunday


@override_settings(LOANTRACK_HOLIDAYS=NATIONAL_DAY_2025, LOANTRACK_EXTRA_WORKDAYS=MAKE_UP_WORKDAYS_2025)
def test_it_applies_configured_holidays_and_make_up_workdays():
    assert not is_business_day(date(2025, 10, 1))  # Wednesday, National Day
    assert is_business_day(date(2025, 9, 28))  # Sunday worked instead
    assert is_business_day(date(2025, 10, 11))  # Saturday worked instead


def test_it_adds_business_days_over_a_weekend():
    with override_settings(LOANTRACK_HOLIDAYS=[], LOANTRACK_EXTRA_WORKDAYS=[]):
        assert add_business_days(date(2025, 9, 26), 1) == date(2025, 9, 29)  # Friday -> Monday
        assert add_business_days(date(2025, 9, 25), 3) == date(2025, 9, 30)  # Thursday -> Tuesday
        assert add_business_days(date(2025, 9, 27), 1) == date(2025, 9, 29)  # Saturday -> Monday


def test_it_adds_business_days_over_a_configured_holiday():
    with override_settings(LOANTRACK_HOLIDAYS=NATIONAL_DAY_2025, LOANTRACK_EXTRA_WORKDAYS=MAKE_UP_WORKDAYS_2025):
        assert add_business_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
        assert add_business_days(date(2025, 9, 26), 1) == date(2025, 9, 28)  # the make-up Sunday
        assert add_business_days(date(2025, 10, 9), 2) == date(2025, 10, 11)  # the make-up Saturday


def test_it_returns_the_day_itself_or_the_next_business_day_for_zero():
    with override_settings(LOANTRACK_HOLIDAYS=NATIONAL_DAY_2025, LOANTRACK_EXTRA_WORKDAYS=[]):
        assert add_business_days(date(2025, 9, 30), 0) == date(2025, 9, 30)
        assert add_business_days(date(2025, 10, 1), 0) == date(2025, 10, 9)


def test_it_works_when_the_calendar_settings_are_absent(settings):
    del settings.LOANTRACK_HOLIDAYS
    del settings.LOANTRACK_EXTRA_WORKDAYS
    assert add_business_days(date(2025, 10, 1), 1) == date(2025, 10, 2)


def test_it_accepts_a_comma_separated_holiday_string():
    with override_settings(LOANTRACK_HOLIDAYS="2025-10-01, 2025-10-02", LOANTRACK_EXTRA_WORKDAYS=None):
        assert not is_business_day(date(2025, 10, 2))
        assert is_business_day(date(2025, 10, 3))


def test_it_refuses_a_negative_number_of_business_days():
    with pytest.raises(ValueError):
        add_business_days(date(2025, 10, 1), -1)


def test_it_finds_the_next_hour_later_the_same_day():
    at = datetime(2028, 3, 1, 6, 15, tzinfo=SHANGHAI)
    assert next_local_time(at, hour=8) == datetime(2028, 3, 1, 8, 0, tzinfo=SHANGHAI)


def test_it_moves_to_the_next_day_when_the_hour_has_passed():
    at = datetime(2028, 2, 29, 21, 30, tzinfo=SHANGHAI)
    assert next_local_time(at, hour=8) == datetime(2028, 3, 1, 8, 0, tzinfo=SHANGHAI)


def test_it_returns_the_same_instant_when_exactly_on_the_hour():
    at = datetime(2028, 3, 1, 8, 0, tzinfo=SHANGHAI)
    assert next_local_time(at, hour=8) == at


def test_it_uses_the_shanghai_clock_for_utc_input():
    at = datetime(2028, 3, 1, 13, 0, tzinfo=UTC)  # 21:00 in Shanghai
    result = next_local_time(at, hour=8)
    assert result == datetime(2028, 3, 2, 8, 0, tzinfo=SHANGHAI)
    assert result.tzinfo == SHANGHAI
    assert result - at == timedelta(hours=11)


def test_it_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        next_local_time(datetime(2028, 3, 1, 8, 0), hour=8)


@pytest.mark.parametrize("hour", [-1, 24])
def test_it_refuses_an_impossible_hour(hour):
    with pytest.raises(ValueError):
        next_local_time(datetime(2028, 3, 1, 8, 0, tzinfo=SHANGHAI), hour=hour)
