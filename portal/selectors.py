"""The borrower's own things, and nothing else: every read of the portal starts from the signed-in borrower, so
another borrower's application, loan, message or inquiry is simply not found (404)."""

from datetime import timedelta

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from applications.models import Application, ApplicationEvent, Borrower, Material
from followups.models import OPEN_FOLLOWUP_STATUSES, FollowUp, Inquiry, InquiryReply, Questionnaire
from followups.services.inquiries import RATEABLE_FOLLOWUP_STATUSES, SURVEY_WINDOW_DAYS
from notifications.models import OutboxMessage
from postloan.models import Installment, Loan, Repayment
from postloan.models.loans import OPEN_LOAN_STATUSES


def my_applications(borrower: Borrower) -> QuerySet[Application]:
    return (
        borrower.applications.select_related("product", "officer")
        .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("pk")))
        .order_by("-created_at")
    )


def my_application(borrower: Borrower, number: str) -> Application:
    return get_object_or_404(
        Application.objects.select_related("product", "officer", "branch", "borrower").prefetch_related(
            Prefetch("materials", queryset=Material.objects.order_by("pk")),
            Prefetch(
                "events",
                queryset=ApplicationEvent.objects.filter(kind=ApplicationEvent.Kind.STATUS).order_by("created_at"),
                to_attr="status_events",
            ),
        ),
        borrower=borrower,
        number=number,
    )


def my_material(application: Application, pk: int) -> Material:
    return get_object_or_404(Material, application=application, pk=pk)


def my_loans(borrower: Borrower) -> QuerySet[Loan]:
    return borrower.loans.select_related("officer").order_by("-disbursed_on", "-pk")


def my_loan(borrower: Borrower, number: str) -> Loan:
    return get_object_or_404(
        Loan.objects.select_related("officer", "branch", "borrower", "contract__disbursement"),
        borrower=borrower,
        number=number,
    )


def next_installments(loans) -> dict[int, Installment]:
    """The first unpaid installment of each open loan's current schedule, in one query."""
    open_loans = [loan for loan in loans if loan.status in OPEN_LOAN_STATUSES]
    if not open_loans:
        return {}
    found: dict[int, Installment] = {}
    rows = (
        Installment.objects.filter(loan__in=open_loans)
        .exclude(status="paid")
        .select_related("version")
        .order_by("loan_id", "due_date", "number")
    )
    versions = {loan.pk: loan.current_version for loan in open_loans}
    for row in rows:
        if row.version.version == versions[row.loan_id] and row.loan_id not in found:
            found[row.loan_id] = row
    return found


def loan_installments(loan: Loan) -> list[Installment]:
    return list(loan.current_installments())


def loan_repayments(loan: Loan) -> QuerySet[Repayment]:
    return loan.repayments.order_by("-paid_on", "-pk")


def my_messages(user) -> QuerySet[OutboxMessage]:
    """What the outbox sent this borrower, newest first (a message not yet sent has no text to show)."""
    return OutboxMessage.objects.filter(
        recipient=user, audience=OutboxMessage.Audience.BORROWER, status=OutboxMessage.Status.SENT
    ).order_by("-sent_at", "-pk")


def my_inquiries(borrower: Borrower) -> QuerySet[Inquiry]:
    return (
        borrower.inquiries.select_related("application", "loan", "survey")
        .prefetch_related(Prefetch("replies", queryset=InquiryReply.objects.order_by("created_at", "pk")))
        .order_by("-created_at")
    )


def my_inquiry(borrower: Borrower, pk: int) -> Inquiry:
    return get_object_or_404(my_inquiries(borrower), pk=pk)


def _my_followups(borrower: Borrower) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(loan__borrower=borrower)


def open_questionnaires(borrower: Borrower) -> QuerySet[Questionnaire]:
    return (
        Questionnaire.objects.filter(
            followup__in=_my_followups(borrower),
            answered_at__isnull=True,
            expires_at__gt=timezone.now(),
            followup__status__in=OPEN_FOLLOWUP_STATUSES,
        )
        .select_related("followup__loan", "followup__officer")
        .order_by("expires_at")
    )


def my_questionnaire(borrower: Borrower, pk: int) -> Questionnaire:
    return get_object_or_404(
        Questionnaire.objects.select_related("followup__loan", "followup__officer", "followup__question_set"),
        followup__in=_my_followups(borrower),
        pk=pk,
    )


def followups_to_rate(borrower: Borrower) -> QuerySet[FollowUp]:
    """Recent follow-ups that took place and that the borrower has not rated (the survey offer)."""
    since = timezone.now() - timedelta(days=SURVEY_WINDOW_DAYS)
    return (
        _my_followups(borrower)
        .filter(status__in=RATEABLE_FOLLOWUP_STATUSES, completed_at__gte=since, survey__isnull=True)
        .select_related("loan", "officer", "completed_by")
        .order_by("-completed_at")
    )


def my_followup_to_rate(borrower: Borrower, pk: int) -> FollowUp:
    return get_object_or_404(_my_followups(borrower).select_related("loan", "officer"), pk=pk)


def inquiries_to_rate(borrower: Borrower) -> QuerySet[Inquiry]:
    return borrower.inquiries.filter(status="answered", survey__isnull=True).order_by("-answered_at")
