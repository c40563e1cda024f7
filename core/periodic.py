"""Keep django-celery-beat's periodic tasks equal to settings.PERIODIC_TASKS (the one list of what runs when)."""

import json

from django.conf import settings
from django.db import transaction


@transaction.atomic
def sync_periodic_tasks(**kwargs) -> int:
    """Create or update one PeriodicTask per entry; idempotent, so it runs after every migrate. Returns the count."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, spec in settings.PERIODIC_TASKS.items():
        fields = {"minute": "0", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
        fields.update(spec["crontab"])
        schedule, _ = CrontabSchedule.objects.get_or_create(timezone=settings.CELERY_TIMEZONE, **fields)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": spec["task"],
                "crontab": schedule,
                "interval": None,
                "queue": spec.get("queue"),
                "kwargs": json.dumps(spec.get("kwargs", {})),
                "enabled": True,
            },
        )
    return len(settings.PERIODIC_TASKS)
