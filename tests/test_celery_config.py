"""The Celery wiring that the whole project relies on: routing to the three queues and safe defaults."""

import pytest
from django.conf import settings

from loantrack.celery import app as celery_app


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("notifications.tasks.send_message", "notifications"),
        ("notifications.tasks.sweep_outbox", "notifications"),
        ("postloan.tasks.sweep_overdue", "sweeps"),
        ("followups.tasks.plan_followups", "default"),
        ("applications.tasks.sweep_expired_approvals", "sweeps"),
    ],
)
def test_it_routes_each_task_to_its_own_queue_only(task_name, queue):
    route = celery_app.amqp.router.route({}, task_name)

    assert route["queue"].name == queue
    # A shared routing key would copy the message into every queue bound with it.
    assert route["queue"].routing_key == queue
    assert route["queue"].exchange.name == queue


def test_it_accepts_only_json_and_acknowledges_late():
    conf = celery_app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert conf.timezone == "Asia/Shanghai"


@pytest.mark.django_db
def test_it_keeps_beat_schedule_rows_equal_to_the_settings_list_idempotently():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from core.periodic import sync_periodic_tasks

    before = (PeriodicTask.objects.count(), CrontabSchedule.objects.count())
    sync_periodic_tasks()
    sync_periodic_tasks()

    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count()) == before
    for name, spec in settings.PERIODIC_TASKS.items():
        task = PeriodicTask.objects.get(name=name)
        assert task.task == spec["task"]
        assert task.queue == spec["queue"]
        assert str(task.crontab.timezone) == "Asia/Shanghai"
