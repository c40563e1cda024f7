"""The daily expiry sweep: approvals not contracted within 30 days expire, once, and contracted ones never do."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation

from applications import services
from applications.models import Application, ApplicationEvent

from .factories import in_secondary_review, make_borrower

pytestmark = pytest.mark.django_db

APPROVED_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def approved(staff, **kwargs) -> Application:
    with time_machine.travel(APPROVED_AT, tick=False):
        application = in_secondary_review(staff["officer"], staff["reviewer"], **kwargs)
        services.application_review_secondary(
            application=application, by=staff["approver"], decision="approve", comment="同意"
        )
    return Application.objects.get(pk=application.pk)


def test_it_sets_the_expiry_thirty_days_after_approval(staff, product):
    application = approved(staff)

    assert application.approved_at == APPROVED_AT
    assert application.expires_at == APPROVED_AT + timedelta(days=30)


def test_it_expires_an_approval_not_contracted_after_31_days(staff, product):
    application = approved(staff)

    with translation.override("en"):
        expired = services.applications_expire(now=APPROVED_AT + timedelta(days=31))

    assert expired == 1
    application = Application.objects.get(pk=application.pk)
    assert application.status == "expired"
    event = ApplicationEvent.objects.filter(application=application, kind="status").last()
    assert (event.from_status, event.to_status, event.actor) == ("approved", "expired", None)
    assert event.note == "Not contracted within 30 days."


def test_it_uses_the_current_time_when_none_is_given(staff, product):
    application = approved(staff)

    with time_machine.travel(APPROVED_AT + timedelta(days=31)):
        assert services.applications_expire() == 1

    assert Application.objects.get(pk=application.pk).status == "expired"


def test_it_leaves_an_approval_alone_within_thirty_days(staff, product):
    application = approved(staff)
    events_before = ApplicationEvent.objects.filter(application=application).count()

    expired = services.applications_expire(now=APPROVED_AT + timedelta(days=29, hours=23))

    assert expired == 0
    assert Application.objects.get(pk=application.pk).status == "approved"
    assert ApplicationEvent.objects.filter(application=application).count() == events_before


def test_it_changes_nothing_when_run_twice(staff, product):
    application = approved(staff)
    later = APPROVED_AT + timedelta(days=31)
    assert services.applications_expire(now=later) == 1
    events_after_first = list(ApplicationEvent.objects.filter(application=application).values_list("pk", flat=True))
    updated_after_first = Application.objects.get(pk=application.pk).updated_at

    assert services.applications_expire(now=later + timedelta(hours=1)) == 0

    application = Application.objects.get(pk=application.pk)
    assert application.status == "expired"
    assert application.updated_at == updated_after_first
    assert list(ApplicationEvent.objects.filter(application=application).values_list("pk", flat=True)) == (
        events_after_first
    )


def test_it_never_expires_a_contracted_application(staff, product):
    borrower = make_borrower(staff["officer"])
    contracted = approved(staff, borrower=borrower)
    contracted.mark_contracted(by=staff["officer"])
    left_over = approved(staff, borrower=borrower)

    expired = services.applications_expire(now=APPROVED_AT + timedelta(days=45))

    assert expired == 1
    assert Application.objects.get(pk=contracted.pk).status == "contracted"
    assert Application.objects.get(pk=left_over.pk).status == "expired"
    assert not ApplicationEvent.objects.filter(application=contracted, to_status="expired").exists()


def test_it_leaves_applications_in_other_statuses_alone(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])

    assert services.applications_expire(now=APPROVED_AT + timedelta(days=400)) == 0
    assert Application.objects.get(pk=application.pk).status == "secondary_review"
