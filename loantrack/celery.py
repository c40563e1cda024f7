"""The Celery application. Tasks live in each app's tasks.py and are found by autodiscovery."""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loantrack.settings.local")

app = Celery("loantrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
# One direct exchange per queue, so a task routed to "notifications" lands in that queue alone.
QUEUES = ("default", "notifications", "sweeps")
app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES]
app.autodiscover_tasks()
