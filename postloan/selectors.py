"""Reads for the post-loan pages: branch-scoped, joined up front so a page costs the same whatever its rows."""

from datetime import date, timedelta

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from accounts.models import User, name_fields
from accounts.permissions import scope
from core.dates import local_today
from core.status_counts import per_status

from .models import (
    OPEN_LOAN_STATUSES,
    OPEN_RESTRUCTURING_STATUSES,
    Allocation,
    Bucket,
    Classification,
    ClassificationChange,
    ClassificationProposal,
    Contract,
    ContractStatus,
    Disbursement,
    DisbursementStatus,
    Installment,
    Loan,
    LoanEvent,
    LoanStatus,
    LoanStatusCount,
    PenaltyAccrual,
    ProposalStatus,
    Repayment,
    Restructuring,
    ScheduleVersion,
)
from .models.loans import LIST_ORDER, OVERDUE_ORDER

LIST_RELATED = ("borrower", "branch", "officer")
# The follow-ups still in work, shown on the loan's page above the tabs: planned, returned for correction, completed
# and waiting for review (followups.models.FollowUpStatus, named here: postloan does not import the followups app).
# The approved and cancelled ones, most of an old loan's, are on the follow-ups tab.
FOLLOWUPS_IN_WORK = ("planned", "returned", "completed")
# Of the planned ones, the card lists those late or due within this many days: the quarterly follow-ups are planned
# up to maturity at disbursement, and years of them would bury the ones that matter now.
FOLLOWUP_CARD_DAYS = 30
# What a follow-up's line on the loan's page shows: not its record (answers, summary, next steps), which its own page
# reads.
FOLLOWUP_ROW_FIELDS = ("loan", "kind", "due_on", "status", "completed_at", "risk_level", *name_fields("officer"))
# Filter values of the loan list that stand for several statuses or classes: the open loans (active or overdue), and
# the non-performing ones (不良: substandard, doubtful or loss), as the dashboard counts them.
STATUS_OPEN = "open"
CLASSIFICATION_NPL = "npl"
NPL_CLASSES = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)
# What a row of the loan and overdue lists shows, the only columns their pages read. Whole loans, contracts,
# applications, products, borrowers (each identity number decrypted) and users took half of the time of the loan
# list's rows (4.9 against 10.6 ms for 25 rows at 100,000 loans).
LOAN_ROW_FIELDS = (
    "number",
    "status",
    "principal",
    "outstanding_principal",
    "next_due_date",
    "next_due_amount",
    "dpd",
    "bucket",
    "classification",
    "overdue_since",
    "borrower__name",
    "borrower__mobile",
    "branch__name",
    "branch__name_en",
    *name_fields("officer"),
)
LOAN_LIST_FIELDS = (
    *LOAN_ROW_FIELDS,
    "product__name_zh",
    "product__name_en",
)


def loans_for(user: User) -> QuerySet[Loan]:
    """Every loan the user may see: their branch's, or all for head office."""
    return scope(Loan.objects.all(), user)


def contracts_for(user: User) -> QuerySet[Contract]:
    """Every contract the user may see: their branch's, or all for head office."""
    return scope(Contract.objects.all(), user)


