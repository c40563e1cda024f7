"""Reads for the application pages: branch-scoped, joined up front so a page costs the same whatever its rows."""

from django.db.models import Max, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from accounts.models import User, attach_people, name_fields
from accounts.permissions import has_role, holders_of, scope
from accounts.roles import Role
from core.status_counts import per_status

from .models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    ApplicationStatusCount,
    Borrower,
    Collateral,
    Material,
    PortalInvitation,
    Review,
    identity_lookup_hash,
)
from .models.applications import LIST_ORDER

S = ApplicationStatus
LIST_RELATED = ("borrower", "product", "officer", "branch")
# The review queues join what their rows show and read the people (officer, initial reviewer) in one query each: with
# every relation joined, PostgreSQL spent 1.6–4.6 ms planning a query that runs in under 1 ms (docs/performance.md).
QUEUE_RELATED = ("borrower", "product")
QUEUE_PEOPLE = ("officer", "initial_reviewer")
# What a row of the application list shows, the only columns its page reads (whole applications, borrowers with
# their identity numbers decrypted, products and users were most of the time of its rows).
APPLICATION_ROW_FIELDS = (
    "number",
    "status",
    "amount",
    "term_months",
    "status_changed_at",
    "sla_due_at",
    "borrower__name",
    "product__name_zh",
    "product__name_en",
    "branch__name",
    "branch__name_en",
    *name_fields("officer"),
)


def applications_for(user: User) -> QuerySet[Application]:
    """Every application the user may see: their branch's, or all for head office."""
    return scope(Application.objects.all(), user)


def _identity_text(query: str) -> str:
    """An identity number as typed (spaces, lower-case x) in the form it was hashed in."""
    return "".join(query.split()).upper()


def _search(queryset: QuerySet[Application], query: str) -> QuerySet[Application]:
    """Search by number, borrower name or mobile, or a full identity number (by keyed hash, nothing decrypted)."""
    query = query.strip()
    if not query:
        return queryset
    condition = Q(number__iexact=query) | Q(borrower__name__icontains=query) | Q(borrower__mobile=query)
    if len(query) >= 5:
        normalized = _identity_text(query)
        condition |= Q(
            borrower__identity_hash__in=[
                identity_lookup_hash(kind, normalized) for kind in ("resident_id", "passport", "uscc")
            ]
        )
    return queryset.filter(condition)


def application_list(
    *,
    user: User,
    mine: bool = False,
    status: str = "",
    product_id: int | None = None,
    branch_id: int | None = None,
    officer_id: int | None = None,
    created_from=None,
    created_to=None,
    submitted_from=None,
    submitted_to=None,
    breached: bool = False,
    query: str = "",
) -> QuerySet[Application]:
    """The filtered application list, newest first. Dates are Asia/Shanghai calendar days, inclusive; the submission
    dates are the latest submission's (`submitted_at`), as the dashboard's funnel counts its cohort."""
    queryset = applications_for(user).select_related(*LIST_RELATED)
    if mine:
        queryset = queryset.filter(officer=user)
    if status:
        queryset = queryset.filter(status=status)
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    if branch_id:
        queryset = queryset.filter(branch_id=branch_id)
    if officer_id:
        queryset = queryset.filter(officer_id=officer_id)
    if created_from:
        queryset = queryset.filter(created_at__date__gte=created_from)
    if created_to:
        queryset = queryset.filter(created_at__date__lte=created_to)
    if submitted_from:
        queryset = queryset.filter(submitted_at__date__gte=submitted_from)
    if submitted_to:
        queryset = queryset.filter(submitted_at__date__lte=submitted_to)
    if breached:
        queryset = queryset.filter(
            status__in=(S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW), sla_due_at__lt=timezone.now()
        )
    return _search(queryset, query).order_by(*LIST_ORDER)


def status_counts(
    *, user: User, mine: bool = False, branch_id: int | None = None, officer_id: int | None = None, **narrowing
) -> dict[str, int]:
    """Applications per status under the list's filters (`application_list`'s arguments) but the status; from the
    kept counts when only the viewer's scope, an officer and a branch narrow the list (core.status_counts)."""
    narrowing.pop("status", None)
    listed = application_list(user=user, mine=mine, branch_id=branch_id, officer_id=officer_id, **narrowing)
    kept = scope(ApplicationStatusCount.objects.all(), user)
    return per_status(
        listed,
        kept,
        officers=[user.pk if mine else None, officer_id],
        branch_id=branch_id,
        narrowed=any(narrowing.values()),
    )


