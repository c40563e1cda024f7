"""Fixtures for the notifications tests: in-memory email and SMS, eager Celery, an admin and an officer."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from loantrack.celery import app as celery_app
from notifications import sms


@pytest.fixture(autouse=True)
def _eager_celery():
    """The on-commit enqueue runs the task inline instead of needing a broker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _local_delivery(settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_QUIET_START_HOUR = 21
    settings.NOTIFY_QUIET_END_HOUR = 8
    settings.NOTIFY_MAX_ATTEMPTS = 5
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def sms_outbox() -> list[dict]:
    return sms.outbox


def _user(username: str, role: str, **fields):
    user = get_user_model().objects.create_user(username=username, password="Correct-Horse-42", **fields)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def administrator(db):
    return _user("outbox_admin", "admin", email="admin@example.com", display_name="Admin Wang", preferred_language="en")


@pytest.fixture
def officer(db):
    return _user("outbox_officer", "officer", email="officer@example.com")


@pytest.fixture
def borrower(db):
    return _user("outbox_borrower", "borrower", phone="13812345678")
