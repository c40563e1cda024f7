"""`manage.py seed_demo` loads products, borrowers and applications in every status, and a second run adds nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Branch
from applications import demo
from applications.models import Application, ApplicationEvent, ApplicationStatus, Material, Product, Review
from core.identity import validate_mobile, validate_resident_id, validate_uscc

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"core", "accounts", "notifications", "applications", "postloan", "followups", "dashboard", "portal"}
# Statuses the pre-loan demo covers; contracted and disbursed belong to postloan's demo.
PRE_LOAN_STATUSES = set(ApplicationStatus.values) - {ApplicationStatus.CONTRACTED, ApplicationStatus.DISBURSED}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = [model for model in apps.get_models(include_auto_created=True) if model._meta.app_label in PROJECT_APPS]
    return {model._meta.label: model._default_manager.count() for model in models}


def test_it_leaves_every_table_unchanged_when_run_twice():
    output = seed_demo()
    first = row_counts()

    seed_demo()

    assert row_counts() == first
    assert first["applications.Application"] >= 55
    assert "applications:" in output


def test_it_covers_every_pre_loan_status_product_and_branch():
    seed_demo()

    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses >= PRE_LOAN_STATUSES, PRE_LOAN_STATUSES - statuses
    assert Application.objects.count() >= 55
    for product in Product.objects.all():
        assert Application.objects.filter(product=product).exists(), product.code
    for branch in Branch.objects.all():
        assert Application.objects.filter(branch=branch).count() >= 3, branch.code
    assert set(Product.objects.values_list("code", flat=True)) == {
        "PERSONAL_CONSUMER",
        "SME_OPERATING",
        "MORTGAGE",
        "AUTO",
    }


def test_it_builds_real_timelines_through_the_services():
    seed_demo()

    approved = Application.objects.filter(status=ApplicationStatus.APPROVED)
    assert approved.exists()
    for application in approved:
        reviews = list(application.reviews.order_by("created_at"))
        assert [review.stage for review in reviews] == [Review.Stage.INITIAL, Review.Stage.SECONDARY]
        assert reviews[0].reviewer_id != reviews[1].reviewer_id != application.officer_id
        assert application.approved_amount <= application.amount
        assert application.expires_at > timezone.now()
        statuses = list(
            application.events.filter(kind=ApplicationEvent.Kind.STATUS).values_list("to_status", flat=True)
        )
        assert statuses == ["draft", "submitted", "initial_review", "secondary_review", "approved"]
        # Events are spread over the hours and days the workflow took, in order.
        times = list(application.events.values_list("created_at", flat=True))
        assert times == sorted(times)
        assert times[-1] - times[0] > timezone.timedelta(hours=24)
    expired = Application.objects.filter(status=ApplicationStatus.EXPIRED)
    assert expired.exists()
    assert all(application.expires_at < timezone.now() for application in expired)


def test_it_puts_some_applications_past_their_review_target_and_above_approvers_limits():
    seed_demo()

    waiting = Application.objects.filter(status__in=["submitted", "initial_review", "secondary_review"])
    assert any(application.sla_breached for application in waiting)
    assert not all(application.sla_breached for application in waiting)
    assert waiting.filter(status="secondary_review", amount__gt=500_000).exists()


def test_it_stores_uploaded_files_under_media_root(settings):
    seed_demo()

    uploaded = Material.objects.exclude(file="")
    assert uploaded.count() > 100
    sample = uploaded.first()
    path = Path(sample.file.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert path.read_bytes().startswith(b"%PDF-")
    assert sample.content_type == "application/pdf"


def test_its_borrowers_carry_valid_identity_numbers_and_mobiles():
    for person in demo.BORROWERS:
        identity_type, number = demo._identity(person)
        validator = validate_uscc if identity_type == "uscc" else validate_resident_id
        assert validator(number) == number
        assert validate_mobile(person.mobile) == person.mobile
    keys = [(plan.borrower, plan.purpose) for plan in demo.PLANS]
    assert len(keys) == len(set(keys)), "a plan's (borrower, purpose) is its natural key"
