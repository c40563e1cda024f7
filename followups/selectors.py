"""Reads for the follow-up pages: branch-scoped, joined up front so a page costs the same whatever its rows."""

import re
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import translation

from accounts.models import User
from accounts.permissions import holders_of, scope
from accounts.roles import Role
from applications.models import Application
from core.dates import date_text
from core.money import format_yuan
from postloan.models import Installment

from .models import (
    OPEN_FOLLOWUP_STATUSES,
    ContactAttempt,
    FollowUp,
    FollowUpAmendment,
    FollowUpKind,
    FollowUpPhoto,
    FollowUpStatus,
    Inquiry,
    InquiryReply,
    Question,
    QuestionSet,
    RiskWarning,
    ScriptTemplate,
    WarningStatus,
)

Status = FollowUpStatus
# What a list row shows: the loan and its borrower, or the application and its borrower for a pre-loan contact.
LIST_RELATED = ("loan", "loan__borrower", "application", "application__borrower", "officer", "branch")
UPCOMING_DAYS = 7
# What a row of the "today" lists shows (followups.templatetags.worklist_rows). Up to 100 rows a page: whole loans,
# applications and borrowers (each borrower's identity number decrypted) cost that page more than its SQL.
TODAY_ROW_FIELDS = (
    "kind",
    "status",
    "due_on",
    "failed_attempts",
    "loan__number",
    "loan__borrower__name",
    "application__number",
    "application__borrower__name",
)
# Long dates as people read them: 2026年3月15日, or 15 March 2026 in English.
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def followups_for(user: User) -> QuerySet[FollowUp]:
    """Every follow-up the user may see: their branch's, or all for head office."""
    return scope(FollowUp.objects.all(), user)


# --- worklists ----------------------------------------------------------------------------------------------------
def officer_today(*, user: User, today: date) -> dict:
    """The officer's "today" page: planned follow-ups overdue (due before today), due today and due in the next 7
    days, and records returned for correction; with their counts (two queries) under "counts"."""
    mine = followups_for(user).filter(officer=user)
    until = today + timedelta(days=UPCOMING_DAYS)
    conditions = {
        "overdue": Q(status=Status.PLANNED, due_on__lt=today),
        "due_today": Q(status=Status.PLANNED, due_on=today),
        "next_7_days": Q(status=Status.PLANNED, due_on__gt=today, due_on__lte=until),
        "returned": Q(status=Status.RETURNED),
    }
    # Counted on the lists' own rows, two ranges of followup_officer_today_idx: the planned ones due up to a week
    # ahead, and the returned ones. Not every open follow-up: a busy officer's plan runs years ahead (72,280 open
    # follow-ups for the busiest officer of the 1M-loan book: 168 ms), and not the four conditions OR-ed in one query,
    # which PostgreSQL read as one scan of the officer's whole plan (54 ms).
    planned = Q(status=Status.PLANNED)
    counts = mine.filter(planned, due_on__lte=until).aggregate(
        **{name: Count("pk", filter=condition) for name, condition in conditions.items() if name != "returned"}
    )
    counts["returned"] = mine.filter(conditions["returned"]).count()
    listed = (
        mine.select_related("loan__borrower", "application__borrower").only(*TODAY_ROW_FIELDS).order_by("due_on", "pk")
    )
    return {name: listed.filter(condition) for name, condition in conditions.items()} | {"counts": counts}


def review_queue(*, user: User) -> QuerySet[FollowUp]:
    """Completed records waiting for a risk officer's review, oldest first; never the user's own (maker-checker)."""
    return (
        followups_for(user)
        .filter(status=Status.COMPLETED)
        .exclude(completed_by=user)
        .select_related(*LIST_RELATED, "completed_by")
        .order_by("completed_at", "pk")
    )


def verification_calls(application: Application) -> dict:
    """The application's verification calls (信息核实) for the reviewer deciding on it: `planned`, the one still to
    make (soonest due), and `result`, the latest recorded, each with its officer (what the card shows; the answers
    are on the record's own page). One query (an application has one or two)."""
    calls = list(
        FollowUp.objects.filter(
            application=application,
            kind=FollowUpKind.VERIFICATION_CALL,
            status__in=(*OPEN_FOLLOWUP_STATUSES, Status.COMPLETED, Status.APPROVED),
        ).select_related("officer")
    )
    planned = min(
        (call for call in calls if call.status in OPEN_FOLLOWUP_STATUSES),
        key=lambda call: (call.due_on, call.pk),
        default=None,
    )
    result = max(
        (call for call in calls if call.status not in OPEN_FOLLOWUP_STATUSES and call.completed_at),
        key=lambda call: (call.completed_at, call.pk),
        default=None,
    )
    return {"planned": planned, "result": result}


# --- the record page ----------------------------------------------------------------------------------------------
def followup_detail(*, user: User, pk: int) -> FollowUp:
    """One follow-up with everything the record page shows, in a fixed number of queries; 404 outside the scope.

    On the follow-up: `attempt_list`, `photo_list`, `amendment_list`, `checklist` (the question set used, or the
    active one of the kind, with its questions; None if there is none), `script` (ScriptTemplate or None) and
    `script_text` (filled in the current language). On its loan: `schedule` (the installments in force),
    `approved_followups` (newest first, this one excluded) with `last_approved_followup`, and `open_warnings`.
    """
    installments = Installment.objects.filter(version__version=F("loan__current_version")).order_by(
        "due_date", "number"
    )
    approved = (
        FollowUp.objects.filter(status=Status.APPROVED).select_related("completed_by").order_by("-completed_at", "-pk")
    )
    open_warnings = RiskWarning.objects.exclude(status=WarningStatus.RESOLVED).order_by("opened_at", "pk")
    queryset = followups_for(user).select_related(
        *LIST_RELATED,
        "loan__contract",
        "loan__officer",
        "application__product",
        "question_set",
        "completed_by",
        "reviewed_by",
        "questionnaire",
    )
    followup = get_object_or_404(
        queryset.prefetch_related(
            Prefetch("loan__installments", queryset=installments, to_attr="schedule"),
            Prefetch("loan__followups", queryset=approved, to_attr="approved_followups"),
            Prefetch("loan__warnings", queryset=open_warnings, to_attr="open_warnings"),
            "application__parties",
            Prefetch("attempts", queryset=ContactAttempt.objects.select_related("by"), to_attr="attempt_list"),
            Prefetch("photos", queryset=FollowUpPhoto.objects.select_related("uploaded_by"), to_attr="photo_list"),
            Prefetch("amendments", queryset=FollowUpAmendment.objects.select_related("by"), to_attr="amendment_list"),
            Prefetch("question_set__questions", queryset=Question.objects.order_by("position", "pk")),
        ),
        pk=pk,
    )
    if followup.loan is not None:
        followup.loan.approved_followups = [
            other for other in followup.loan.approved_followups if other.pk != followup.pk
        ]
        followup.loan.last_approved_followup = next(iter(followup.loan.approved_followups), None)
    followup.checklist = followup.question_set or (
        QuestionSet.objects.filter(kind=followup.kind, is_active=True)
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position", "pk")))
        .first()
    )
    followup.script = script_template_for(followup)
    followup.script_text = fill_script(followup.script, followup, translation.get_language())
    return followup


# --- call scripts (话术) -------------------------------------------------------------------------------------------
def script_template_for(followup: FollowUp) -> ScriptTemplate | None:
    """The active script for the follow-up's kind; for an overdue call without one, the soft-collection script; else a
    follow-up script for any kind. One query."""
    category, kind = ScriptTemplate.Category, followup.kind
    candidates = Q(category=category.FOLLOWUP, kind__in=[kind, ""])
    if kind == FollowUpKind.OVERDUE_CALL:
        candidates |= Q(category=category.SOFT_COLLECTION)
    templates = list(ScriptTemplate.objects.filter(candidates, is_active=True).order_by("pk"))

    def rank(template: ScriptTemplate) -> int:
        if template.category == category.FOLLOWUP and template.kind == kind:
            return 0
        return 1 if template.category == category.SOFT_COLLECTION else 2

    return min(templates, key=rank, default=None)


