"""Nudges about follow-ups (issue 6, "Worklists and nudges"): the officers' morning digest and the escalation of
follow-ups left undone for more than three days to the branch managers.

Both are sweeps in the sense of DESIGN.md §2: set-based (one query reads everything due, one bulk insert writes the
messages), idempotent (the outbox keys, and `FollowUp.escalated_at` set with a conditional update, make a second run
write nothing) and safe to miss (the next run catches up: a digest lists everything overdue; a late follow-up stays
late until it is done or escalated).
"""

import itertools
import logging
from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation

from accounts.models import User
from accounts.permissions import holders_of
from accounts.roles import Role
from core.dates import date_text, is_business_day, local_today
from notifications.models import OutboxMessage
from notifications.services import messages_queue

from ..models import OPEN_FOLLOWUP_STATUSES, FollowUp, FollowUpKind

logger = logging.getLogger(__name__)

DIGEST_TEMPLATE = "followup_digest"
LATE_TEMPLATE = "followup_late"
# A follow-up this many days past its due date (and still not done) goes to the branch managers, once.
LATE_DAYS = 3
# A digest lists at most this many follow-ups (overdue first) and counts the rest; the counts are always complete.
DIGEST_MAX_ITEMS = 50
# Long dates as staff read them; Django's Chinese DATE_FORMAT is already 2026年3月16日.


def digest_key(officer_id: int, day: date) -> str:
    return f"followup-digest:{officer_id}:{day.isoformat()}"


def late_key(followup_id: int, manager_id: int) -> str:
    # One message per manager of the branch; `followup-late:<follow-up id>` is the part that makes it once only.
    return f"followup-late:{followup_id}:{manager_id}"


def _long_date(day: date, language: str) -> str:
    return date_text(day, language)


def _subject(followup: FollowUp) -> str:
    """Whose follow-up it is, as the lists show it: the loan (or application) number and the borrower's name."""
    if followup.loan_id:
        return f"{followup.loan.number} {followup.loan.borrower.name}"
    return f"{followup.application.number} {followup.application.borrower.name}"


def _with_subjects(queryset):
    return queryset.select_related("loan__borrower", "application__borrower").defer(
        "loan__borrower__identity_number", "application__borrower__identity_number"
    )


# --- the morning digest -------------------------------------------------------------------------------------------
def digest_due(*, today: date):
    """The open follow-ups due today or earlier of every active officer with an email address whose digest for
    `today` is not in the outbox yet, ordered by officer; one query, the officer and the borrower joined."""
    day = Value(f":{today.isoformat()}")
    key = Concat(Value("followup-digest:"), Cast("officer_id", CharField()), day, output_field=CharField())
    return (
        _with_subjects(
            FollowUp.objects.filter(status__in=OPEN_FOLLOWUP_STATUSES, due_on__lte=today, officer__is_active=True)
            .exclude(officer__email="")
            .annotate(digest_key=key)
            # the anti-join: officers whose digest of the day is already queued get no second one
            .exclude(Exists(OutboxMessage.objects.filter(idempotency_key=OuterRef("digest_key"))))
        )
        .select_related("officer")
        .order_by("officer_id", "due_on", "pk")
    )


def officer_digest_sweep(*, today: date | None = None) -> int:
    """Queue one email per officer listing their follow-ups due today or overdue (key followup-digest:<officer>:<day>);
    return how many were written. Business days only: on a Monday the list includes what fell due at the weekend."""
    today = today or local_today()
    if not is_business_day(today):
        return 0
    messages = []
    for _officer_id, rows in itertools.groupby(digest_due(today=today), key=lambda row: row.officer_id):
        followups = list(rows)
        messages.append(_digest_message(followups[0].officer, followups, today))
    return messages_queue(messages)


def _digest_message(officer: User, followups: list[FollowUp], today: date) -> dict:
    language = officer.preferred_language
    overdue = [item for item in followups if item.due_on < today]
    items = []
    with translation.override(language):
        for followup in followups[:DIGEST_MAX_ITEMS]:
            items.append(
                {
                    "due_on": _long_date(followup.due_on, language),
                    "kind": str(FollowUpKind(followup.kind).label),
                    "subject": _subject(followup),
                    "overdue": followup.due_on < today,
                    "days_late": (today - followup.due_on).days,
                }
            )
    return {
        "key": digest_key(officer.pk, today),
        "channel": OutboxMessage.Channel.EMAIL,
        "template": DIGEST_TEMPLATE,
        "to_address": officer.email,
        "context": {
            "name": str(officer),
            "date": _long_date(today, language),
            "overdue_count": len(overdue),
            "due_count": len(followups) - len(overdue),
            "total": len(followups),
            "items": items,
            "more": max(len(followups) - DIGEST_MAX_ITEMS, 0),
        },
        "language": language,
        "audience": OutboxMessage.Audience.STAFF,
        "recipient": officer,
    }


# --- escalation of late follow-ups --------------------------------------------------------------------------------
def late_escalation_sweep(*, today: date | None = None) -> int:
    """Tell the branch managers, once, about each follow-up still open more than three days after its due date; set
    `escalated_at`, and return how many follow-ups were escalated. A branch without a manager with an email address
    is skipped (and logged) so that its follow-ups are escalated once someone can be told."""
    today = today or local_today()
    cutoff = today - timedelta(days=LATE_DAYS)
    with transaction.atomic():
        # Rows another sweep holds are skipped: that sweep escalates them; the conditional update below is the last
        # word either way.
        late = list(
            _with_subjects(
                FollowUp.objects.filter(
                    status__in=OPEN_FOLLOWUP_STATUSES, due_on__lt=cutoff, escalated_at__isnull=True
                ).select_for_update(skip_locked=True, of=("self",))
            )
            .select_related("officer")
            .order_by("pk")
        )
        if not late:
            return 0
        managers = defaultdict(list)
        for manager in (
            holders_of(Role.MANAGER)
            .filter(branch_id__in={item.branch_id for item in late})
            .exclude(email="")
            .distinct()
            .order_by("pk")
        ):
            managers[manager.branch_id].append(manager)
        unmanned = {item.branch_id for item in late} - set(managers)
        if unmanned:
            logger.warning("Late follow-ups of branch(es) %s wait: no manager with an email address", sorted(unmanned))
        late = [item for item in late if item.branch_id in managers]
        now = timezone.now()
        escalated = FollowUp.objects.filter(pk__in=[item.pk for item in late], escalated_at__isnull=True).update(
            escalated_at=now, updated_at=now
        )
        messages_queue(
            _late_message(manager, followup, today) for followup in late for manager in managers[followup.branch_id]
        )
    return escalated


def _late_message(manager: User, followup: FollowUp, today: date) -> dict:
    language = manager.preferred_language
    with translation.override(language):
        kind = str(FollowUpKind(followup.kind).label)
    return {
        "key": late_key(followup.pk, manager.pk),
        "channel": OutboxMessage.Channel.EMAIL,
        "template": LATE_TEMPLATE,
        "to_address": manager.email,
        "context": {
            "name": str(manager),
            "days": LATE_DAYS,
            "kind": kind,
            "subject": _subject(followup),
            "due_on": _long_date(followup.due_on, language),
            "days_late": (today - followup.due_on).days,
            "officer": str(followup.officer),
        },
        "language": language,
        "audience": OutboxMessage.Audience.STAFF,
        "recipient": manager,
    }
