"""Repayment reminders (DESIGN.md §6): SMS, and email where the borrower gave an address, before, on and after the
due date of each unpaid installment of the schedule in force.

`reminders_sweep` is set-based: one query finds the installments whose reminder for today is not in the outbox yet,
one bulk insert writes them. Each installment has at most one current reminder on a given day (see
`reminder_windows`), so a sweep that missed days catches up with the latest reminder only, never with a backlog.
`reminder_cancel_reason` is registered in settings.NOTIFY_CANCEL_CHECKS: the outbox asks it just before sending, so a
reminder queued for the morning is cancelled if the installment was paid overnight.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Case, CharField, Exists, F, IntegerField, OuterRef, Value, When
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from core.dates import date_text, local_today
from core.money import format_yuan
from notifications.models import OutboxMessage
from notifications.services import messages_queue

from .models import OPEN_LOAN_STATUSES, Installment, InstallmentStatus

TEMPLATE = "repayment_reminder"
BEFORE, DUE, OVERDUE = "before", "due", "overdue"
# Long dates as borrowers read them. Django's Chinese DATE_FORMAT is already 2026年3月15日; its English one
# ("Mar. 15, 2026") gives way to 15 March 2026.

Channel = OutboxMessage.Channel


def reminder_offsets() -> tuple[int, ...]:
    """The configured offsets in days from the due date (negative: before it), sorted, each once."""
    return tuple(sorted({int(offset) for offset in settings.REPAYMENT_REMINDER_OFFSETS}))


def reminder_windows(offsets: tuple[int, ...] | None = None) -> list[tuple[int, int, int]]:
    """(offset, first day, last day), days counted from the due date: on those days `offset` is the reminder to send.

    A reminder stays current until the next offset's day, so a missed run is caught up, but a pre-due one never on
    or after the due date, the on-due one only on that day, and the last post-due one for one more day only: a sweep
    that was down for weeks sends nothing stale and at most one message per installment.
    """
    offsets = reminder_offsets() if offsets is None else offsets
    windows = []
    for index, offset in enumerate(offsets):
        last = offsets[index + 1] - 1 if index + 1 < len(offsets) else offset + 1
        if offset < 0:
            last = min(last, -1)
        elif offset == 0:
            last = 0
        windows.append((offset, offset, last))
    return windows


def reminder_offset_for(days_from_due: int) -> int | None:
    """The reminder that is current `days_from_due` days after the due date (negative: before it), if any."""
    for offset, first, last in reminder_windows():
        if first <= days_from_due <= last:
            return offset
    return None


def reminder_key(installment_id: int, offset: int, channel: str = Channel.SMS) -> str:
    """The outbox idempotency key: reminder:<installment id>:<offset>, with the channel appended for email."""
    key = f"reminder:{installment_id}:{offset}"
    return key if channel == Channel.SMS else f"{key}:{channel}"


def reminders_due(*, today: date | None = None):
    """The unpaid installments of open loans whose current reminder is not in the outbox yet, each annotated with
    `reminder_offset`; one query, with the loan, borrower and officer joined."""
    today = today or local_today()
    windows = reminder_windows()
    if not windows:
        return Installment.objects.none()
    offset_now = Case(
        *[
            When(due_date__range=(today - timedelta(days=last), today - timedelta(days=first)), then=Value(offset))
            for offset, first, last in windows
        ],
        default=None,
        output_field=IntegerField(),
    )
    sms_key = Concat(
        Value("reminder:"),
        Cast("pk", CharField()),
        Value(":"),
        Cast("reminder_offset", CharField()),
        output_field=CharField(),
    )
    return (
        Installment.objects.filter(
            loan__status__in=OPEN_LOAN_STATUSES,
            version__version=F("loan__current_version"),
            due_date__range=(today - timedelta(days=windows[-1][2]), today - timedelta(days=windows[0][1])),
        )
        .exclude(status=InstallmentStatus.PAID)
        .annotate(reminder_offset=offset_now)
        .filter(reminder_offset__isnull=False)
        .annotate(reminder_key=sms_key)
        # the anti-join: reminders already queued (or sent, or cancelled) are not written again
        .exclude(Exists(OutboxMessage.objects.filter(idempotency_key=OuterRef("reminder_key"))))
        .select_related("loan__borrower__user", "loan__officer", "loan__contract__disbursement")
        # encrypted personal data the messages do not show: not loaded, so not decrypted row by row
        .defer("loan__borrower__identity_number", "loan__contract__disbursement__account_number")
        .order_by("due_date", "pk")
    )


def reminders_sweep(*, today: date | None = None) -> int:
    """Queue today's repayment reminders that are not in the outbox yet; return how many messages were written.

    Safe to run every hour and to miss days: see `reminder_windows`.
    """
    messages = []
    for installment in reminders_due(today=today):
        messages.extend(_reminder_messages(installment, installment.reminder_offset))
    return messages_queue(messages)


def _reminder_messages(installment: Installment, offset: int) -> list[dict]:
    borrower = installment.loan.borrower
    language = borrower.message_language
    common = {
        "template": TEMPLATE,
        "context": reminder_context(installment, offset, language),
        "language": language,
        "audience": OutboxMessage.Audience.BORROWER,
        "recipient": borrower.user,
    }
    messages = [{"key": reminder_key(installment.pk, offset), "channel": Channel.SMS, "to_address": borrower.mobile}]
    if borrower.email:
        messages.append(
            {
                "key": reminder_key(installment.pk, offset, Channel.EMAIL),
                "channel": Channel.EMAIL,
                "to_address": borrower.email,
            }
        )
    return [common | message for message in messages]


def reminder_context(installment: Installment, offset: int, language: str) -> dict:
    """What the repayment_reminder templates show, with amounts and dates already written out in `language`."""
    loan = installment.loan
    officer = loan.officer
    disbursement = getattr(loan.contract, "disbursement", None)
    return {
        "installment_id": installment.pk,
        "offset": offset,
        "phase": BEFORE if offset < 0 else DUE if offset == 0 else OVERDUE,
        "name": loan.borrower.name,
        "number": loan.number,
        "installment": installment.number,
        "amount": format_yuan(installment.outstanding),
        "due_date": due_date_text(installment.due_date, language),
        "officer": " ".join(part for part in (str(officer), officer.phone) if part),
        # The repayment account is the one the loan was paid into (the contract's designated account).
        "bank": disbursement.bank_name if disbursement else "",
        "account": disbursement.account_masked if disbursement else "",
    }


def due_date_text(day: date, language: str) -> str:
    """A due date as a borrower reads it: 2026年3月15日, or 15 March 2026 in English."""
    return date_text(day, language)


def reminder_cancel_reason(message: OutboxMessage) -> str:
    """Why a queued reminder must not go out now (paid, loan closed, schedule replaced, out of date); "" to send it."""
    installment = (
        Installment.objects.select_related("loan__borrower", "version")
        .filter(pk=message.context.get("installment_id"))
        .first()
    )
    if installment is None:
        return _("The installment no longer exists.")
    loan = installment.loan
    names = {"number": installment.number, "loan": loan.number}
    # The borrower's consent on the portal is read when the message goes, so a change applies to queued ones too.
    if message.channel == Channel.SMS and not loan.borrower.sms_reminders:
        return _("The borrower has turned off repayment reminders by SMS.")
    if message.channel == Channel.EMAIL and not loan.borrower.email_reminders:
        return _("The borrower has turned off repayment reminders by email.")
    if installment.status == InstallmentStatus.PAID:
        return _("Installment %(number)s of loan %(loan)s has been paid.") % names
    if not loan.is_open:
        return _("Loan %(loan)s is no longer open.") % names
    if installment.version.version != loan.current_version:
        return _("Installment %(number)s of loan %(loan)s was replaced by a new schedule.") % names
    if reminder_offset_for((local_today() - installment.due_date).days) != message.context.get("offset"):
        return _("The reminder for installment %(number)s of loan %(loan)s is out of date.") % names
    return ""
