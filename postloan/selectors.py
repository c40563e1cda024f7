"""Reads for the post-loan pages: branch-scoped, joined up front so a page costs the same whatever its rows."""

from django.db.models import F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.permissions import scope

from .models import Allocation, Contract, Installment, Loan, LoanEvent, Repayment

LIST_RELATED = ("borrower", "branch", "officer")


def loans_for(user: User) -> QuerySet[Loan]:
    """Every loan the user may see: their branch's, or all for head office."""
    return scope(Loan.objects.all(), user)


def contracts_for(user: User) -> QuerySet[Contract]:
    """Every contract the user may see: their branch's, or all for head office."""
    return scope(Contract.objects.all(), user)


def loan_list(*, user: User, mine: bool = False, status: str = "", bucket: str = "", query: str = "") -> QuerySet[Loan]:
    """The filtered loan list, most overdue first, then by next due date."""
    queryset = loans_for(user).select_related(*LIST_RELATED)
    if mine:
        queryset = queryset.filter(officer=user)
    if status:
        queryset = queryset.filter(status=status)
    if bucket:
        queryset = queryset.filter(bucket=bucket)
    query = query.strip()
    if query:
        queryset = queryset.filter(
            Q(number__iexact=query) | Q(borrower__name__icontains=query) | Q(borrower__mobile=query)
        )
    return queryset.order_by("-dpd", F("next_due_date").asc(nulls_last=True), "pk")


def loan_detail(user: User, pk: int) -> Loan:
    """One loan with everything its page shows, in a fixed number of queries; 404 outside the user's scope.

    `loan.schedule` is the schedule in force, `loan.repayment_list` the repayments (oldest first) with their reversal
    and active allocations, `loan.timeline` the events (newest first).
    """
    installments = Installment.objects.filter(version__version=F("loan__current_version")).order_by(
        "due_date", "number"
    )
    active_allocations = Allocation.objects.filter(is_active=True).select_related("installment").order_by("pk")
    repayments = (
        Repayment.objects.select_related("posted_by", "reversal", "reversal__reversed_by")
        .prefetch_related(Prefetch("allocations", queryset=active_allocations, to_attr="active_allocations"))
        .order_by("paid_on", "posted_at", "pk")
    )
    events = LoanEvent.objects.select_related("actor").order_by("-created_at", "-pk")
    queryset = loans_for(user).select_related(
        *LIST_RELATED, "contract", "contract__disbursement", "contract__prepared_by", "contract__confirmed_by"
    )
    return get_object_or_404(
        queryset.prefetch_related(
            Prefetch("installments", queryset=installments, to_attr="schedule"),
            Prefetch("repayments", queryset=repayments, to_attr="repayment_list"),
            Prefetch("events", queryset=events, to_attr="timeline"),
            "schedule_versions",
        ),
        pk=pk,
    )
