"""Restructuring (调整还款计划): preview, request, two approvals, the new schedule version and what follows it.

The loan: ¥120,000.00 at 6 % a year, equal installments of 10,327.97 over 12 months, disbursed 10 Jan 2026, due on
the 10th from 10 Feb. After installments 1–3 are paid on their due dates, 90,669.93 of principal is owed; the nine
installments left (10 May 2026 … 10 Jan 2027) would still charge 2,281.82 of interest, the first of them 453.35
(90,669.93 × 0.5 %).
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import translation

from accounts.roles import Role
from postloan import services
from postloan.models import (
    Allocation,
    Installment,
    Loan,
    LoanEvent,
    LoanStatus,
    Restructuring,
    ScheduleVersion,
    TransitionError,
)
from postloan.signals import loan_rescheduled
from tests.conftest import require_service

from .factories import disbursed_loan, installments, on, post, set_penalty

D = Decimal
OUTSTANDING = D("90669.93")
REQUESTED_ON = date(2026, 4, 20)
APPROVED_ON = date(2026, 4, 21)
NEW_FIRST_DUE = date(2026, 5, 10)


def pay_installments(loan: Loan, staff, count: int) -> None:
    """Pay the first `count` installments in full, each on its due date."""
    for item in installments(loan)[:count]:
        with on(item.due_date):
            post(loan, str(item.total_due), paid_on=item.due_date, reference=f"PAY-{item.number}", by=staff["officer"])
    loan.refresh_from_db()


def request(loan: Loan, staff, *, day: date = REQUESTED_ON, by=None, **options) -> Restructuring:
    options.setdefault("first_due_date", NEW_FIRST_DUE)
    with on(day):
        return services.restructuring_request(
            loan=loan, by=by or staff["officer"], reason="店铺装修停业三个月，收入下降", **options
        )


def approve_both(restructuring: Restructuring, staff, *, day: date = APPROVED_ON) -> Restructuring:
    with on(day):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"], note="经营可恢复")
        return services.restructuring_approve(restructuring=restructuring, by=staff["manager"], note="同意")


def version_rows(loan: Loan, version: int) -> list[Installment]:
    return list(Installment.objects.filter(loan=loan, version__version=version).order_by("number"))


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff, method="equal_installment")


@pytest.fixture
def paid_three(loan, staff):
    pay_installments(loan, staff, 3)
    assert loan.outstanding_principal == OUTSTANDING
    return loan


# --- the new schedule ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_extends_the_term_by_twelve_months_after_three_paid_installments(paid_three, staff):
    loan = paid_three
    restructuring = approve_both(request(loan, staff, extend_months=12), staff)

    loan.refresh_from_db()
    assert restructuring.status == Restructuring.Status.APPROVED
    assert (restructuring.approved_by, restructuring.new_version.version) == (staff["manager"], 2)
    assert (loan.current_version, loan.restructured, loan.observation_until) == (2, True, date(2026, 10, 21))
    new = version_rows(loan, 2)
    assert len(new) == 21
    assert sum(row.principal_due for row in new) == OUTSTANDING
    assert (new[0].due_date, new[-1].due_date) == (NEW_FIRST_DUE, date(2028, 1, 10))
    # 90,669.93 over 21 months at 6 %: 4,559.03 a month, the first with 453.35 of interest.
    assert (new[0].interest_due, new[0].principal_due) == (D("453.35"), D("4105.68"))
    assert {row.principal_due + row.interest_due for row in new[:-1]} == {D("4559.03")}
    assert all(row.status == "pending" for row in new)
    assert sum(row.interest_due for row in new) == D("5069.76")
    # The loan: maturity 12 months later, a 24-month term, the same method and rate; the summary follows version 2.
    assert (loan.maturity_date, loan.term_months) == (date(2028, 1, 10), 24)
    assert (loan.method, loan.annual_rate, loan.principal) == ("equal_installment", D("6.0000"), D("120000.00"))
    assert (loan.outstanding_principal, loan.next_due_date, loan.next_due_amount) == (
        OUTSTANDING,
        NEW_FIRST_DUE,
        D("4559.03"),
    )
    assert [item.number for item in installments(loan)] == list(range(1, 22))

    # The old schedule is still there, as it was: three rows paid (with their allocations), nine never paid.
    old = version_rows(loan, 1)
    assert [row.status for row in old] == ["paid"] * 3 + ["pending"] * 9
    assert sum(row.principal_paid for row in old) == D("120000.00") - OUTSTANDING
    assert Allocation.objects.filter(loan=loan, is_active=True, installment__version__version=1).count() == 3
    version = ScheduleVersion.objects.get(loan=loan, version=2)
    assert (version.reason, version.created_by) == ("restructuring", staff["manager"])

    event = LoanEvent.objects.get(loan=loan, kind=LoanEvent.Kind.RESTRUCTURED)
    assert event.actor == staff["manager"]
    assert (event.data["version"], event.data["from_version"], event.data["principal"]) == (2, 1, "90669.93")
    assert (event.data["from_maturity"], event.data["maturity"]) == ("2027-01-10", "2028-01-10")
    assert restructuring.decision_note == "经营可恢复\n同意"


@pytest.mark.django_db
def test_it_starts_with_three_interest_only_months_at_a_lower_rate_and_equal_principal(paid_three, staff):
    loan = paid_three
    with on(REQUESTED_ON):
        preview = services.restructuring_preview(
            loan=loan, grace_months=3, new_rate="4.8", new_method="equal_principal", first_due_date=NEW_FIRST_DUE
        )
    restructuring = request(loan, staff, grace_months=3, new_rate=D("4.8000"), new_method="equal_principal")
    approve_both(restructuring, staff)

    loan.refresh_from_db()
    new = version_rows(loan, 2)
    # Nine months as before (no extension): 3 × 362.68 interest only (90,669.93 × 0.4 %), then 6 × 15,111.66 of
    # principal, the last one taking the 15,111.63 left.
    assert [(row.principal_due, row.interest_due) for row in new[:3]] == [(D("0.00"), D("362.68"))] * 3
    assert [row.principal_due for row in new[3:]] == [D("15111.66")] * 5 + [D("15111.63")]
    assert [row.interest_due for row in new[3:]] == [
        D(v) for v in ("362.68", "302.23", "241.79", "181.34", "120.89", "60.45")
    ]
    assert sum(row.principal_due for row in new) == OUTSTANDING
    assert [row.due_date for row in new] == [date(2026, month, 10) for month in range(5, 13)] + [date(2027, 1, 10)]
    assert (loan.method, loan.annual_rate, loan.maturity_date, loan.term_months) == (
        "equal_principal",
        D("4.8000"),
        date(2027, 1, 10),
        12,
    )
    # The preview shown at the request is the schedule the approval put in force (nothing changed in between).
    assert [(r.due_date, r.principal, r.interest) for r in preview.new_rows] == [
        (row.due_date, row.principal_due, row.interest_due) for row in new
    ]
    assert (preview.grace_payment, preview.new_payment) == (D("362.68"), D("15474.34"))
    assert (preview.old_interest, preview.new_interest) == (D("2281.82"), D("2357.42"))
    assert preview.interest_change == D("75.60")


@pytest.mark.django_db
def test_it_keeps_month_end_due_dates_after_an_interest_only_month(paid_three):
    with on(REQUESTED_ON):
        preview = services.restructuring_preview(loan=paid_three, grace_months=1, first_due_date=date(2026, 5, 31))

    # 31 May, then the 30th of June and the 31st of July again: never stuck on the 30th.
    assert [row.due_date for row in preview.new_rows[:4]] == [
        date(2026, 5, 31),
        date(2026, 6, 30),
        date(2026, 7, 31),
        date(2026, 8, 31),
    ]
    assert (preview.term_months, preview.new_maturity) == (9, date(2027, 1, 31))
    assert (preview.new_rows[0].principal, preview.new_rows[0].interest) == (D("0.00"), D("453.35"))


@pytest.mark.django_db
def test_it_previews_the_old_and_new_schedules_side_by_side_and_writes_nothing(paid_three):
    loan = paid_three
    before = (ScheduleVersion.objects.count(), Installment.objects.count(), LoanEvent.objects.count())

    with on(REQUESTED_ON):
        preview = services.restructuring_preview(loan=loan, extend_months=12, first_due_date=NEW_FIRST_DUE)

    assert (ScheduleVersion.objects.count(), Installment.objects.count(), LoanEvent.objects.count()) == before
    assert preview.outstanding_principal == OUTSTANDING
    assert [row.number for row in preview.old_rows] == list(range(4, 13))
    assert preview.old_rows[0].principal == D("9874.62") and preview.old_rows[-1].remaining_principal == D("0.00")
    assert (preview.old_interest, preview.new_interest, preview.interest_change) == (
        D("2281.82"),
        D("5069.76"),
        D("2787.94"),
    )
    assert (preview.old_payment, preview.new_payment, preview.grace_payment) == (D("10327.97"), D("4559.03"), None)
    assert (preview.old_maturity, preview.new_maturity, preview.term_months) == (
        date(2027, 1, 10),
        date(2028, 1, 10),
        21,
    )


@pytest.mark.django_db
def test_it_counts_interest_paid_ahead_on_the_current_installment_towards_the_new_first_interest(paid_three, staff):
    loan = paid_three
    with on(REQUESTED_ON):
        # 300.00 reaches installment 4 (due 10 May): all of it interest.
        post(loan, "300.00", paid_on=REQUESTED_ON, reference="AHEAD", by=staff["officer"])
    approve_both(request(loan, staff, extend_months=12), staff)

    new = version_rows(loan, 2)
    assert (new[0].interest_due, new[1].interest_due) == (D("153.35"), D("432.82"))  # 453.35 − 300.00
    assert sum(row.principal_due for row in new) == OUTSTANDING
    old_fourth = version_rows(loan, 1)[3]
    assert (old_fourth.interest_paid, old_fourth.status) == (D("300.00"), "partial")


@pytest.mark.django_db
def test_repayments_after_restructuring_go_to_the_new_schedule(paid_three, staff):
    loan = paid_three
    approve_both(request(loan, staff, extend_months=12), staff)

    with on(NEW_FIRST_DUE):
        repayment = post(loan, "4559.03", paid_on=NEW_FIRST_DUE, reference="NEW-1", by=staff["officer"])

    new = version_rows(loan, 2)
    assert (new[0].interest_paid, new[0].principal_paid, new[0].status) == (D("453.35"), D("4105.68"), "paid")
    allocation = Allocation.objects.get(repayment=repayment)
    assert (allocation.installment, allocation.interest, allocation.principal) == (new[0], D("453.35"), D("4105.68"))
    assert (
        Installment.objects.filter(loan=loan, version__version=1).aggregate(paid=Sum("principal_paid"))["paid"]
        == D("120000.00") - OUTSTANDING
    )
    loan.refresh_from_db()
    assert loan.outstanding_principal == OUTSTANDING - D("4105.68")
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 6, 10), D("4559.03"))

    # A repayment of the old schedule is part of the agreed history now: it cannot be reversed.
    first = loan.repayments.get(reference="PAY-1")
    with on(NEW_FIRST_DUE), pytest.raises(TransitionError, match="predates the schedule in force"):
        services.repayment_reverse(repayment=first, by=staff["manager"], reason="退票")


@pytest.mark.django_db
def test_overdue_interest_and_penalty_must_be_paid_before_the_approval(loan, staff):
    # Installment 1 (10,327.97, due 10 Feb) is unpaid on 20 Feb, with 22.50 of penalty; the loan is overdue.
    set_penalty(loan, 1, "22.50")
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.OVERDUE, overdue_since=date(2026, 2, 11), dpd=9)
    loan.refresh_from_db()
    day = date(2026, 2, 20)

    with on(day), pytest.raises(TransitionError) as refused:
        services.restructuring_preview(loan=loan, extend_months=6, first_due_date=date(2026, 3, 10))
    assert "¥600.00 of interest and ¥22.50 of penalty interest are due and unpaid" in str(refused.value)

    # The request may go in while the borrower settles the arrears; the final approval waits for them.
    restructuring = request(loan, staff, day=day, extend_months=6, first_due_date=date(2026, 3, 10))
    with on(day):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        with pytest.raises(TransitionError, match="must be paid before the schedule is restructured"):
            services.restructuring_approve(restructuring=restructuring, by=staff["manager"])
    assert Restructuring.objects.get(pk=restructuring.pk).status == Restructuring.Status.RISK_APPROVED
    assert Loan.objects.get(pk=loan.pk).current_version == 1

    with on(day):
        post(loan, "622.50", paid_on=day, reference="ARREARS", by=staff["officer"])
        services.restructuring_approve(restructuring=restructuring, by=staff["manager"])

    loan.refresh_from_db()
    # The overdue principal of installment 1 moved into the new schedule: all 120,000.00 is rescheduled over the
    # 11 months to January 2027 plus 6, and the loan is no longer overdue.
    new = version_rows(loan, 2)
    assert (len(new), sum(row.principal_due for row in new)) == (17, D("120000.00"))
    assert new[0].penalty_accrued == D("0.00")
    assert (loan.status, loan.dpd, loan.overdue_since, loan.next_due_date) == ("active", 0, None, date(2026, 3, 10))
    assert LoanEvent.objects.filter(loan=loan, kind=LoanEvent.Kind.CURED).count() == 1
    first_old = version_rows(loan, 1)[0]
    assert (first_old.penalty_paid, first_old.interest_paid, first_old.principal_paid) == (
        D("22.50"),
        D("600.00"),
        D("0.00"),
    )


# --- refusals -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_refuses_a_request_without_any_change(paid_three, staff):
    with pytest.raises(ValidationError) as refused:
        # The current rate and method again are no change either.
        request(paid_three, staff, new_rate=D("6.00"), new_method="equal_installment")
    assert refused.value.message_dict[NON_FIELD_ERRORS] == [
        "Choose at least one change: a longer term, another repayment method, interest-only months or a lower rate."
    ]
    assert not Restructuring.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_higher_rate(paid_three, staff):
    with pytest.raises(ValidationError) as refused:
        request(paid_three, staff, new_rate=D("6.5"))
    assert refused.value.message_dict["new_rate"] == [
        "A restructuring may only lower the rate; the new rate cannot be above the current 6.00%."
    ]
    with pytest.raises(ValidationError, match="cannot be negative"):
        request(paid_three, staff, new_rate=D("-1"))
    assert not Restructuring.objects.exists()


@pytest.mark.django_db
def test_it_refuses_options_outside_sensible_limits(paid_three, staff, product):
    cases = [
        ({"extend_months": 61}, "extend_months", "The term can be extended by at most 60 months."),
        ({"grace_months": 9}, "grace_months", "The new term is 9 months; the interest-only months must leave"),
        ({"extend_months": 1, "first_due_date": REQUESTED_ON}, "first_due_date", "must be after today"),
        ({"extend_months": 1, "first_due_date": date(2026, 7, 10)}, "first_due_date", "within two months of today"),
        ({"new_rate": "4.12345"}, "new_rate", "at most four decimals"),
        ({"extend_months": -1}, "extend_months", "Enter a whole number of months"),
    ]
    for options, field, message in cases:
        with pytest.raises(ValidationError) as refused:
            request(paid_three, staff, **options)
        assert message in refused.value.message_dict[field][0], options

    product.methods = ["equal_installment"]
    product.save()
    with pytest.raises(ValidationError) as refused:
        request(paid_three, staff, new_method="equal_principal")
    assert refused.value.message_dict["new_method"][0].startswith("Choose one of the repayment methods of the product")
    assert not Restructuring.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_paid_installment_on_or_after_the_new_start(loan, staff):
    # Installment 1 paid early, on 5 Feb; a schedule from 10 Feb would charge its month again.
    with on(date(2026, 2, 5)):
        post(loan, "10327.97", paid_on=date(2026, 2, 5), reference="EARLY", by=staff["officer"])
    with pytest.raises(ValidationError) as refused:
        request(loan, staff, day=date(2026, 2, 6), extend_months=3, first_due_date=date(2026, 2, 10))
    assert refused.value.message_dict["first_due_date"] == [
        "Installment 1, due Feb. 10, 2026, is already paid; the new schedule must start after it."
    ]


@pytest.mark.django_db
def test_it_refuses_to_restructure_a_paid_off_loan(loan, staff):
    with on(date(2026, 1, 20)):
        quote = services.payoff_quote(loan=loan, on_date=date(2026, 1, 20))
        services.payoff_post(
            loan=loan,
            on_date=date(2026, 1, 20),
            reference="PAYOFF",
            channel="bank_transfer",
            by=staff["officer"],
            expected_total=quote.total,
        )
    loan.refresh_from_db()
    with pytest.raises(TransitionError) as refused:
        request(loan, staff, day=date(2026, 1, 21), extend_months=6, first_due_date=date(2026, 2, 10))
    assert str(refused.value) == "Only an active or overdue loan can be restructured; this one is “Paid off”."
    with on(date(2026, 1, 21)), pytest.raises(TransitionError, match="Only an active or overdue loan"):
        services.restructuring_preview(loan=loan, extend_months=6, first_due_date=date(2026, 2, 10))


@pytest.mark.django_db
def test_it_keeps_one_open_request_per_loan(paid_three, staff):
    first = request(paid_three, staff, extend_months=6)
    with pytest.raises(TransitionError, match="A restructuring request is already waiting for this loan"):
        request(paid_three, staff, by=staff["risk"], grace_months=2)
    assert list(Restructuring.objects.all()) == [first]

    # Once it is decided, a new request may go in.
    with on(REQUESTED_ON):
        services.restructuring_reject(restructuring=first, by=staff["risk"], note="收入证明不足")
    second = request(paid_three, staff, grace_months=2)
    assert second.status == Restructuring.Status.REQUESTED


# --- maker-checker, roles and scope -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_requester_cannot_risk_approve_their_own_request(paid_three, staff, make_user, branches):
    restructuring = request(paid_three, staff, by=staff["risk"], extend_months=6)
    with on(APPROVED_ON), pytest.raises(PermissionDenied, match="another risk officer must approve it"):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])

    colleague = make_user("pl_risk2", Role.RISK_OFFICER, branch=branches["BJ"])
    with on(APPROVED_ON):
        services.restructuring_risk_approve(restructuring=restructuring, by=colleague)
    assert Restructuring.objects.get(pk=restructuring.pk).risk_approved_by == colleague


@pytest.mark.django_db
def test_the_risk_approver_cannot_give_the_final_approval(paid_three, staff, make_user, branches):
    both = make_user("pl_risk_manager", Role.RISK_OFFICER, Role.MANAGER, branch=branches["BJ"])
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        services.restructuring_risk_approve(restructuring=restructuring, by=both)
        with pytest.raises(PermissionDenied, match="another colleague must give the final approval"):
            services.restructuring_approve(restructuring=restructuring, by=both)
    assert Restructuring.objects.get(pk=restructuring.pk).status == Restructuring.Status.RISK_APPROVED
    assert Loan.objects.get(pk=paid_three.pk).current_version == 1


@pytest.mark.django_db
def test_wrong_roles_get_403_and_the_steps_go_in_order(paid_three, staff):
    for user in (staff["reviewer"], staff["approver"], staff["manager"]):
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            request(paid_three, staff, by=user, extend_months=6)
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        for user in (staff["officer2"], staff["manager"]):
            with pytest.raises(PermissionDenied):
                services.restructuring_risk_approve(restructuring=restructuring, by=user)
        # A manager's turn comes after the risk officer's.
        with pytest.raises(TransitionError, match="“Waiting for the risk officer”; it cannot be decided on now"):
            services.restructuring_approve(restructuring=restructuring, by=staff["manager"])
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        with pytest.raises(TransitionError, match="cannot be decided on now"):
            services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        for user in (staff["officer2"], staff["approver"]):
            with pytest.raises(PermissionDenied):
                services.restructuring_approve(restructuring=restructuring, by=user)
    assert Restructuring.objects.get(pk=restructuring.pk).status == Restructuring.Status.RISK_APPROVED


@pytest.mark.django_db
def test_staff_of_another_branch_cannot_act_but_head_office_can(paid_three, staff):
    with pytest.raises(PermissionDenied, match="another branch"):
        request(paid_three, staff, by=staff["other_officer"], extend_months=6)
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        with pytest.raises(PermissionDenied, match="another branch"):
            services.restructuring_approve(restructuring=restructuring, by=staff["other_manager"])
        services.restructuring_approve(restructuring=restructuring, by=staff["hq_manager"])
    assert Loan.objects.get(pk=paid_three.pk).current_version == 2


@pytest.mark.django_db
def test_each_step_rejects_with_a_reason(paid_three, staff):
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        # While it waits for the risk officer, the manager cannot decide; no reason is no rejection.
        with pytest.raises(PermissionDenied):
            services.restructuring_reject(restructuring=restructuring, by=staff["manager"], note="不同意")
        with pytest.raises(ValidationError, match="Say why the restructuring is rejected"):
            services.restructuring_reject(restructuring=restructuring, by=staff["risk"], note="  ")
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        # Now it is the manager's, and not the risk officer's who approved it.
        with pytest.raises(PermissionDenied):
            services.restructuring_reject(restructuring=restructuring, by=staff["risk"], note="再想想")
        services.restructuring_reject(restructuring=restructuring, by=staff["manager"], note="还款能力不足")
        with pytest.raises(TransitionError, match="“Rejected”; it cannot be decided on now"):
            services.restructuring_approve(restructuring=restructuring, by=staff["manager"])

    restructuring.refresh_from_db()
    assert (restructuring.status, restructuring.rejected_by) == (Restructuring.Status.REJECTED, staff["manager"])
    assert restructuring.decision_note.endswith("还款能力不足")
    assert Loan.objects.get(pk=paid_three.pk).current_version == 1
    steps = [event.data["event"] for event in LoanEvent.objects.filter(loan=paid_three, kind=LoanEvent.Kind.NOTE)]
    assert steps == ["restructuring_requested", "restructuring_risk_approved", "restructuring_rejected"]


@pytest.mark.django_db
def test_only_the_requester_withdraws_an_open_request(paid_three, staff):
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        with pytest.raises(PermissionDenied, match="Only the colleague who requested"):
            services.restructuring_withdraw(restructuring=restructuring, by=staff["officer2"])
        services.restructuring_withdraw(restructuring=restructuring, by=staff["officer"])
        with pytest.raises(TransitionError, match="“Withdrawn”; it can no longer be withdrawn"):
            services.restructuring_withdraw(restructuring=restructuring, by=staff["officer"])
    assert restructuring.status == Restructuring.Status.WITHDRAWN
    assert restructuring.history.count() == 2  # requested, withdrawn


# --- the signal ---------------------------------------------------------------------------------------------------
@pytest.fixture
def rescheduled():
    received = []

    def receiver(sender, **kwargs):
        received.append({key: kwargs[key] for key in ("loan_id", "version")})

    loan_rescheduled.connect(receiver, dispatch_uid="test_restructuring")
    yield received
    loan_rescheduled.disconnect(dispatch_uid="test_restructuring")


@pytest.mark.django_db
def test_it_sends_loan_rescheduled_once_after_commit(
    paid_three, staff, rescheduled, django_capture_on_commit_callbacks
):
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.restructuring_approve(restructuring=restructuring, by=staff["manager"])
            assert rescheduled == []  # not before the commit
    assert len(callbacks) == 1
    assert rescheduled == [{"loan_id": paid_three.pk, "version": 2}]


@pytest.mark.django_db
def test_it_sends_nothing_and_changes_nothing_when_the_transaction_rolls_back(
    paid_three, staff, rescheduled, django_capture_on_commit_callbacks
):
    restructuring = request(paid_three, staff, extend_months=6)
    with on(APPROVED_ON):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.restructuring_approve(restructuring=restructuring, by=staff["manager"])
            raise RuntimeError("the request failed after the approval")
    assert (callbacks, rescheduled) == ([], [])
    assert Restructuring.objects.get(pk=restructuring.pk).status == Restructuring.Status.RISK_APPROVED
    assert Loan.objects.get(pk=paid_three.pk).current_version == 1
    assert not ScheduleVersion.objects.filter(loan=paid_three, version=2).exists()


# --- concurrency (PostgreSQL) -------------------------------------------------------------------------------------
def race(tasks) -> list:
    """Run each task on its own thread (and database connection), all starting together; results or exceptions."""
    barrier = threading.Barrier(len(tasks))

    def run(task):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                try:
                    return task()
                except Exception as exc:
                    return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_final_approvals_make_exactly_one_new_version(staff, product, make_user, branches):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = disbursed_loan(staff, method="equal_installment")
    pay_installments(loan, staff, 3)
    restructuring = request(loan, staff, extend_months=12)
    with on(APPROVED_ON):
        services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
    second_manager = make_user("pl_manager2", Role.MANAGER, branch=branches["BJ"])

    def approve(manager):
        return lambda: services.restructuring_approve(
            restructuring=Restructuring.objects.get(pk=restructuring.pk), by=manager
        )

    with on(APPROVED_ON):
        results = race([approve(staff["manager"]), approve(second_manager)])

    assert sorted(type(result).__name__ for result in results) == ["Restructuring", "TransitionError"]
    assert ScheduleVersion.objects.filter(loan=loan).count() == 2
    assert Installment.objects.filter(loan=loan, version__version=2).count() == 21
    assert LoanEvent.objects.filter(loan=loan, kind=LoanEvent.Kind.RESTRUCTURED).count() == 1
    loan.refresh_from_db()
    assert (loan.current_version, loan.outstanding_principal) == (2, OUTSTANDING)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_leave_one_open_request(staff, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = disbursed_loan(staff, method="equal_installment")

    def ask(user, months):
        return lambda: services.restructuring_request(
            loan=Loan.objects.get(pk=loan.pk),
            by=user,
            reason="收入下降",
            extend_months=months,
            first_due_date=date(2026, 2, 10),
        )

    with on(date(2026, 1, 20)):
        results = race([ask(staff["officer"], 6), ask(staff["risk"], 12)])

    errors = [result for result in results if isinstance(result, Exception)]
    assert [str(error) for error in errors] == ["A restructuring request is already waiting for this loan."]
    assert Restructuring.objects.filter(loan=loan).count() == 1