def loan_list(
    *,
    user: User,
    mine: bool = False,
    status: str = "",
    bucket: str = "",
    query: str = "",
    classification: str = "",
    branch_id: int | None = None,
    product_id: int | None = None,
    officer_id: int | None = None,
    disbursed_from: date | None = None,
    disbursed_to: date | None = None,
    due_within_days: int | None = None,
    today: date | None = None,
) -> QuerySet[Loan]:
    """The filtered loan list, most overdue first, then by next due date.

    `status` "open" keeps active and overdue loans, `classification` "npl" the non-performing ones; the disbursement
    dates are inclusive.
    `due_within_days` keeps open loans with a payment due from `today` to `today + days`.
    """
    queryset = loans_for(user).select_related(*LIST_RELATED, "product")
    if mine:
        queryset = queryset.filter(officer=user)
    if status == STATUS_OPEN:
        queryset = queryset.filter(status__in=OPEN_LOAN_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    if bucket:
        queryset = queryset.filter(bucket=bucket)
    if classification == CLASSIFICATION_NPL:
        queryset = queryset.filter(classification__in=NPL_CLASSES)
    elif classification:
        queryset = queryset.filter(classification=classification)
    queryset = _narrowed(queryset, branch_id=branch_id, product_id=product_id, officer_id=officer_id)
    if disbursed_from:
        queryset = queryset.filter(disbursed_on__gte=disbursed_from)
    if disbursed_to:
        queryset = queryset.filter(disbursed_on__lte=disbursed_to)
    if due_within_days is not None and today is not None:
        queryset = queryset.filter(
            status__in=OPEN_LOAN_STATUSES,
            next_due_date__gte=today,
            next_due_date__lte=today + timedelta(days=due_within_days),
        )
    query = query.strip()
    if query:
        queryset = queryset.filter(
            Q(number__iexact=query) | Q(borrower__name__icontains=query) | Q(borrower__mobile=query)
        )
    return queryset.order_by(*LIST_ORDER)


def _narrowed(
    queryset: QuerySet[Loan],
    *,
    branch_id: int | None = None,
    product_id: int | None = None,
    officer_id: int | None = None,
) -> QuerySet[Loan]:
    """Loans of one branch, product and officer, where given (the caller has applied the viewer's branch scope)."""
    if branch_id:
        queryset = queryset.filter(branch_id=branch_id)
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    if officer_id:
        queryset = queryset.filter(officer_id=officer_id)
    return queryset


def loan_detail(user: User, pk: int, *, tab: str = "schedule", today: date | None = None) -> Loan:
    """One loan with everything its page shows, in a fixed number of queries; 404 outside the user's scope.

    Always: `loan.schedule` (the schedule in force), `loan.repayment_count`, `loan.followup_count`, the contract, the
    live classification proposals, restructurings, the follow-ups in work (`loan.followups_in_work`: planned ones
    only when due by `today` + FOLLOWUP_CARD_DAYS) and open warnings. The rows of one `tab` only, the one shown:
    "classification" gives `loan.classification_history`, "versions" `loan.version_list`; the repayments, follow-ups
    and the timeline come a page at a time from `loan_repayments`, `loan_followups` and `loan_events`. Every tab's
    rows on every view cost an old loan's page most of its time.
    """
    installments = Installment.objects.filter(version__version=F("loan__current_version")).order_by(
        "due_date", "number"
    )
    return get_object_or_404(
        # The page shows the contract's number only: its people and disbursement, joined here too, made ten tables
        # that took PostgreSQL 5 ms to plan for a 0.3 ms lookup (docs/performance.md).
        loans_for(user)
        .select_related(*LIST_RELATED, "product", "contract")
        .annotate(repayment_count=_count_of(Repayment), followup_count=_count_of(_related_model("followups")))
        .prefetch_related(
            Prefetch("installments", queryset=installments, to_attr="schedule"),
            # The proposal waiting for a manager and the one in force; the restructuring requests, newest first.
            Prefetch(
                "classification_proposals",
                queryset=ClassificationProposal.objects.filter(
                    status__in=[ProposalStatus.PROPOSED, ProposalStatus.APPROVED]
                ).select_related("proposed_by", "decided_by"),
                to_attr="live_proposals",
            ),
            Prefetch(
                "restructurings",
                queryset=Restructuring.objects.select_related("requested_by", "new_version").order_by(
                    "-requested_at", "-pk"
                ),
                to_attr="restructuring_list",
            ),
            # The Follow-ups card (followups app, reached through the reverse relations: no import of it here). Only
            # those in work: an old loan's 20 and more finished ones pushed the schedule off the screen.
            Prefetch(
                "followups",
                queryset=_related_model("followups")
                .objects.filter(status__in=FOLLOWUPS_IN_WORK)
                .exclude(_planned_later(today))
                .select_related("officer")
                .only(*FOLLOWUP_ROW_FIELDS)
                .order_by("due_on", "pk"),
                to_attr="followups_in_work",
            ),
            Prefetch(
                "warnings",
                queryset=_related_model("warnings").objects.exclude(status="resolved").order_by("opened_at", "pk"),
                to_attr="open_warning_list",
            ),
            *_TAB_ROWS.get(tab, ()),
        ),
        pk=pk,
    )


def _count_of(model) -> Coalesce:
    """A loan's number of `model` rows (repayments, say), as a subquery beside the loan's own columns."""
    rows = model.objects.filter(loan=OuterRef("pk")).order_by().values("loan").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


_TAB_ROWS = {
    "versions": (
        Prefetch(
            "schedule_versions",
            queryset=ScheduleVersion.objects.select_related("created_by").order_by("version"),
            to_attr="version_list",
        ),
    ),
    "classification": (
        Prefetch(
            "classification_changes",
            queryset=ClassificationChange.objects.select_related("by").order_by("-created_at", "-pk"),
            to_attr="classification_history",
        ),
    ),
}


def loan_repayments(loan: Loan) -> QuerySet[Repayment]:
    """A loan's repayments, newest first, with who posted and reversed them and where each went (its active
    allocations): the repayments tab, read a page at a time (a five-year loan paid in parts has hundreds)."""
    allocations = Allocation.objects.filter(is_active=True).select_related("installment").order_by("pk")
    return (
        Repayment.objects.filter(loan=loan)
        .select_related("posted_by", "reversal", "reversal__reversed_by")
        .prefetch_related(Prefetch("allocations", queryset=allocations, to_attr="active_allocations"))
        .order_by("-paid_on", "-posted_at", "-pk")
    )


def _planned_later(today: date | None) -> Q:
    """The planned follow-ups due after the card's window: the rest of the plan, shown on the follow-ups tab only."""
    return Q(status="planned", due_on__gt=(today or local_today()) + timedelta(days=FOLLOWUP_CARD_DAYS))


def loan_followups(loan: Loan, *, today: date | None = None) -> QuerySet:
    """A loan's follow-ups with their officer: the follow-ups tab, read a page at a time (an old or long-overdue loan
    has twenty and more). What was done and what is due now come first, latest due first; then the plan further
    ahead, in calendar order (a five-year loan's quarterly follow-ups would otherwise fill the first page)."""
    later = _planned_later(today)
    return (
        _related_model("followups")
        .objects.filter(loan=loan)
        .select_related("officer")
        .only(*FOLLOWUP_ROW_FIELDS)
        .annotate(
            planned_later=Case(When(later, then=Value(True)), default=Value(False)),
            later_due=Case(When(later, then=F("due_on"))),
        )
        .order_by("planned_later", "later_due", "-due_on", "-pk")
    )


def loan_events(loan: Loan) -> QuerySet[LoanEvent]:
    """A loan's timeline, newest first, read a page at a time (a loan years overdue gathers hundreds of events)."""
    return LoanEvent.objects.filter(loan=loan).select_related("actor").order_by("-created_at", "-pk")


def _related_model(name: str):
    return Loan._meta.get_field(name).related_model


def loan_status_counts(
    *, user: User, mine: bool = False, branch_id: int | None = None, officer_id: int | None = None, **narrowing
) -> dict[str, int]:
    """Loans per status under the loan list's filters (`loan_list`'s arguments) but the status; from the kept
    counts when only the viewer's scope, an officer and a branch narrow the list (core.status_counts)."""
    narrowing.pop("status", None)
    listed = loan_list(user=user, mine=mine, branch_id=branch_id, officer_id=officer_id, **narrowing)
    kept = scope(LoanStatusCount.objects.all(), user)
    narrowed = any(value for name, value in narrowing.items() if name != "today")
    return per_status(
        listed, kept, officers=[user.pk if mine else None, officer_id], branch_id=branch_id, narrowed=narrowed
    )


def penalty_summary(loan: Loan) -> list[dict]:
    """Penalty accruals per installment, in one aggregate query: days, first and last day, amount."""
    return list(
        PenaltyAccrual.objects.filter(loan=loan)
        .order_by()
        .values("installment_id", "installment__number", "installment__due_date", "installment__version__version")
        .annotate(days=Count("pk"), first=Min("accrual_date"), last=Max("accrual_date"), amount=Sum("amount"))
        .order_by("installment__version__version", "installment__due_date", "installment__number")
    )


def schedule_version(loan: Loan, version: int) -> tuple[ScheduleVersion, list[Installment]]:
    """One schedule version of a loan with its installments; 404 when the loan has no such version."""
    found = get_object_or_404(ScheduleVersion.objects.select_related("created_by"), loan=loan, version=version)
    return found, list(found.installments.order_by("due_date", "number"))


# --- overdue ------------------------------------------------------------------------------------------------------
def overdue_list(
    *,
    user: User,
    bucket: str = "",
    branch_id: int | None = None,
    product_id: int | None = None,
    officer_id: int | None = None,
) -> QuerySet[Loan]:
    """Open overdue loans of the user's scope (of one branch, product or officer when given), by bucket (1–30
    first), oldest DPD first within each; each loan has `overdue_amount`, what fell due before the business date and
    is unpaid (penalty included), read from `Loan.past_due_amount`."""
    queryset = (
        _narrowed(loans_for(user), branch_id=branch_id, product_id=product_id, officer_id=officer_id)
        .filter(status=LoanStatus.OVERDUE)
        .select_related(*LIST_RELATED)
        .annotate(overdue_amount=F("past_due_amount"))
    )
    if bucket:
        queryset = queryset.filter(bucket=bucket)
    return queryset.order_by(*OVERDUE_ORDER)


def overdue_summary(
    *,
    user: User,
    branch_id: int | None = None,
    product_id: int | None = None,
    officer_id: int | None = None,
) -> list[dict]:
    """Per bucket, in one aggregate query over the loans (no installment is read): how many overdue loans and the sum
    of what they owe that is past due, `Loan.past_due_amount` (of one branch, product or officer when given)."""
    rows = (
        _narrowed(loans_for(user), branch_id=branch_id, product_id=product_id, officer_id=officer_id)
        .filter(status=LoanStatus.OVERDUE)
        .order_by()
        .values("bucket")
        .annotate(loans=Count("*"), amount=Sum("past_due_amount"))  # COUNT(*): from loan_overdue_summary_idx alone
    )
    found = {row["bucket"]: row for row in rows}
    return [
        {"bucket": value, "label": label, "loans": found[value]["loans"], "amount": found[value]["amount"]}
        for value, label in Bucket.choices
        if value in found
    ]


# --- confirmations ------------------------------------------------------------------------------------------------
def contracts_waiting(user: User) -> QuerySet[Contract]:
    """Prepared contracts of the user's scope, oldest first, waiting for a second person to confirm them."""
    return (
        contracts_for(user)
        .filter(status=ContractStatus.PREPARED)
        .select_related("borrower", "branch", "officer", "prepared_by")
        .order_by("prepared_at", "pk")
    )


def disbursements_waiting(user: User) -> QuerySet[Disbursement]:
    """Prepared disbursements of the user's scope, oldest first, waiting for a second person to confirm them."""
    return (
        scope(Disbursement.objects.all(), user, branch_field="contract__branch")
        .filter(status=DisbursementStatus.PREPARED)
        .select_related("contract", "contract__borrower", "contract__branch", "prepared_by")
        .order_by("prepared_at", "pk")
    )


def contract_detail(user: User, pk: int) -> Contract:
    """One contract with its parties' people, its disbursement and loan; 404 outside the user's scope."""
    return get_object_or_404(
        contracts_for(user).select_related(
            "borrower",
            "branch",
            "officer",
            "prepared_by",
            "confirmed_by",
            "application",
            "application__product",
            "disbursement",
            "disbursement__prepared_by",
            "disbursement__confirmed_by",
            "loan",
        ),
        pk=pk,
    )


# --- classification and restructuring -----------------------------------------------------------------------------
def classification_proposals_waiting(user: User) -> QuerySet[ClassificationProposal]:
    """Manual classifications of the user's scope waiting for a manager's decision, oldest first."""
    return (
        scope(ClassificationProposal.objects.all(), user, branch_field="loan__branch")
        .filter(status=ProposalStatus.PROPOSED)
        .select_related("loan", "loan__borrower", "loan__branch", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def restructurings_waiting(user: User, statuses: list[str]) -> QuerySet[Restructuring]:
    """Restructuring requests of the user's scope in the given steps, oldest first."""
    return (
        scope(Restructuring.objects.all(), user, branch_field="loan__branch")
        .filter(status__in=statuses)
        .select_related("loan", "loan__borrower", "loan__branch", "requested_by", "risk_approved_by")
        .order_by("requested_at", "pk")
    )


def restructuring_for_loan(loan: Loan, pk: int) -> Restructuring:
    """One restructuring request of a loan (already checked for access) with who did what; 404 if not this loan's."""
    restructuring = get_object_or_404(
        Restructuring.objects.select_related(
            "requested_by", "risk_approved_by", "approved_by", "rejected_by", "new_version"
        ),
        loan=loan,
        pk=pk,
    )
    restructuring.loan = loan
    return restructuring


# --- single lookups the pages make before acting -------------------------------------------------------------------
def open_classification_proposal(loan: Loan) -> ClassificationProposal | None:
    """The manual classification of this loan still waiting for a manager, if any (at most one: a constraint)."""
    return ClassificationProposal.objects.filter(loan=loan, status=ProposalStatus.PROPOSED).first()


def open_restructuring(loan: Loan) -> Restructuring | None:
    """The restructuring request of this loan still in progress, if any (at most one: a constraint)."""
    return Restructuring.objects.filter(loan=loan, status__in=OPEN_RESTRUCTURING_STATUSES).first()


def contract_of(application) -> Contract | None:
    return Contract.objects.filter(application=application).first()