def initial_review_queue(*, user: User) -> QuerySet[Application]:
    """Submitted applications and those in initial review, oldest in the stage first."""
    return (
        applications_for(user)
        .filter(status__in=(S.SUBMITTED, S.INITIAL_REVIEW))
        .select_related(*QUEUE_RELATED)
        .prefetch_related(*QUEUE_PEOPLE)
        .order_by("status_changed_at", "pk")
    )


def approval_queue(*, user: User) -> QuerySet[Application]:
    """Applications in secondary review; an approver sees those within their limit, a manager sees all of them."""
    queryset = (
        applications_for(user)
        .filter(status=S.SECONDARY_REVIEW)
        # The assessment, for the hard-stop flag: an approver may return or reject those but only a manager approves.
        .select_related(*QUEUE_RELATED, "assessment")
        .prefetch_related(*QUEUE_PEOPLE)
        .order_by("status_changed_at", "pk")
    )
    if has_role(user, Role.MANAGER):
        return queryset
    return queryset.filter(amount__lte=user.approval_limit)


def application_detail(*, user: User, pk: int, events: bool = True) -> Application:
    """One application with everything its page shows, in a fixed number of queries. Raises DoesNotExist.

    `events=False` leaves the timeline out (`application.events` is then not read): the page reads it on its
    timeline tab only."""
    prefetched = [
        Prefetch("materials", queryset=Material.objects.select_related("uploaded_by", "reviewed_by")),
        "parties",
        Prefetch("collateral", queryset=Collateral.objects.select_related("custodian")),
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        # Which versions were acknowledged (the disclosure page adds who witnessed them).
        "acknowledgements",
        "product__disclosures",
    ]
    if events:
        prefetched.append(Prefetch("events", queryset=ApplicationEvent.objects.select_related("actor")))
    application = (
        applications_for(user)
        .select_related("borrower", "product", "branch", "assessment")
        .prefetch_related(*prefetched)
        .get(pk=pk)
    )
    # The people in one query of their own: nine tables in one join took PostgreSQL 4.3 ms to plan, ten times the
    # lookup itself (docs/performance.md), and a prefetch each was four queries.
    attach_people(application, "officer", "created_by", "initial_reviewer", "approved_by")
    if application.status in _WITH_CONTRACT:
        # The page's "Contract and loan" card: both in one query (postloan's models, reached through the relation).
        contract = Application._meta.get_field("contract").related_model
        prefetch_related_objects([application], Prefetch("contract", queryset=contract.objects.select_related("loan")))
    return application


# The statuses whose page shows the contract and its loan (templates/applications/includes/summary_actions.html).
_WITH_CONTRACT = frozenset({S.APPROVED, S.CONTRACTED, S.DISBURSED})


def borrowers_for(user: User) -> QuerySet[Borrower]:
    return scope(Borrower.objects.all(), user)


def borrower_search(*, user: User, query: str) -> QuerySet[Borrower]:
    """Borrowers of the user's branch by name, mobile or full identity number (keyed hash)."""
    query = query.strip()
    queryset = borrowers_for(user).select_related("branch")
    if not query:
        return queryset.none()
    condition = Q(name__icontains=query) | Q(mobile=query)
    condition |= Q(
        identity_hash__in=[identity_lookup_hash(k, _identity_text(query)) for k in ("resident_id", "passport", "uscc")]
    )
    return queryset.filter(condition).order_by("name")[:50]


def sla_breaches_by_stage(*, user: User) -> dict[str, int]:
    """Open applications past their review target, per stage (the dashboard issue charts these)."""
    now = timezone.now()
    queryset = applications_for(user).filter(sla_due_at__lt=now)
    return {
        "initial": queryset.filter(status__in=(S.SUBMITTED, S.INITIAL_REVIEW)).count(),
        "secondary": queryset.filter(status=S.SECONDARY_REVIEW).count(),
    }


def approver_limits_by_branch(applications) -> tuple[dict[int, object], object]:
    """The highest approval limit among active approvers of each branch on the page, and among head office ones
    (who see every branch), in one query."""
    branch_ids = {application.branch_id for application in applications}
    if not branch_ids:
        return {}, None
    rows = (
        holders_of(Role.APPROVER)
        .filter(Q(branch_id__in=branch_ids) | Q(branch__is_head_office=True))
        .values("branch_id", "branch__is_head_office")
        .annotate(limit=Max("approval_limit"))
        .order_by()
    )
    by_branch, head_office = {}, None
    for row in rows:
        by_branch[row["branch_id"]] = row["limit"]
        if row["branch__is_head_office"]:
            head_office = max(head_office or row["limit"], row["limit"])
    return by_branch, head_office


def pending_invitation(borrower: Borrower) -> PortalInvitation | None:
    """The borrower's newest portal invitation that can still be used."""
    return (
        PortalInvitation.objects.filter(borrower=borrower, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )
