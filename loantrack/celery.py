"""The Celery application. Tasks live in each app's tasks.py and are found by autodiscovery."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loantrack.settings.local")

app = Celery("loantrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "notifications", "sweeps")]
app.autodiscover_tasks()
