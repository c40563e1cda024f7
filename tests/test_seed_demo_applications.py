"""`manage.py seed_demo` loads products, borrowers and applications in every status, and a second run adds nothing.

The module seeds twice inside a transaction rolled back at its end (tests.seeding); each test runs in a savepoint of it.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Branch
from applications import demo
from applications.models import Application, ApplicationEvent, ApplicationStatus, Material, Product, Review
from core.identity import validate_mobile, validate_resident_id, validate_uscc
from tests.seeding import module_transaction, row_counts, seed_demo

pytestmark = pytest.mark.django_db

# Statuses the pre-loan demo covers; contracted and disbursed belong to postloan's demo.
PRE_LOAN_STATUSES = set(ApplicationStatus.values) - {ApplicationStatus.CONTRACTED, ApplicationStatus.DISBURSED}


@dataclass(frozen=True)
class Seeded:
    output: str  # of the first run
    media_root: str  # MEDIA_ROOT while seeding
    counts_after_first_run: dict[str, int]
    counts_after_second_run: dict[str, int]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("media")
    with module_transaction(django_db_blocker, media_root):
        output = seed_demo()
        counts_after_first_run = row_counts()
        seed_demo()
        yield Seeded(
            output=output,
            media_root=str(media_root),
            counts_after_first_run=counts_after_first_run,
            counts_after_second_run=row_counts(),
        )


def test_it_leaves_every_table_unchanged_when_run_twice(seeded):
    first = seeded.counts_after_first_run

    assert seeded.counts_after_second_run == first
    assert first["applications.Application"] >= 55
    assert "applications:" in seeded.output


def test_it_covers_every_pre_loan_status_product_and_branch(seeded):
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


def test_it_builds_real_timelines_through_the_services(seeded):
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


def test_it_puts_some_applications_past_their_review_target_and_above_approvers_limits(seeded):
    waiting = Application.objects.filter(status__in=["submitted", "initial_review", "secondary_review"])
    assert any(application.sla_breached for application in waiting)
    assert not all(application.sla_breached for application in waiting)
    assert waiting.filter(status="secondary_review", amount__gt=500_000).exists()


def test_it_stores_uploaded_files_under_media_root(seeded, settings):
    settings.MEDIA_ROOT = seeded.media_root  # each test otherwise gets its own (tests/conftest.py)

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
