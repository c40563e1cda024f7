"""Small statistics for the KPIs: percentages, and medians/percentiles of durations in SQL where the database can.

Percentiles use the `percentile_cont` rule (linear interpolation between the two nearest values). On PostgreSQL
`grouped_duration_percentiles` runs one `percentile_cont … WITHIN GROUP` query; SQLite (development, `make run`, the
SQLite test run) has no such aggregate, so there the same single query returns the durations, grouped in Python by
`percentile()`. That fallback reads one duration per row of the queryset: fine for a development database, and the
reason production runs on PostgreSQL.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, QuerySet

ONE_DECIMAL = Decimal("0.1")
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)


def one_decimal(value: Decimal) -> Decimal:
    """Round a percentage or a number of hours to one decimal place, half up."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def percent(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    """`part` as a percentage of `whole` with one decimal (Decimal("30.0")); None when `whole` is 0 or missing."""
    if not whole:
        return None
    return one_decimal(Decimal(part or 0) * 100 / Decimal(whole))


def hours(duration: timedelta | None) -> Decimal | None:
    """A duration in hours with one decimal (exact: computed from whole microseconds); None stays None."""
    if duration is None:
        return None
    return one_decimal(Decimal(duration // timedelta(microseconds=1)) / _MICROSECONDS_PER_HOUR)


def percentile(values: Iterable, p: float | Decimal):
    """The `p`-th percentile (0 ≤ p ≤ 1) of numbers or durations, interpolated as PostgreSQL's percentile_cont.

    Numbers give a Decimal, timedeltas a timedelta (microsecond precision); None for no values. None values are
    skipped, as SQL aggregates skip NULL.
    """
    p = Decimal(str(p))
    if not 0 <= p <= 1:
        raise ValueError(f"A percentile is between 0 and 1, not {p}.")
    items = sorted(value for value in values if value is not None)
    if not items:
        return None
    durations = isinstance(items[0], timedelta)
    numbers = [Decimal(item // timedelta(microseconds=1)) if durations else Decimal(item) for item in items]
    position = p * (len(numbers) - 1)
    low = int(position)
    high = min(low + 1, len(numbers) - 1)
    result = numbers[low] + (numbers[high] - numbers[low]) * (position - low)
    if durations:
        return timedelta(microseconds=int(result.to_integral_value(rounding=ROUND_HALF_UP)))
    return result


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError(f"A percentile is between 0 and 1, not {fraction}.")
        super().__init__(expression, fraction=float(fraction), **extra)


def grouped_duration_percentiles(
    queryset: QuerySet, *, group: str, duration: str, fractions: Sequence[float], in_sql: bool | None = None
) -> dict[object, tuple[int, tuple[timedelta | None, ...]]]:
    """Per value of the `group` field: how many rows have a `duration`, and the given percentiles of it,
    {group: (count, (p1, p2, …))}. One query on either database (see the module docstring); NULL durations are
    left out. `in_sql` forces (True) or avoids (False) percentile_cont; by default it is used on PostgreSQL."""
    queryset = queryset.exclude(**{f"{duration}__isnull": True}).order_by()
    if in_sql is None:
        in_sql = connection.vendor == "postgresql"
    if in_sql:
        names = [f"p{index}" for index in range(len(fractions))]
        rows = queryset.values(group).annotate(
            n=Count("pk"),
            **{
                name: PercentileCont(duration, fraction, output_field=DurationField())
                for name, fraction in zip(names, fractions, strict=True)
            },
        )
        return {row[group]: (row["n"], tuple(row[name] for name in names)) for row in rows}
    grouped: dict[object, list[timedelta]] = defaultdict(list)
    for key, value in queryset.values_list(group, duration):
        grouped[key].append(value)
    return {
        key: (len(values), tuple(percentile(values, fraction) for fraction in fractions))
        for key, values in grouped.items()
    }
