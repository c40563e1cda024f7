"""Prepayment on an overpayment: the leftover repays principal and a new schedule version comes into force, with
lower installments or an earlier maturity; the books still balance, and a reversal needs a restructuring instead.

The hand-checked loan: ¥120,000 at 6 % (r = 0.5 % a month) over 12 months, equal installment, first due 10 Feb 2026.
Payment = 120,000 × 0.005 × 1.005¹² / (1.005¹² − 1) = ¥10,327.97; the first installment is ¥600.00 interest and
¥9,727.97 principal, leaving ¥110,272.03. ¥20,000 more leaves ¥90,272.03 over the 11 remaining months:
90,272.03 × 0.005 × 1.005¹¹ / (1.005¹¹ − 1) = ¥8,454.79. Kept at most ¥10,327.97: 9 months at ¥10,282.65
(8 months would be ¥11,539.37), so the loan matures on 10 Nov 2026 instead of 10 Jan 2027.
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from accounts.models import User
from postloan import services
from postloan.models import (
    Allocation,
    Installment,
    Loan,
    LoanEvent,
    Repayment,
    ScheduleVersion,
    TransitionError,
)
from postloan.signals import loan_rescheduled
from tests.applications.factories import RESIDENT_IDS

from .factories import FIRST_DUE, disbursed_loan, installments, on, post

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")
FIRST_AND_EXTRA = "30327.97"  # the first installment, ¥10,327.97, and ¥20,000 more
NEXT_DUE = date(2026, 3, 10)


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff, method="equal_installment")


@pytest.fixture
def rescheduled():
    received = []

    def receiver(sender, **kwargs):
        received.append({key: kwargs[key] for key in ("loan_id", "version")})

    loan_rescheduled.connect(receiver, dispatch_uid="test_prepayment")
    yield received
    loan_rescheduled.disconnect(dispatch_uid="test_prepayment")


def prepay(loan, staff, option, amount=FIRST_AND_EXTRA, reference="ICBC-PRE-1", paid_on=FIRST_DUE) -> Repayment:
    with on(paid_on):
        return post(loan, amount, paid_on=paid_on, reference=reference, by=staff["officer"], overpayment=option)


def assert_books_balance(loan: Loan) -> None:
    """As in test_invariants, with the outstanding principal read from the schedule version in force."""
    loan = Loan.objects.get(pk=loan.pk)
    active = Allocation.objects.filter(loan=loan, is_active=True)
    for repayment in Repayment.objects.filter(loan=loan):
        total = sum((row.total for row in active if row.repayment_id == repayment.pk), ZERO)
        assert total == (ZERO if repayment.is_reversed else repayment.amount), repayment.reference
    standing = Repayment.objects.filter(loan=loan, is_reversed=False).aggregate(total=Sum("amount", default=ZERO))
    assert sum((row.total for row in active), ZERO) == standing["total"]
    for item in Installment.objects.filter(loan=loan):
        sums = active.filter(installment=item).aggregate(
            penalty=Sum("penalty", default=ZERO),
            interest=Sum("interest", default=ZERO),
            principal=Sum("principal", default=ZERO),
        )
        assert (item.penalty_paid, item.interest_paid, item.principal_paid) == tuple(sums.values())
        assert item.principal_paid <= item.principal_due
    assert loan.credit_balance == active.aggregate(total=Sum("to_credit", default=ZERO))["total"]
    current = loan.current_installments()
    assert loan.outstanding_principal == sum((item.principal_outstanding for item in current), ZERO)
    # What was lent is what was repaid as principal (on every version) plus what is still owed.
    repaid = active.aggregate(total=Sum("principal", default=ZERO))["total"]
    assert repaid + loan.outstanding_principal == loan.principal


# --- lower installments -------------------------------------------------------------------------------------------
def test_it_lowers_the_installments_over_the_same_remaining_months(loan, staff):
    repayment = prepay(loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT)

    loan.refresh_from_db()
    rows = installments(loan)
    assert loan.current_version == 2
    version = ScheduleVersion.objects.get(loan=loan, version=2)
    assert version.reason == ScheduleVersion.Reason.PREPAYMENT
    assert version.created_by == staff["officer"]
    assert len(rows) == 11
    assert [row.due_date for row in rows] == [date(2026, month, 10) for month in range(3, 13)] + [date(2027, 1, 10)]
    assert sum(row.principal_due for row in rows) == Decimal("90272.03") == loan.outstanding_principal
    assert {row.principal_due + row.interest_due for row in rows[:-1]} == {Decimal("8454.79")}
    assert rows[0].interest_due == Decimal("451.36")  # 90,272.03 × 0.5 %
    assert (loan.maturity_date, loan.term_months) == (date(2027, 1, 10), 12)
    assert (loan.next_due_date, loan.next_due_amount) == (NEXT_DUE, Decimal("8454.79"))
    assert loan.credit_balance == ZERO
    # The money: the first installment in full, then ¥20,000 of principal on the old version's later rows.
    rows = Allocation.objects.filter(repayment=repayment, is_active=True).select_related("installment__version")
    assert sum((row.total for row in rows), ZERO) == repayment.amount
    prepaid = [row for row in rows if row.installment.number > 1]
    assert {row.installment.version.version for row in rows} == {1}
    assert sum((row.principal for row in prepaid), ZERO) == Decimal("20000.00")
    assert all(row.interest == row.penalty == ZERO for row in prepaid)
    posted = LoanEvent.objects.get(loan=loan, kind=LoanEvent.Kind.REPAYMENT).data
    assert (posted["principal"], posted["prepaid"], posted["to_credit"]) == ("29727.97", "20000.00", "0.00")
    event = LoanEvent.objects.get(loan=loan, kind=LoanEvent.Kind.NOTE, data__event="prepayment")
    assert event.data["principal"] == "20000.00" and event.data["new_payment"] == "8454.79"
    assert "from ¥10,327.97 to ¥8,454.79" in event.note
    assert_books_balance(loan)


# --- shorter term -------------------------------------------------------------------------------------------------
def test_it_shortens_the_term_keeping_the_installment_at_most_the_same(loan, staff):
    prepay(loan, staff, services.OVERPAYMENT_SHORTEN_TERM)

    loan.refresh_from_db()
    rows = installments(loan)
    assert len(rows) == 9
    assert sum(row.principal_due for row in rows) == Decimal("90272.03") == loan.outstanding_principal
    payments = [row.principal_due + row.interest_due for row in rows]
    assert set(payments[:-1]) == {Decimal("10282.65")}
    assert max(payments) <= Decimal("10327.97")
    assert rows[-1].due_date == date(2026, 11, 10) == loan.maturity_date
    assert loan.term_months == 10  # 10 Feb to 10 Nov, both counted
    event = LoanEvent.objects.get(loan=loan, data__event="prepayment")
    assert "now matures on 2026-11-10 instead of 2027-01-10" in event.note
    assert_books_balance(loan)


def test_an_equal_principal_loan_keeps_its_principal_share_and_drops_months(staff, product):
    loan = disbursed_loan(staff, method="equal_principal")  # ¥10,000 principal a month

    prepay(loan, staff, services.OVERPAYMENT_SHORTEN_TERM, amount="35600.00")  # ¥10,600 due, ¥25,000 more

    loan.refresh_from_db()
    rows = installments(loan)
    # ¥85,000 left at ≤ ¥10,000 a month: 9 months instead of 11.
    assert len(rows) == 9 and loan.maturity_date == date(2026, 11, 10)
    assert sum(row.principal_due for row in rows) == Decimal("85000.00") == loan.outstanding_principal
    assert all(row.principal_due <= Decimal("10000.00") for row in rows)
    assert rows[0].interest_due == Decimal("425.00")
    assert_books_balance(loan)


def test_an_interest_first_loan_lowers_its_interest_and_cannot_shorten(staff, product):
    loan = disbursed_loan(staff, method="interest_first")  # ¥600 interest a month, ¥120,000 at maturity

    with pytest.raises(ValidationError) as refused:
        prepay(loan, staff, services.OVERPAYMENT_SHORTEN_TERM, amount="20600.00")
    assert "interest-first loan" in refused.value.message_dict["overpayment"][0]
    assert not Repayment.objects.filter(loan=loan).exists()

    prepay(loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT, amount="20600.00")
    rows = installments(loan)
    assert len(rows) == 11
    assert {row.interest_due for row in rows} == {Decimal("500.00")}  # 100,000 × 0.5 %
    assert rows[-1].principal_due == Decimal("100000.00")
    assert_books_balance(loan)


# --- refusals -----------------------------------------------------------------------------------------------------
def test_it_refuses_a_bullet_loan_and_a_leftover_that_is_really_a_payoff(loan, staff, product):
    bullet = disbursed_loan(staff, method="bullet", identity=RESIDENT_IDS[1])  # ¥127,200 due on 10 Jan 2027
    with on(FIRST_DUE), pytest.raises(ValidationError, match="A bullet loan repays everything in one installment"):
        post(bullet, "130000.00", paid_on=FIRST_DUE, reference="B-1", by=staff["officer"], overpayment="shorten_term")

    # ¥110,272.03 of principal is left after the first installment: prepaying all of it is a payoff.
    with pytest.raises(ValidationError) as refused:
        prepay(loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT, amount="120600.00")
    assert refused.value.message_dict["overpayment"] == [
        "The extra ¥110,272.03 would repay all the principal left (¥110,272.03): post a payoff instead."
    ]
    assert not Repayment.objects.exists()
    assert ScheduleVersion.objects.filter(version__gt=1).count() == 0


def test_an_exact_payment_with_a_prepayment_option_is_a_regular_repayment(loan, staff, rescheduled):
    prepay(loan, staff, services.OVERPAYMENT_SHORTEN_TERM, amount="10327.97")

    loan.refresh_from_db()
    assert loan.current_version == 1 and len(installments(loan)) == 12
    assert rescheduled == []


# --- idempotency, the signal, reversals ---------------------------------------------------------------------------
def test_posting_the_same_reference_twice_makes_one_version(loan, staff):
    first = prepay(loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT)
    second = prepay(loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT)

    assert first.pk == second.pk
    assert Repayment.objects.filter(loan=loan).count() == 1
    assert list(ScheduleVersion.objects.filter(loan=loan).values_list("version", flat=True)) == [1, 2]
    assert Loan.objects.get(pk=loan.pk).outstanding_principal == Decimal("90272.03")
    assert_books_balance(loan)


def test_it_sends_loan_rescheduled_once_after_commit(loan, staff, rescheduled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        prepay(loan, staff, services.OVERPAYMENT_SHORTEN_TERM)
        assert rescheduled == []  # not before the commit
    assert len(callbacks) == 1
    assert rescheduled == [{"loan_id": loan.pk, "version": 2}]


def test_it_sends_nothing_and_changes_nothing_when_the_transaction_rolls_back(
    loan, staff, rescheduled, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        prepay(loan, staff, services.OVERPAYMENT_SHORTEN_TERM)
        raise RuntimeError("the request failed after the posting")
    assert (callbacks, rescheduled) == ([], [])
    assert Loan.objects.get(pk=loan.pk).current_version == 1
    assert not Repayment.objects.filter(loan=loan).exists()


def test_the_prepayment_cannot_be_reversed_but_later_repayments_can(loan, staff):
    prepayment = prepay(loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT)
    later = prepay(loan, staff, services.OVERPAYMENT_CREDIT, amount="8454.79", reference="ICBC-2", paid_on=NEXT_DUE)
    assert installments(loan)[0].status == "paid"

    with on(NEXT_DUE), pytest.raises(TransitionError, match="A restructuring can correct the schedule instead"):
        services.repayment_reverse(repayment=prepayment, by=staff["manager"], reason="退票")
    assert not Repayment.objects.get(pk=prepayment.pk).is_reversed

    with on(NEXT_DUE):
        services.repayment_reverse(repayment=later, by=staff["manager"], reason="退票")
    loan.refresh_from_db()
    # The prepayment stands: the new schedule's first installment is owed again, in full.
    assert loan.current_version == 2
    assert (loan.next_due_date, loan.next_due_amount) == (NEXT_DUE, Decimal("8454.79"))
    assert loan.outstanding_principal == Decimal("90272.03")
    assert_books_balance(loan)


def test_an_earlier_credit_balance_is_prepaid_too(loan, staff):
    prepay(loan, staff, services.OVERPAYMENT_CREDIT, amount="10827.97", reference="ICBC-1")  # ¥500 kept as credit
    assert Loan.objects.get(pk=loan.pk).credit_balance == Decimal("500.00")

    # ¥10,327.97 due on 10 Mar; the credit and ¥19,500 more prepay ¥20,000.
    prepay(
        loan, staff, services.OVERPAYMENT_REDUCE_INSTALLMENT, amount="29827.97", reference="ICBC-2", paid_on=NEXT_DUE
    )

    loan.refresh_from_db()
    assert loan.credit_balance == ZERO
    assert len(installments(loan)) == 10
    assert loan.outstanding_principal == Decimal("110272.03") - Decimal("9776.61") - Decimal("20000.00")
    assert_books_balance(loan)


# --- the preview and the page -------------------------------------------------------------------------------------
def test_the_preview_shows_the_new_schedule_and_writes_nothing(loan, staff):
    with on(FIRST_DUE):
        preview = services.repayment_preview(
            loan=loan, amount=Decimal(FIRST_AND_EXTRA), paid_on=FIRST_DUE, overpayment="shorten_term"
        )
    plan = preview.prepayment
    assert preview.plan.leftover == Decimal("20000.00")  # what is left after the first installment is prepaid
    assert (plan.principal, plan.outstanding_after) == (Decimal("20000.00"), Decimal("90272.03"))
    assert (plan.old_payment, plan.new_payment) == (Decimal("10327.97"), Decimal("10282.65"))
    assert (plan.old_count, plan.new_count, plan.periods_saved) == (11, 9, 2)
    assert (plan.old_maturity, plan.new_maturity) == (date(2027, 1, 10), date(2026, 11, 10))
    assert not Repayment.objects.exists() and Loan.objects.get(pk=loan.pk).current_version == 1


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def _form(**overrides) -> dict:
    return {
        "amount": FIRST_AND_EXTRA,
        "paid_on": FIRST_DUE.isoformat(),
        "channel": "bank_transfer",
        "reference": "ICBC-PRE-1",
        "overpayment": "reduce_installment",
        "idempotency_key": "HT-KEY-1",
    } | overrides


def test_the_page_previews_the_new_installment_then_posts_it(client, loan, staff):
    User.objects.update(preferred_language="en")
    client.force_login(staff["officer"])
    preview_url = reverse("postloan:repayment_preview", args=[loan.pk])

    with on(FIRST_DUE):
        form = client.get(reverse("postloan:repayment_post", args=[loan.pk]))
        preview = client.post(preview_url, _form(), headers={"HX-Request": "true"})
        shorter = client.post(preview_url, _form(overpayment="shorten_term"), headers={"HX-Request": "true"})
        payoff = client.post(preview_url, _form(amount="130000.00"), headers={"HX-Request": "true"})

    assert "Prepay principal: lower installments" in _text(form)
    assert "Prepay principal: shorter term" in _text(form)
    content = preview.content.decode()
    new_payment = re.search(r'data-testid="preview-new-payment">(.*?)</dd>', content, re.S).group(1)
    assert " ".join(new_payment.split()) == "¥10,327.97 → ¥8,454.79"
    assert "¥20,000.00 prepays principal; ¥90,272.03 of principal is left" in _text(preview)
    assert 'data-testid="confirm-repayment"' in content
    maturity = re.search(r'data-testid="preview-new-maturity">(.*?)</dd>', shorter.content.decode(), re.S).group(1)
    assert " ".join(maturity.split()) == "2027-01-10 → 2026-11-10"
    assert "post a payoff instead" in _text(payoff)
    assert 'data-testid="confirm-repayment"' not in payoff.content.decode()
    assert not Repayment.objects.exists()

    with on(FIRST_DUE):
        posted = client.post(reverse("postloan:repayment_post", args=[loan.pk]), _form(confirm="1"))
    assert posted.status_code == 302
    loan.refresh_from_db()
    assert loan.current_version == 2
    assert loan.next_due_amount == Decimal("8454.79")
