"""The loan, its schedule versions and installments, daily penalty accruals and the loan's timeline."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, When
from django.db.models import Value as V
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import StatusCount, TimeStampedModel
from core.schedules import ScheduleMethod

from ..allocation import InstallmentState
from .base import ZERO, money_field, rate_field


class LoanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    OVERDUE = "overdue", _("Overdue")
    PAID_OFF = "paid_off", _("Paid off")
    WRITTEN_OFF = "written_off", _("Written off")


# Loans that still take repayments and that the daily sweep looks at.
OPEN_LOAN_STATUSES = (LoanStatus.ACTIVE, LoanStatus.OVERDUE)


class Bucket(models.TextChoices):
    """Aging by days past due (DESIGN.md §4)."""

    CURRENT = "current", _("Current")
    DPD_1_30 = "1_30", _("1–30 days past due")
    DPD_31_60 = "31_60", _("31–60 days past due")
    DPD_61_90 = "61_90", _("61–90 days past due")
    DPD_91_180 = "91_180", _("91–180 days past due")
    DPD_181_360 = "181_360", _("181–360 days past due")
    DPD_360_PLUS = "360_plus", _("Over 360 days past due")


_BUCKET_LIMITS = (
    (0, Bucket.CURRENT),
    (30, Bucket.DPD_1_30),
    (60, Bucket.DPD_31_60),
    (90, Bucket.DPD_61_90),
    (180, Bucket.DPD_91_180),
    (360, Bucket.DPD_181_360),
)


def bucket_for_dpd(dpd: int) -> str:
    """The aging bucket of a number of days past due: 0 is current, 1–30, 31–60, … 181–360, then 360+."""
    if dpd < 0:
        raise ValueError(f"Days past due cannot be negative, not {dpd}.")
    for limit, bucket in _BUCKET_LIMITS:
        if dpd <= limit:
            return bucket
    return Bucket.DPD_360_PLUS


class Classification(models.TextChoices):
    """Five-category classification (五级分类, DESIGN.md §4)."""

    NORMAL = "normal", _("Normal")  # 正常
    SPECIAL_MENTION = "special_mention", _("Special mention")  # 关注
    SUBSTANDARD = "substandard", _("Substandard")  # 次级
    DOUBTFUL = "doubtful", _("Doubtful")  # 可疑
    LOSS = "loss", _("Loss")  # 损失


# The loan list's order: the most overdue first, then by next due date (those with none last).
LIST_ORDER = (F("dpd").desc(), F("next_due_date").asc(nulls_last=True), F("id").asc())
# Its indexes: ascending is NULLS LAST in PostgreSQL, so these serve LIST_ORDER; SQLite cannot index NULLS LAST.
LIST_INDEX_ORDER = (F("dpd").desc(), F("next_due_date").asc(), F("id").asc())
# The overdue list's order: by bucket from 1–30 days up, the most days past due first within each. One expression
# for the query and its indexes, which PostgreSQL uses only for the very same expression.
BUCKET_RANK = Case(
    *[When(bucket=value, then=V(index)) for index, value in enumerate(Bucket.values)],
    default=V(len(Bucket.values)),
    output_field=IntegerField(),
)
OVERDUE_ORDER = (BUCKET_RANK, F("dpd").desc(), F("id").asc())


class Loan(TimeStampedModel):
    """A disbursed contract. The columns after `status` summarise the installments, so lists and sweeps never
    aggregate them; `postloan.services.loan_refresh_summary` is the one place that recomputes them."""

    number = models.CharField(_("loan number"), max_length=20, unique=True)
    contract = models.OneToOneField(
        "postloan.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="loan"
    )
    borrower = models.ForeignKey(
        "applications.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="loans"
    )
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("loan officer"), on_delete=models.PROTECT, related_name="+"
    )
    # The product of the application the contract was drawn from, copied at disbursement (it cannot change after
    # approval): the loan lists, their product filter and the dashboards read it without joining the contract and
    # the application, two joins that cost PostgreSQL more to plan than the list costs to run. No index of its own: a
    # lender has a handful of products, so one matches a fifth of the book and is read through the branch and officer
    # indexes; an index would only add a write to each of the nightly sweep's updates.
    product = models.ForeignKey(
        "applications.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    principal = money_field(_("principal"))
    annual_rate = rate_field(_("annual rate (%)"))
    penalty_rate = rate_field(_("penalty annual rate (%)"))
    method = models.CharField(_("repayment method"), max_length=20, choices=ScheduleMethod.choices)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    disbursed_on = models.DateField(_("disbursed on"))
    maturity_date = models.DateField(_("maturity date"))
    status = models.CharField(_("status"), max_length=16, choices=LoanStatus.choices, default=LoanStatus.ACTIVE)
    outstanding_principal = money_field(_("outstanding principal"))
    next_due_date = models.DateField(_("next due date"), null=True, blank=True)
    next_due_amount = money_field(_("next due amount"), default=ZERO)
    # Kept on the loan so the overdue list and its per-bucket totals read loans only, never their installments.
    past_due_amount = money_field(
        _("Past due amount"),
        default=ZERO,
        help_text=_(
            "What fell due before the business date and is still unpaid on the schedule in force, penalty included."
        ),
    )
    dpd = models.PositiveIntegerField(_("days past due"), default=0)
    bucket = models.CharField(_("aging bucket"), max_length=10, choices=Bucket.choices, default=Bucket.CURRENT)
    classification = models.CharField(
        _("classification"), max_length=16, choices=Classification.choices, default=Classification.NORMAL
    )
    # An approved manual classification (ClassificationProposal): the sweep never sets the loan better than this
    # until a person clears it. Blank when there is none.
    manual_classification = models.CharField(
        _("manual classification"), max_length=16, choices=Classification.choices, blank=True
    )
    restructured = models.BooleanField(_("restructured"), default=False)
    observation_until = models.DateField(_("in observation until"), null=True, blank=True)
    credit_balance = money_field(_("credit balance"), default=ZERO)
    penalty_accrued_through = models.DateField(_("penalty accrued through"), null=True, blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    paid_off_on = models.DateField(_("paid off on"), null=True, blank=True)
    current_version = models.PositiveSmallIntegerField(_("current schedule version"), default=1)
    # Bumped each time the allocations are recomputed from scratch (after a reversal); new rows carry it.
    allocation_generation = models.PositiveIntegerField(_("allocation generation"), default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-disbursed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=LoanStatus.values), name="loan_status_valid"),
            models.CheckConstraint(condition=Q(bucket__in=Bucket.values), name="loan_bucket_valid"),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values), name="loan_classification_valid"
            ),
            models.CheckConstraint(condition=Q(method__in=ScheduleMethod.values), name="loan_method_valid"),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0, outstanding_principal__lte=F("principal")),
                name="loan_outstanding_within_principal",
            ),
            models.CheckConstraint(
                condition=Q(credit_balance__gte=0, next_due_amount__gte=0), name="loan_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(annual_rate__gte=0, penalty_rate__gte=0), name="loan_rates_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=LoanStatus.PAID_OFF) | Q(paid_off_on__isnull=False), name="loan_paid_off_dated"
            ),
            models.CheckConstraint(
                condition=~Q(status=LoanStatus.OVERDUE) | Q(overdue_since__isnull=False), name="loan_overdue_dated"
            ),
        ]
        indexes = [
            # the overdue list and the aging report: WHERE status = 'overdue' [AND bucket = ?]
            models.Index(fields=["status", "bucket"], name="loan_status_bucket_idx"),
            # the dashboard's disbursements by month: WHERE disbursed_on in the period
            models.Index(fields=["disbursed_on"], name="loan_disbursed_on_idx"),
            # branch loan lists: WHERE branch = ? AND status = ?
            models.Index(fields=["branch", "status"], name="loan_branch_status_idx"),
            # "my loans" and its counts per status: WHERE officer = ? AND branch = ? (the scope) [AND status = ?]
            # GROUP BY status, with no second bitmap over the branch (42 → 31 ms for the busiest officer at 1M loans)
            models.Index(fields=["officer", "branch", "status"], name="loan_officer_status_idx"),
            # the daily sweep: WHERE status IN ('active', 'overdue') AND next_due_date <= ?
            models.Index(
                fields=["status", "next_due_date"],
                name="loan_sweep_idx",
                condition=Q(status__in=OPEN_LOAN_STATUSES),
            ),
            # the loan list's first page (postloan.selectors.loan_list), of an officer, a branch and head office:
            # WHERE officer = ? | branch = ? ORDER BY dpd DESC, next_due_date NULLS LAST, id LIMIT 25, read in index
            # order instead of sorting every loan they have
            *[
                models.Index(*scope, *LIST_INDEX_ORDER, name=f"loan_{name}_list_idx")
                for name, scope in (("officer", [F("officer")]), ("branch", [F("branch")]), ("book", []))
            ],
            # the overdue list's page (postloan.selectors.overdue_list), of a branch and head office: WHERE status =
            # 'overdue' [AND branch = ?] ORDER BY OVERDUE_ORDER LIMIT 25, read in order instead of sorting all of the
            # branch's overdue loans (9.0 → 0.5 ms for the biggest branch at 100,000 loans)
            *[
                models.Index(
                    *scope, *OVERDUE_ORDER, name=f"loan_{name}_overdue_idx", condition=Q(status=LoanStatus.OVERDUE)
                )
                for name, scope in (("branch", [F("branch")]), ("book", []))
            ],
            # the overdue list's summary per bucket: WHERE status = 'overdue' AND branch = ? GROUP BY bucket with
            # SUM(past_due_amount), from the index alone (12 ms for the biggest branch's 9,000 overdue loans at
            # 1,000,000 loans, from the table). PostgreSQL only: other databases do without (INCLUDE).
            models.Index(
                fields=["branch", "bucket"],
                include=["past_due_amount"],
                name="loan_overdue_summary_idx",
                condition=Q(status=LoanStatus.OVERDUE),
            ),
            # an officer's loans of one aging bucket (the list filtered by bucket, as the overdue buckets link to
            # it): WHERE officer = ? AND branch = ? AND bucket = ? [AND status = ?], its page read in LIST_ORDER and
            # its counts per status from the index alone. Partial: only overdue loans leave the current bucket. For
            # the busiest officer's 284 loans at 31–60 days of a 1,000,000-loan book, read among their 58,504 loans
            # before: counts 7.3 → 0.06 ms, page 4.9 → 0.5 ms.
            models.Index(
                fields=["officer", "branch", "bucket", "status", "-dpd", "next_due_date", "id"],
                name="loan_officer_bucket_idx",
                condition=~Q(bucket=Bucket.CURRENT),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LOAN_STATUSES

    def current_installments(self) -> models.QuerySet["Installment"]:
        """The installments of the schedule version in force, in due order."""
        return self.installments.filter(version__version=self.current_version).order_by("due_date", "number")


class LoanStatusCount(StatusCount):
    """Loans per branch, officer and status (core.status_counts): the loan list's counts per status."""

    class Meta:
        indexes = [models.Index(fields=StatusCount.INDEXED, name="loan_status_count_idx")]


class ScheduleReason(models.TextChoices):
    DISBURSEMENT = "disbursement", _("Disbursement")
    RESTRUCTURING = "restructuring", _("Restructuring")
    PREPAYMENT = "prepayment", _("Prepayment")


class ScheduleVersion(models.Model):
    """One repayment schedule of a loan: version 1 at disbursement, one more per approved restructuring or
    principal prepayment."""

    Reason = ScheduleReason

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="schedule_versions")
    version = models.PositiveSmallIntegerField(_("version"))
    reason = models.CharField(_("reason"), max_length=16, choices=ScheduleReason.choices)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("schedule version")
        verbose_name_plural = _("schedule versions")
        ordering = ["loan", "version"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "version"], name="schedule_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="schedule_version_positive"),
            models.CheckConstraint(condition=Q(reason__in=ScheduleReason.values), name="schedule_version_reason_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} v{self.version}"


# SQLite compares decimals as floating point, where 550.00 − 128.33 < 421.67; half a fen of slack absorbs that, and
# for whole-fen amounts (PostgreSQL's exact numerics) "a ≤ b + 0.005" is the same condition as "a ≤ b".
HALF_FEN = Decimal("0.005")


class InstallmentStatus(models.TextChoices):
    PENDING = "pending", _("Not paid")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")


class Installment(models.Model):
    """One row of a schedule version: what falls due on a date, what has been paid against it, and what was waived.

    `interest_waived` is interest the lender gave up (the unearned interest of a payoff); the interest owed is
    `interest_due − interest_waived`. The paid columns are always the sums of the active allocations to the row.
    """

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="installments")
    version = models.ForeignKey(ScheduleVersion, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    principal_due = money_field(_("principal due"))
    interest_due = money_field(_("interest due"))
    interest_waived = money_field(_("interest waived"), default=ZERO)
    penalty_accrued = money_field(_("penalty accrued"), default=ZERO)
    principal_paid = money_field(_("principal paid"), default=ZERO)
    interest_paid = money_field(_("interest paid"), default=ZERO)
    penalty_paid = money_field(_("penalty paid"), default=ZERO)
    status = models.CharField(
        _("status"), max_length=8, choices=InstallmentStatus.choices, default=InstallmentStatus.PENDING
    )
    paid_on = models.DateField(_("paid in full on"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["loan", "version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="installment_number_unique"),
            models.CheckConstraint(condition=Q(status__in=InstallmentStatus.values), name="installment_status_valid"),
            models.CheckConstraint(
                condition=Q(
                    principal_due__gte=0,
                    interest_due__gte=0,
                    interest_waived__gte=0,
                    penalty_accrued__gte=0,
                    principal_paid__gte=0,
                    interest_paid__gte=0,
                    penalty_paid__gte=0,
                ),
                name="installment_amounts_not_negative",
            ),
            # Never more paid (or waived) than is due, whatever the services do.
            models.CheckConstraint(
                condition=Q(principal_paid__lte=F("principal_due")), name="installment_principal_not_overpaid"
            ),
            models.CheckConstraint(
                condition=Q(interest_paid__lte=F("interest_due") - F("interest_waived") + HALF_FEN),
                name="installment_interest_not_overpaid",
            ),
            models.CheckConstraint(
                condition=Q(penalty_paid__lte=F("penalty_accrued")), name="installment_penalty_not_overpaid"
            ),
            models.CheckConstraint(
                condition=~Q(status=InstallmentStatus.PAID) | Q(paid_on__isnull=False), name="installment_paid_dated"
            ),
        ]
        indexes = [
            # oldest unpaid first (allocation, DPD, the sweep): WHERE loan = ? AND status <> 'paid' ORDER BY due_date
            models.Index(fields=["loan", "status", "due_date"], name="installment_unpaid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} #{self.number} {self.due_date}"

    @property
    def interest_owed(self) -> Decimal:
        return self.interest_due - self.interest_waived

    @property
    def total_due(self) -> Decimal:
        return self.principal_due + self.interest_owed + self.penalty_accrued

    @property
    def total_paid(self) -> Decimal:
        return self.principal_paid + self.interest_paid + self.penalty_paid

    @property
    def outstanding(self) -> Decimal:
        return self.total_due - self.total_paid

    @property
    def principal_outstanding(self) -> Decimal:
        return self.principal_due - self.principal_paid

    @property
    def interest_outstanding(self) -> Decimal:
        return self.interest_owed - self.interest_paid

    @property
    def penalty_outstanding(self) -> Decimal:
        return self.penalty_accrued - self.penalty_paid

    def as_state(self) -> InstallmentState:
        """What is still owed, for `postloan.allocation.allocate`."""
        return InstallmentState(
            key=self.pk,
            number=self.number,
            due_date=self.due_date,
            penalty=self.penalty_outstanding,
            interest=self.interest_outstanding,
            principal=self.principal_outstanding,
        )


class PenaltyAccrual(models.Model):
    """Penalty interest (罚息) accrued on one installment's overdue principal for one day; the daily sweep writes
    these, and the unique pair makes a second run on the same day accrue nothing."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="penalty_accruals")
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="penalty_accruals")
    accrual_date = models.DateField(_("for the day"))
    overdue_principal = money_field(_("overdue principal"))
    penalty_rate = rate_field(_("penalty annual rate (%)"))
    amount = money_field(_("amount"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("penalty accrual")
        verbose_name_plural = _("penalty accruals")
        ordering = ["loan", "accrual_date", "installment"]
        constraints = [
            models.UniqueConstraint(fields=["installment", "accrual_date"], name="penalty_accrual_once_per_day"),
            models.CheckConstraint(
                condition=Q(amount__gte=0, overdue_principal__gte=0, penalty_rate__gte=0),
                name="penalty_accrual_not_negative",
            ),
        ]
        indexes = [
            # the loan's penalty history and "accrued through when?": WHERE loan = ? ORDER BY accrual_date
            models.Index(fields=["loan", "accrual_date"], name="penalty_accrual_loan_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.installment_id} {self.accrual_date} {self.amount}"


class LoanEventKind(models.TextChoices):
    DISBURSED = "disbursed", _("Disbursed")
    REPAYMENT = "repayment", _("Repayment")
    PAYOFF = "payoff", _("Payoff")
    REVERSAL = "reversal", _("Repayment reversed")
    PAID_OFF = "paid_off", _("Paid off")
    REOPENED = "reopened", _("Reopened")
    OVERDUE = "overdue", _("Became overdue")
    CURED = "cured", _("No longer overdue")
    CLASSIFICATION = "classification", _("Classification changed")
    RESTRUCTURED = "restructured", _("Restructured")
    NOTE = "note", _("Note")


class LoanEvent(models.Model):
    """The loan's timeline: disbursement, repayments, reversals, status changes and notes; never edited."""

    Kind = LoanEventKind

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=LoanEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("loan event")
        verbose_name_plural = _("loan events")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LoanEventKind.values), name="loan_event_kind_valid"),
        ]
        indexes = [
            # the loan's timeline tab: WHERE loan = ? ORDER BY created_at
            models.Index(fields=["loan", "created_at"], name="loan_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"
