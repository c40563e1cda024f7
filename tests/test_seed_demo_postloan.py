"""`manage.py seed_demo` builds a post-loan book with every aging bucket and class, made through the services with the
clock moved to each day, and a second run adds nothing.

Seeding takes seconds, so the module seeds once inside a transaction that is rolled back at its end; each test runs
in a savepoint of it, as Django's TestCase does with setUpTestData.
"""

from datetime import date, timedelta

import pytest
from django.db.models import F
from django.urls import reverse

from accounts.models import User
from core.dates import SHANGHAI, local_today
from postloan.models import (
    Bucket,
    Classification,
    ClassificationChange,
    ClassificationProposal,
    Contract,
    ContractStatus,
    Disbursement,
    DisbursementStatus,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    LoanStatus,
    PenaltyAccrual,
    ProposalStatus,
    Repayment,
    RepaymentKind,
    RepaymentReversal,
    Restructuring,
    RestructuringStatus,
    bucket_for_dpd,
)
from postloan.services.classification import class_rank, classification_floor
from tests.seeding import module_transaction, row_counts, seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    with module_transaction(django_db_blocker, tmp_path_factory.mktemp("media")):
        yield seed_demo()


def local_date(moment):
    return moment.astimezone(SHANGHAI).date()


def test_it_puts_open_loans_in_every_aging_bucket_and_class(seeded):
    open_loans = Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE])

    assert set(open_loans.values_list("bucket", flat=True)) == set(Bucket.values)
    assert set(open_loans.values_list("classification", flat=True)) == set(Classification.values)
    today = local_today()
    for loan in open_loans:
        # As today's sweep leaves them: the bucket follows the days past due, the class is never above its floor.
        assert loan.bucket == bucket_for_dpd(loan.dpd), loan.number
        assert loan.penalty_accrued_through == today, loan.number
        floor = classification_floor(
            dpd=loan.dpd, restructured=loan.restructured, observation_until=loan.observation_until, on=today
        )
        assert class_rank(loan.classification) >= class_rank(floor.classification), loan.number
    assert open_loans.filter(bucket=Bucket.DPD_360_PLUS, classification=Classification.LOSS).exists()
    assert open_loans.filter(dpd__gt=270, dpd__lte=360, classification=Classification.DOUBTFUL).exists()
    assert "postloan: 17 new loans of 17" in seeded


def test_it_spreads_the_loans_over_branches_products_and_the_last_year_and_a_half(seeded):
    loans = Loan.objects.select_related("branch", "product")

    assert {loan.branch.code for loan in loans} == {"HQ", "BJ", "SH"}
    assert {loan.product.code for loan in loans} == {
        "PERSONAL_CONSUMER",
        "SME_OPERATING",
        "MORTGAGE",
        "AUTO",
    }
    days_ago = sorted((local_today() - loan.disbursed_on).days for loan in loans)
    assert days_ago[0] < 120
    assert days_ago[-1] > 500  # the loan 400 days past due went out about 17 months ago
    months = {(loan.disbursed_on.year, loan.disbursed_on.month) for loan in loans}
    assert len(months) >= 10


def test_it_dates_every_step_on_the_day_it_happened(seeded):
    for loan in Loan.objects.all():
        disbursed = loan.events.get(kind=LoanEvent.Kind.DISBURSED)
        assert local_date(disbursed.created_at) == loan.disbursed_on, loan.number
        signed = local_date(loan.contract.confirmed_at)
        assert loan.contract.application.approved_at < loan.contract.confirmed_at
        assert signed < loan.disbursed_on < loan.contract.first_due_date
    for repayment in Repayment.objects.all():
        assert local_date(repayment.posted_at) == repayment.paid_on, repayment.reference
    # The sweep records an overdue episode the day after the missed due date (a few days after it when a reversal
    # took the payment back later).
    events = LoanEvent.objects.filter(kind=LoanEvent.Kind.OVERDUE)
    assert events.count() >= 8
    for event in events:
        late = date.fromisoformat(event.data["business_date"]) - date.fromisoformat(event.data["overdue_since"])
        assert timedelta(0) <= late <= timedelta(days=4), event.data
    assert sum(event.data["business_date"] == event.data["overdue_since"] for event in events) >= events.count() - 1


def test_it_repays_most_loans_some_late_some_partly(seeded):
    loans = Loan.objects.all()
    assert all(loan.repayments.exists() for loan in loans)
    assert Repayment.objects.count() >= 80
    paid_late = Installment.objects.filter(status=InstallmentStatus.PAID, paid_on__gt=F("due_date"))
    assert paid_late.filter(penalty_paid__gt=0).count() >= 3
    assert Installment.objects.filter(status=InstallmentStatus.PARTIAL).exists()
    assert LoanEvent.objects.filter(kind=LoanEvent.Kind.CURED).exists()
    assert PenaltyAccrual.objects.exists()


