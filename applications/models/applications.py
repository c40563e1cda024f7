"""The loan application and its state machine: a transition is a conditional update plus a timeline event."""

from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import StatusCount, TimeStampedModel
from core.schedules import ScheduleMethod

from .borrowers import Borrower
from .products import Product

# An approved application not contracted within this many days expires (the daily sweep).
APPROVAL_VALID_DAYS = 30


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, waiting for initial review")
    INITIAL_REVIEW = "initial_review", _("In initial review")
    SECONDARY_REVIEW = "secondary_review", _("In secondary review")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for more information")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Approval expired")
    CONTRACTED = "contracted", _("Contract signed")
    DISBURSED = "disbursed", _("Disbursed")


S = ApplicationStatus
OPEN_STATUSES = (S.DRAFT, S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW, S.RETURNED)
# Stages with a review target (SLA): the clock runs from entering the stage to the decision.
INITIAL_STAGE = (S.SUBMITTED, S.INITIAL_REVIEW)
SECONDARY_STAGE = (S.SECONDARY_REVIEW,)


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Online portal")
    REFERRAL = "referral", _("Referral")


class RejectionReason(models.TextChoices):
    INSUFFICIENT_INCOME = "insufficient_income", _("Insufficient or unverifiable income")
    HIGH_DEBT = "high_debt", _("Debt-to-income too high")
    POOR_CREDIT = "poor_credit", _("Poor credit record")
    FALSE_INFORMATION = "false_information", _("False or inconsistent information")
    INSUFFICIENT_COLLATERAL = "insufficient_collateral", _("Insufficient collateral or guarantee")
    POLICY = "policy", _("Outside the product's policy")
    OTHER = "other", _("Other")


class TransitionError(Exception):
    """A state change that is not allowed now; the message is for the user, already translated."""


# The application list's order: the newest first.
LIST_ORDER = (F("created_at").desc(), F("id").desc())


class Application(TimeStampedModel):
    number = models.CharField(_("application number"), max_length=20, unique=True)
    borrower = models.ForeignKey(
        Borrower, verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="applications"
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount requested"), max_digits=18, decimal_places=2)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    method = models.CharField(_("repayment method"), max_length=20, choices=ScheduleMethod.choices)
    annual_rate = models.DecimalField(_("proposed annual rate (%)"), max_digits=7, decimal_places=4)
    purpose = models.CharField(_("purpose"), max_length=300)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WALK_IN)
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("loan officer"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=ApplicationStatus.choices, default=S.DRAFT)
    status_changed_at = models.DateTimeField(_("in this status since"), default=timezone.now)
    sla_due_at = models.DateTimeField(_("review due by"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    initial_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("initial reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_amount = models.DecimalField(_("approved amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    approved_rate = models.DecimalField(
        _("approved annual rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    approved_term_months = models.PositiveSmallIntegerField(_("approved term (months)"), null=True, blank=True)
    conditions = models.TextField(_("conditions of approval"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("approval expires at"), null=True, blank=True)
    rejection_codes = models.JSONField(_("rejection reasons"), default=list, blank=True)
    rejection_text = models.TextField(_("rejection explanation"), blank=True)
    # The officer asked the borrower to read and acknowledge the risk disclosure on the portal.
    disclosure_requested_at = models.DateTimeField(_("disclosure requested on the portal at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loan application")
        verbose_name_plural = _("loan applications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ApplicationStatus.values), name="application_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="application_amount_positive"),
            models.CheckConstraint(condition=models.Q(term_months__gte=1), name="application_term_positive"),
            models.CheckConstraint(
                condition=models.Q(approved_amount__isnull=True) | models.Q(approved_amount__lte=models.F("amount")),
                name="application_approved_not_above_requested",
            ),
        ]
        indexes = [
            # review queues and branch lists: WHERE branch = ? AND status IN (...) ORDER BY status_changed_at
            models.Index(fields=["branch", "status", "status_changed_at"], name="application_queue_idx"),
            # the initial review queue's page (applications.selectors.initial_review_queue): WHERE branch = ? AND
            # status IN ('submitted', 'initial_review') ORDER BY status_changed_at, id LIMIT 25, read in order; with
            # the two statuses PostgreSQL joined all 1,278 waiting applications of the biggest branch at 1,000,000
            # loans to their borrowers before sorting them (6.9 ms)
            models.Index(
                fields=["branch", "status_changed_at", "id"],
                name="application_initial_queue_idx",
                condition=Q(status__in=INITIAL_STAGE),
            ),
            # "my applications" and its counts per status: WHERE officer = ? AND branch = ? (the scope) [AND status = ?]
            # GROUP BY status, read from the index alone (6.3 → 1.9 ms for the busiest officer at 100,000 loans)
            models.Index(fields=["officer", "branch", "status"], name="application_officer_idx"),
            # the dashboard's funnel: applications submitted in the period
            models.Index(fields=["submitted_at"], name="application_submitted_idx"),
            # the expiry sweep: WHERE status = 'approved' AND expires_at < now
            models.Index(fields=["expires_at"], name="application_expiry_idx", condition=models.Q(status="approved")),
            # the application list's first page (applications.selectors.application_list), of an officer, a branch
            # and head office: WHERE officer = ? | branch = ? ORDER BY created_at DESC, id DESC LIMIT 25, read in
            # index order instead of sorting every application they have
            *[
                models.Index(*scope, *LIST_ORDER, name=f"application_{name}_list_idx")
                for name, scope in (("officer", [F("officer")]), ("branch", [F("branch")]), ("book", []))
            ],
        ]

    def __str__(self) -> str:
        return self.number

    # --- derived values -------------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_editable(self) -> bool:
        """The officer may change details, parties and materials only before submission or after a return."""
        return self.status in (S.DRAFT, S.RETURNED)

    @property
    def sla_breached(self) -> bool:
        return (
            self.sla_due_at is not None
            and self.status in (*INITIAL_STAGE, *SECONDARY_STAGE)
            and (timezone.now() > self.sla_due_at)
        )

    @property
    def time_in_status(self) -> timedelta:
        return timezone.now() - self.status_changed_at

    # --- the state machine ----------------------------------------------------------------------------------------
    def require_status(self, allowed: tuple[str, ...]) -> None:
        """Raise TransitionError unless the (loaded) status is one of `allowed`; services call it before checking
        their input, so that a move the status rules out is refused as such, not for a missing document."""
        if self.status not in allowed:
            raise TransitionError(
                gettext("This is not possible while the application is “%(status)s”.")
                % {"status": self.get_status_display()}
            )

    def transition(
        self, *, to: str, by, allowed_from: tuple[str, ...], note: str = "", data: dict | None = None, **changes
    ) -> "ApplicationEvent":
        """Move to `to` if the status is still the one loaded; zero rows updated means someone else changed it first.

        Writes the timeline event in the same transaction and sends `application_status_changed` after commit.
        """
        from ..signals import application_status_changed

        self.require_status(allowed_from)
        now = timezone.now()
        previous = self.status
        event_data = dict(data or {})
        if previous in (*INITIAL_STAGE, *SECONDARY_STAGE) and self.sla_due_at is not None:
            event_data["sla_breached"] = now > self.sla_due_at
        with transaction.atomic():
            updated = Application.objects.filter(pk=self.pk, status=previous).update(
                status=to, status_changed_at=now, updated_at=now, **changes
            )
            if not updated:
                current = Application.objects.filter(pk=self.pk).values_list("status", flat=True).first()
                raise TransitionError(
                    gettext(
                        "Someone else has just changed this application (it is now “%(status)s”). Nothing was saved."
                    )
                    % {"status": ApplicationStatus(current).label if current else "—"}
                )
            event = ApplicationEvent.objects.create(
                application=self,
                kind=ApplicationEvent.Kind.STATUS,
                from_status=previous,
                to_status=to,
                actor=by,
                note=note,
                data=event_data,
            )
            # send_robust: this runs after commit, so a failing receiver must not turn a saved change into an error
            # page (or keep the callbacks queued after this one, e.g. the SMS, from running); it is logged instead.
            transaction.on_commit(
                lambda: application_status_changed.send_robust(
                    sender=Application, application_id=self.pk, from_status=previous, to_status=to
                )
            )
        self.status, self.status_changed_at, self.updated_at = to, now, now
        for name, value in changes.items():
            setattr(self, name, value)
        return event

    def mark_contracted(self, *, by) -> "ApplicationEvent":
        """Called by postloan when the contract is signed."""
        return self.transition(to=S.CONTRACTED, by=by, allowed_from=(S.APPROVED,), expires_at=None)

    def mark_disbursed(self, *, by) -> "ApplicationEvent":
        """Called by postloan when the disbursement is confirmed."""
        return self.transition(to=S.DISBURSED, by=by, allowed_from=(S.CONTRACTED,))


class ApplicationStatusCount(StatusCount):
    """Applications per branch, officer and status (core.status_counts): the application list's counts per status."""

    class Meta:
        indexes = [models.Index(fields=StatusCount.INDEXED, name="application_status_count_idx")]


class ApplicationEvent(models.Model):
    """The application's timeline: every status change, upload, review, note and reassignment, never edited."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        MATERIAL = "material", _("Material")
        DISCLOSURE = "disclosure", _("Risk disclosure")
        ASSESSMENT = "assessment", _("Credit assessment")
        ASSIGNMENT = "assignment", _("Reassignment")
        NOTE = "note", _("Note")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(_("from"), max_length=20, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=ApplicationStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        ordering = ["created_at", "pk"]
        indexes = [
            # the timeline tab: WHERE application = ? ORDER BY created_at
            models.Index(fields=["application", "created_at"], name="application_event_idx"),
            # the dashboard's decisions and stage times: WHERE kind = 'status' AND created_at in the period
            models.Index(fields=["kind", "created_at"], name="application_event_period_idx"),
            # the dashboard's stage times, once per decision in the period: the latest STATUS event into the stage's
            # status, WHERE application = ? AND kind = 'status' AND to_status = ? AND created_at <= ?
            # ORDER BY created_at DESC, id DESC LIMIT 1 (949 → 314 ms for 33,809 decisions at 100,000 loans)
            models.Index(
                fields=["application", "to_status", "created_at", "id"],
                name="application_event_entry_idx",
                condition=models.Q(kind="status"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class Party(models.Model):
    """A related party of an application: guarantor, authorised representative, collateral custodian."""

    class Role(models.TextChoices):
        GUARANTOR = "guarantor", _("Guarantor (担保人)")
        AUTHORIZED_REPRESENTATIVE = "authorized_representative", _("Authorized representative (授权代表)")
        COLLATERAL_CUSTODIAN = "collateral_custodian", _("Collateral custodian (抵押物保管人)")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    name = models.CharField(_("name"), max_length=200)
    relationship = models.CharField(_("relationship to the borrower"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile number"), max_length=20)
    address = models.CharField(_("address"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("related party")
        verbose_name_plural = _("related parties")
        ordering = ["role", "pk"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.name}"


class Collateral(models.Model):
    class Kind(models.TextChoices):
        REAL_ESTATE = "real_estate", _("Real estate")
        VEHICLE = "vehicle", _("Vehicle")
        EQUIPMENT = "equipment", _("Equipment")
        DEPOSIT = "deposit", _("Deposit or certificate")
        OTHER = "other", _("Other")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="collateral")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    estimated_value = models.DecimalField(_("estimated value"), max_digits=18, decimal_places=2)
    custodian = models.ForeignKey(
        Party, verbose_name=_("custodian"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collateral item")
        verbose_name_plural = _("collateral")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(estimated_value__gte=0), name="collateral_value_not_negative")
        ]

    def __str__(self) -> str:
        return self.description


class DisclosureAcknowledgement(models.Model):
    """The borrower read and acknowledged a version of the product's risk disclosure."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person, witnessed by the officer")
        PORTAL = "portal", _("On the borrower portal")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="acknowledgements")
    disclosure = models.ForeignKey("applications.RiskDisclosure", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("witnessed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)

    class Meta:
        verbose_name = _("risk disclosure acknowledgement")
        verbose_name_plural = _("risk disclosure acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["application", "disclosure"], name="acknowledgement_once_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.disclosure_id}"


class CreditAssessment(models.Model):
    """The officer's inputs to the scorecard and its result (applications.scoring), kept as shown."""

    class IncomeStability(models.TextChoices):
        STABLE = "stable", _("Stable")
        VARIABLE = "variable", _("Variable")
        UNSTABLE = "unstable", _("Unstable")

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="assessment")
    income_stability = models.CharField(_("income stability"), max_length=16, choices=IncomeStability.choices)
    credit_flags = models.JSONField(_("credit report findings"), default=list, blank=True)
    total = models.PositiveSmallIntegerField(_("score"))
    grade = models.CharField(_("grade"), max_length=1)
    factors = models.JSONField(_("factors"), default=list)
    hard_stops = models.JSONField(_("hard stops"), default=list, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assessed by"), on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(_("assessed at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("credit assessment")
        verbose_name_plural = _("credit assessments")

    def __str__(self) -> str:
        return f"{self.application_id}: {self.grade} ({self.total})"

    # The scorecard's words are stored in every interface language ({"zh-hans": ..., "en": ...}); these pick the
    # reader's, so a Chinese-speaking officer's assessment reads in English for an English-speaking reviewer.
    @property
    def shown_factors(self) -> list[dict]:
        return [
            {**factor, "label": _in_reader_language(factor["label"]), "reason": _in_reader_language(factor["reason"])}
            for factor in self.factors
        ]

    @property
    def shown_hard_stops(self) -> list[str]:
        return [_in_reader_language(stop) for stop in self.hard_stops]


def _in_reader_language(text: dict | str) -> str:
    if isinstance(text, str):
        return text
    language = translation.get_language() or settings.LANGUAGE_CODE
    return text.get(language) or text.get(settings.LANGUAGE_CODE) or next(iter(text.values()), "")


class Review(models.Model):
    """One decision of initial review (初审) or secondary review (复核)."""

    class Stage(models.TextChoices):
        INITIAL = "initial", _("Initial review")
        SECONDARY = "secondary", _("Secondary review")

    class Decision(models.TextChoices):
        PASS = "pass", _("Pass to secondary review")
        APPROVE = "approve", _("Approve")
        RETURN = "return", _("Return to the officer")
        REJECT = "reject", _("Reject")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    checklist = models.JSONField(_("checklist"), default=dict, blank=True)
    comment = models.TextField(_("comment"))
    rejection_codes = models.JSONField(_("rejection reasons"), default=list, blank=True)
    approved_amount = models.DecimalField(_("approved amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    approved_rate = models.DecimalField(
        _("approved annual rate (%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    approved_term_months = models.PositiveSmallIntegerField(_("approved term (months)"), null=True, blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    created_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["created_at", "pk"]
        indexes = [
            # maker-checker: "has this person already reviewed this application?"
            models.Index(fields=["application", "reviewer"], name="review_reviewer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage} {self.decision}"