def _language_code(language: str | None) -> str:
    return "en" if (language or settings.LANGUAGE_CODE).startswith("en") else "zh-hans"


def script_values(followup: FollowUp, language: str) -> dict[str, str]:
    """What a script's placeholders stand for: {borrower_name}, {amount} (the loan's principal, or the amount asked
    for), {next_due_date}, {next_due_amount}, {number} and {officer_name}; money as ¥1,234.56, dates in `language`."""
    language = _language_code(language)
    loan, application = followup.loan, followup.application
    borrower = loan.borrower if loan is not None else application.borrower if application is not None else None
    next_due = loan.next_due_date if loan is not None else None
    due_text = date_text(next_due, language) if next_due else "—"
    return {
        "borrower_name": borrower.name if borrower else "",
        "amount": format_yuan(loan.principal if loan is not None else application.amount if application else None),
        "next_due_date": due_text,
        "next_due_amount": format_yuan(loan.next_due_amount if loan is not None else None),
        "number": (loan or application).number if (loan or application) else "",
        "officer_name": str(followup.officer),
    }


def fill_script(template: ScriptTemplate | None, followup: FollowUp, language: str | None) -> str:
    """The script's text in `language` (Chinese when it has no English) with its placeholders filled; an unknown
    {placeholder} is left as written."""
    if template is None:
        return ""
    language = _language_code(language)
    body = template.body_en if language == "en" and template.body_en else template.body_zh
    values = script_values(followup, language)
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), body)


def script_for(followup: FollowUp, language: str) -> str:
    """The call script for a follow-up, filled in `language` ("" when the library has none for its kind)."""
    return fill_script(script_template_for(followup), followup, language)


def late_followups(
    *,
    user: User,
    today: date,
    branch_id: int | None = None,
    officer_id: int | None = None,
    product_id: int | None = None,
) -> QuerySet[FollowUp]:
    """The team's late follow-ups, oldest due first: still open (planned, or returned for correction) and due before
    today, in the user's branch scope; of one branch, officer or product (the loan's, or before the loan the
    application's) when given. The dashboard's "late follow-ups" counts the same rows."""
    queryset = followups_for(user).filter(status__in=OPEN_FOLLOWUP_STATUSES, due_on__lt=today)
    if branch_id:
        queryset = queryset.filter(branch_id=branch_id)
    if officer_id:
        queryset = queryset.filter(officer_id=officer_id)
    if product_id:
        queryset = queryset.filter(Q(loan__product_id=product_id) | Q(application__product_id=product_id))
    return queryset.select_related(*LIST_RELATED).order_by("due_on", "pk")


def team_counts(user: User, day) -> list[User]:
    """The officers in the manager's scope with their open follow-up counts: one aggregate query."""
    until = day + timedelta(days=UPCOMING_DAYS)
    planned = Q(followups__status=FollowUpStatus.PLANNED)
    return list(
        scope(holders_of(Role.OFFICER), user)
        .annotate(
            due_today=Count("followups", filter=planned & Q(followups__due_on=day)),
            overdue=Count("followups", filter=planned & Q(followups__due_on__lt=day)),
            next_7_days=Count("followups", filter=planned & Q(followups__due_on__gt=day, followups__due_on__lte=until)),
            returned=Count("followups", filter=Q(followups__status=FollowUpStatus.RETURNED)),
        )
        .select_related("branch")
        .order_by("branch__name", "display_name", "username")
    )


def inquiries_for(user: User) -> QuerySet[Inquiry]:
    """Borrowers' inquiries in the user's branch scope (head office: all)."""
    return scope(Inquiry.objects.all(), user)


def inquiry_replies(inquiry: Inquiry) -> QuerySet[InquiryReply]:
    return (
        InquiryReply.objects.filter(inquiry=inquiry).select_related("author", "template").order_by("created_at", "pk")
    )