def test_it_has_one_loan_paid_off_early(seeded):
    loan = Loan.objects.get(status=LoanStatus.PAID_OFF)

    assert loan.outstanding_principal == 0
    assert loan.repayments.filter(kind=RepaymentKind.PAYOFF).count() == 1
    assert not loan.current_installments().exclude(status=InstallmentStatus.PAID).exists()
    assert loan.paid_off_on < loan.maturity_date


def test_it_has_one_loan_restructured_through_both_approvals(seeded):
    restructuring = Restructuring.objects.select_related("loan").get()

    assert restructuring.status == RestructuringStatus.APPROVED
    people = {restructuring.requested_by_id, restructuring.risk_approved_by_id, restructuring.approved_by_id}
    assert len(people) == 3
    loan = restructuring.loan
    assert loan.restructured and loan.current_version == 2
    assert loan.observation_until >= local_today()
    assert loan.classification == Classification.SPECIAL_MENTION
    assert loan.dpd == 0
    assert loan.credit_balance == 0
    # The borrower has paid the new schedule's first (interest-only) installment.
    first = loan.current_installments().order_by("number").first()
    assert first.status == InstallmentStatus.PAID and first.principal_due == 0


def test_it_has_one_manual_classification_in_force_approved_by_a_second_person(seeded):
    proposal = ClassificationProposal.objects.select_related("loan", "proposed_by", "decided_by").get()

    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.proposed_by.username == "risk_officer_sh"
    assert proposal.decided_by.username == "manager_sh"
    loan = proposal.loan
    assert loan.manual_classification == proposal.proposed_class == Classification.SUBSTANDARD
    assert loan.classification == Classification.SUBSTANDARD
    assert loan.dpd <= 30  # worse than the floor of its days past due: the manual class holds it there
    assert ClassificationChange.objects.filter(loan=loan, source="manual", by=proposal.decided_by).exists()


def test_it_has_one_reversal_by_someone_other_than_the_poster_and_the_payment_made_again(seeded):
    reversal = RepaymentReversal.objects.select_related("repayment__loan").get()

    repayment = reversal.repayment
    assert repayment.is_reversed
    assert reversal.reversed_by_id != repayment.posted_by_id
    assert not repayment.allocations.filter(is_active=True).exists()
    later = repayment.loan.repayments.filter(is_reversed=False, paid_on__gt=repayment.paid_on)
    assert later.exists()
    assert repayment.loan.status == LoanStatus.ACTIVE


def test_it_leaves_contracts_and_a_disbursement_waiting_on_the_confirmations_page(seeded, client):
    waiting_contracts = Contract.objects.filter(status=ContractStatus.PREPARED)
    waiting_disbursements = Disbursement.objects.filter(status=DisbursementStatus.PREPARED)
    assert waiting_contracts.count() == 2
    assert waiting_disbursements.count() == 1
    assert not Loan.objects.filter(contract__in=waiting_contracts).exists()

    client.force_login(User.objects.get(username="approver_bj"))
    page = client.get(reverse("postloan:confirmations"))

    assert page.status_code == 200
    content = page.content.decode()
    bj_waiting = waiting_contracts.filter(branch__code="BJ")
    assert bj_waiting.exists()
    assert all(contract.number in content for contract in bj_waiting)
    assert waiting_disbursements.get().contract.number in content


def test_it_shows_the_overdue_loans_to_the_branch_officer(seeded, client):
    client.force_login(User.objects.get(username="officer_bj"))

    page = client.get(reverse("postloan:overdue"))

    assert page.status_code == 200
    overdue = Loan.objects.filter(branch__code="BJ", status=LoanStatus.OVERDUE)
    assert overdue.count() >= 3
    content = page.content.decode()
    assert all(loan.number in content for loan in overdue)


def test_it_adds_nothing_when_run_again(seeded):
    first = row_counts()
    loans, repayments, installments, events = (
        Loan.objects.count(),
        Repayment.objects.count(),
        Installment.objects.count(),
        LoanEvent.objects.count(),
    )

    output = seed_demo()

    assert row_counts() == first
    assert (Loan.objects.count(), Repayment.objects.count(), Installment.objects.count()) == (
        loans,
        repayments,
        installments,
    )
    assert LoanEvent.objects.count() == events
    assert "postloan: 0 new loans of 17" in output
    assert "0 new items waiting for confirmation" in output


def test_it_keeps_the_first_loans_approval_before_the_borrower_came_in(seeded):
    # A borrower came in shortly before their first application, also when that application is a year old.
    for loan in Loan.objects.select_related("borrower", "contract__application"):
        assert loan.borrower.created_at < loan.contract.application.created_at
        assert loan.contract.application.created_at < loan.contract.application.approved_at - timedelta(hours=24)
