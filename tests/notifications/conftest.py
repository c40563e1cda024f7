"""Fixtures for the notifications tests: in-memory email and SMS, an admin, an officer and a borrower.

Celery runs eagerly for every test (tests/conftest.py)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from notifications import sms
from tests.conftest import TEST_PASSWORD


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
    user = get_user_model().objects.create_user(username=username, password=TEST_PASSWORD, **fields)
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
