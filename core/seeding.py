"""Helpers for idempotent demo data."""

from django.db import models


def upsert(model: type[models.Model], *, defaults: dict, **lookup) -> tuple[models.Model, bool]:
    """Like update_or_create, but saves only when a value differs, so a second run writes nothing (no history rows)."""
    obj, created = model.objects.get_or_create(**lookup, defaults=defaults)
    if created:
        return obj, True
    changed = [name for name, value in defaults.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, defaults[name])
        obj.save(update_fields=changed)
    return obj, False
