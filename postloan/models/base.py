"""Field shapes and the history helper every post-loan model shares."""

from decimal import Decimal

from django.db import models

ZERO = Decimal("0.00")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    """An amount in yuan (DESIGN.md §3): 18 digits, 2 decimals."""
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **kwargs)


def rate_field(verbose_name, **kwargs) -> models.DecimalField:
    """A rate in percent per year with 4 decimals: Decimal("4.3500") is 4.35 %."""
    return models.DecimalField(verbose_name, max_digits=7, decimal_places=4, **kwargs)


def record_history(obj: models.Model, by) -> None:
    """Write the history row that a conditional `.update()` skips (simple_history only listens to `save()`).

    Call it after setting the new values on the instance; it records the instance as it is in memory.
    """
    type(obj).history.bulk_history_create([obj], update=True, default_user=by)
