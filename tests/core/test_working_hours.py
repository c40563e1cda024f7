"""Working hours for promised reply times: 09:00–18:00 Asia/Shanghai on business days (holidays and make-up workdays
from settings), as an inquiry's due time and its response time are counted."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core.dates import SHANGHAI, add_working_hours, working_minutes_between

# The week of Monday 2 March 2026: Friday 6 March, Saturday 7, Sunday 8, Monday 9, Tuesday 10, Wednesday 11.
MON, TUE, WED, THU, FRI = (date(2026, 3, day) for day in (2, 3, 4, 5, 6))
SAT, SUN, NEXT_MON, NEXT_TUE, NEXT_WED = (date(2026, 3, day) for day in (7, 8, 9, 10, 11))


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _plain_calendar(settings):
    """Monday to Friday, no holidays, unless a test configures some."""
    settings.LOANTRACK_HOLIDAYS = []
    settings.LOANTRACK_EXTRA_WORKDAYS = []


@pytest.fixture
def monday_holiday(settings):
    settings.LOANTRACK_HOLIDAYS = [NEXT_MON.isoformat()]


# --- add_working_hours ---------------------------------------------------------------------------------------------
def test_a_friday_five_pm_question_with_a_four_hour_target_is_due_on_monday_at_noon():
    due = add_working_hours(at(FRI, 17), 4)

    assert due == at(NEXT_MON, 12)
    assert due.tzinfo == SHANGHAI


def test_nine_working_hours_from_friday_five_pm_is_monday_five_pm():
    assert add_working_hours(at(FRI, 17), 9) == at(NEXT_MON, 17)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(TUE, 10), 4, at(TUE, 14)),
        (at(TUE, 10, 25), 4, at(TUE, 14, 25)),
        (at(TUE, 15), 4, at(WED, 10)),
        (at(TUE, 14, 30), 9, at(WED, 14, 30)),  # one working day: the same time on the next business day
        (at(MON, 9), 45, at(FRI, 18)),  # a whole working week
        (at(MON, 9), 46, at(NEXT_MON, 10)),
        (at(TUE, 10), 0.5, at(TUE, 10, 30)),
        (at(TUE, 17, 45), 0.5, at(WED, 9, 15)),
    ],
    ids=[
        "morning",
        "minutes-kept",
        "over-the-evening",
        "one-working-day",
        "whole-week",
        "week-plus-one",
        "half-hour",
        "half-hour-over-the-evening",
    ],
)
def test_it_counts_working_hours_within_and_across_days(start, hours, due):
    assert add_working_hours(start, hours) == due


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (at(TUE, 0), at(TUE, 13)),
        (at(TUE, 7, 30), at(TUE, 13)),
        (at(TUE, 8, 59, 59), at(TUE, 13)),
    ],
    ids=["midnight", "half-past-seven", "a-second-before-opening"],
)
def test_a_start_before_opening_counts_from_nine(start, due):
    assert add_working_hours(start, 4) == due


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (at(TUE, 18, 0, 1), at(WED, 13)),
        (at(TUE, 19), at(WED, 13)),
        (at(TUE, 23, 59), at(WED, 13)),
        (at(FRI, 20), at(NEXT_MON, 13)),
    ],
    ids=["a-second-after-closing", "seven-pm", "before-midnight", "friday-evening"],
)
def test_a_start_after_closing_counts_from_the_next_business_morning(start, due):
    assert add_working_hours(start, 4) == due


@pytest.mark.parametrize("start", [at(SAT, 0), at(SAT, 11), at(SUN, 9), at(SUN, 23, 30)])
def test_a_start_on_a_weekend_counts_from_monday_morning(start):
    assert add_working_hours(start, 4) == at(NEXT_MON, 13)
    assert add_working_hours(start, 9) == at(NEXT_MON, 18)


def test_a_configured_holiday_is_skipped(monday_holiday):
    assert add_working_hours(at(FRI, 17), 4) == at(NEXT_TUE, 12)
    assert add_working_hours(at(FRI, 17), 9) == at(NEXT_TUE, 17)


def test_a_start_on_a_configured_holiday_counts_from_the_next_business_morning(monday_holiday):
    assert add_working_hours(at(NEXT_MON, 10), 4) == at(NEXT_TUE, 13)
    assert add_working_hours(at(SUN, 10), 4) == at(NEXT_TUE, 13)


def test_a_holiday_set_as_one_comma_separated_string_is_skipped_too(settings):
    # As an environment variable gives it.
    settings.LOANTRACK_HOLIDAYS = f"{NEXT_MON.isoformat()}, {NEXT_TUE.isoformat()}"

    assert add_working_hours(at(FRI, 17), 4) == at(NEXT_WED, 12)


def test_a_make_up_saturday_is_worked(settings):
    settings.LOANTRACK_EXTRA_WORKDAYS = [SAT.isoformat()]

    assert add_working_hours(at(FRI, 17), 4) == at(SAT, 12)
    assert add_working_hours(at(SAT, 7), 4) == at(SAT, 13)


def test_without_the_holiday_setting_the_weekdays_are_worked(settings):
    del settings.LOANTRACK_HOLIDAYS
    del settings.LOANTRACK_EXTRA_WORKDAYS

    assert add_working_hours(at(FRI, 17), 4) == at(NEXT_MON, 12)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(TUE, 9), 9, at(TUE, 18)),  # ends exactly at closing: the same day, not the next morning
        (at(TUE, 17), 1, at(TUE, 18)),
        (at(FRI, 9), 9, at(FRI, 18)),
        (at(TUE, 9), 0, at(TUE, 9)),
        (at(TUE, 12), 0, at(TUE, 12)),
        (at(TUE, 18), 1, at(WED, 10)),  # 18:00 is closed: counts from the next opening
        (at(TUE, 18), 0, at(WED, 9)),
        (at(FRI, 18), 4, at(NEXT_MON, 13)),
        (at(SAT, 12), 0, at(NEXT_MON, 9)),
        (at(TUE, 9), 18, at(WED, 18)),
        (at(TUE, 9), 18.25, at(THU, 9, 15)),
    ],
    ids=[
        "opening-plus-a-day-is-closing",
        "an-hour-to-closing",
        "friday-to-closing",
        "zero-at-opening",
        "zero-at-noon",
        "at-closing",
        "zero-at-closing",
        "friday-at-closing",
        "zero-on-saturday",
        "two-full-days",
        "two-full-days-and-a-quarter",
    ],
)
def test_exact_boundaries(start, hours, due):
    assert add_working_hours(start, hours) == due


def test_a_start_in_another_time_zone_is_read_in_shanghai():
    # 09:00 UTC is 17:00 in Shanghai.
    due = add_working_hours(datetime(2026, 3, 6, 9, 0, tzinfo=UTC), 4)

    assert due == at(NEXT_MON, 12)
    assert (due.tzinfo, due.hour) == (SHANGHAI, 12)


def test_it_refuses_a_naive_start_and_negative_hours():
    with pytest.raises(ValueError, match="aware"):
        add_working_hours(datetime(2026, 3, 6, 17, 0), 4)
    with pytest.raises(ValueError, match="zero or positive"):
        add_working_hours(at(FRI, 17), -1)


# --- working_minutes_between ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (at(TUE, 10), at(TUE, 10, 45), 45),
        (at(FRI, 17), at(NEXT_MON, 12), 240),
        (at(FRI, 17), at(NEXT_MON, 17), 540),
        (at(SAT, 10), at(NEXT_MON, 10), 60),
        (at(TUE, 7), at(TUE, 20), 540),
        (at(TUE, 19), at(WED, 8), 0),
        (at(TUE, 18), at(WED, 9), 0),
        (at(MON, 9), at(FRI, 18), 45 * 60),
        (at(TUE, 10), at(TUE, 10, 0, 59), 0),  # whole minutes only
        (at(TUE, 10), at(TUE, 10, 1, 59), 1),
        (at(TUE, 10), at(TUE, 10), 0),
        (at(TUE, 12), at(TUE, 10), 0),  # the end before the start
        (at(WED, 12), at(TUE, 10), 0),
    ],
    ids=[
        "same-morning",
        "friday-to-monday-noon",
        "friday-to-monday-five",
        "saturday-to-monday",
        "a-whole-day-from-outside-the-hours",
        "overnight",
        "closing-to-opening",
        "a-whole-week",
        "under-a-minute",
        "a-minute-and-some-seconds",
        "no-time",
        "end-before-start",
        "end-a-day-before-start",
    ],
)
def test_it_counts_working_minutes(start, end, minutes):
    assert working_minutes_between(start, end) == minutes


def test_a_configured_holiday_has_no_working_minutes(monday_holiday):
    assert working_minutes_between(at(FRI, 17), at(NEXT_TUE, 12)) == 240
    assert working_minutes_between(at(NEXT_MON, 9), at(NEXT_MON, 18)) == 0


def test_a_make_up_saturday_has_working_minutes(settings):
    settings.LOANTRACK_EXTRA_WORKDAYS = [SAT.isoformat()]

    assert working_minutes_between(at(FRI, 17), at(NEXT_MON, 12)) == 60 + 540 + 180


def test_it_reads_times_of_another_time_zone_in_shanghai():
    # 01:00 to 09:00 UTC is 09:00 to 17:00 in Shanghai.
    assert working_minutes_between(datetime(2026, 3, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, 9, tzinfo=UTC)) == 480


def test_it_refuses_naive_times():
    with pytest.raises(ValueError, match="aware"):
        working_minutes_between(datetime(2026, 3, 3, 10), at(TUE, 12))
    with pytest.raises(ValueError, match="aware"):
        working_minutes_between(at(TUE, 10), datetime(2026, 3, 3, 12))


# --- the two agree -------------------------------------------------------------------------------------------------
ROUND_TRIP_STARTS = [
    at(MON, 9),
    at(TUE, 0),
    at(TUE, 8, 59, 59),
    at(TUE, 9, 0, 1),
    at(TUE, 10, 17, 42),
    at(TUE, 13, 59),
    at(WED, 17, 59, 59),
    at(WED, 18),
    at(WED, 18, 0, 1),
    at(THU, 21, 30),
    at(FRI, 12),
    at(FRI, 17),
    at(FRI, 17, 30),
    at(SAT, 10),
    at(SUN, 23, 59, 59),
    at(date(2026, 12, 31), 16, 45),  # across the new year
    at(date(2026, 2, 27), 15, 10),  # across the end of February
    datetime(2026, 3, 5, 23, 30, tzinfo=UTC),  # Friday 07:30 in Shanghai
]
ROUND_TRIP_HOURS = [1, 4, 9, 10, 13, 45, 100]


@pytest.mark.parametrize("hours", ROUND_TRIP_HOURS)
@pytest.mark.parametrize("start", ROUND_TRIP_STARTS, ids=lambda start: start.isoformat())
def test_the_working_minutes_to_the_due_time_are_the_hours_given(start, hours):
    due = add_working_hours(start, hours)

    assert working_minutes_between(start, due) == hours * 60
    local = due.astimezone(SHANGHAI)
    assert local.weekday() < 5
    assert at(local.date(), 9) < local <= at(local.date(), 18)


@pytest.mark.parametrize("hours", [4, 9, 20])
@pytest.mark.parametrize("start", [at(FRI, 17), at(SAT, 10), at(NEXT_MON, 11), at(SUN, 8), at(THU, 18, 30)])
def test_the_round_trip_holds_with_holidays_and_make_up_days(settings, start, hours):
    settings.LOANTRACK_HOLIDAYS = [NEXT_MON.isoformat(), NEXT_TUE.isoformat()]
    settings.LOANTRACK_EXTRA_WORKDAYS = [SUN.isoformat()]

    due = add_working_hours(start, hours)

    assert working_minutes_between(start, due) == hours * 60
    assert due.date() not in (NEXT_MON, NEXT_TUE, SAT)


def test_a_minute_short_of_the_due_time_is_a_minute_short():
    start = at(FRI, 17)
    due = add_working_hours(start, 4)

    assert working_minutes_between(start, due - timedelta(minutes=1)) == 239
    assert working_minutes_between(start, due + timedelta(minutes=1)) == 241
