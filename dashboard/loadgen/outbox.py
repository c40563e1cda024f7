"""The outbox's recent repayment reminders (postloan.reminders): for every installment of an open loan, the reminder
of each offset (7, 3, 1 days before, on the day, 1, 3, 7 days after) that fell due in the last RETENTION_DAYS days
while it was unpaid, by SMS and, where the borrower gave an address, by email; sent at 08:00 when quiet hours ended,
or still waiting if that is later than now. Older messages are taken to have been archived: an outbox keeps weeks,
not years, and a full history would be seven messages per installment.

Texts are the real templates rendered once per language, channel and phase with placeholders in the values, then
filled per message: the same text notifications.services would have sent, at a fraction of the cost.
"""

import random

from django.conf import settings

from core.dates import date_text
from core.money import format_yuan
from notifications.models import OutboxMessage
from notifications.services import _render_message
from postloan.reminders import BEFORE, DUE, OVERDUE, TEMPLATE, reminder_key, reminder_windows

from .copy import NULL, CopyWriter, Days, at, jsonb, money, text, to_date
from .loans import LoanFacts

RETENTION_DAYS = 14
HOUR = 3600
OUTBOX_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "idempotency_key",
    "channel",
    "audience",
    "recipient_id",
    "to_address",
    "template",
    "context",
    "language",
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "sent_at",
    "claimed_at",
    "subject",
    "body",
)
_FIELDS = ("name", "number", "installment", "amount", "due_date", "officer", "bank", "account")


def _mark(name: str) -> str:
    return f"\x01{name}\x01"


class ReminderTexts:
    """(subject, body) of a reminder, from the templates rendered with markers in place of the values."""

    def __init__(self):
        self._skeletons: dict[tuple, tuple[str, str]] = {}
        self._dates: dict[tuple[int, str], str] = {}

    def due_date(self, day: int, language: str) -> str:
        key = (day, language)
        found = self._dates.get(key)
        if found is None:
            found = self._dates[key] = date_text(to_date(day), language)
        return found

    def render(self, *, language: str, channel: str, phase: str, values: dict) -> tuple[str, str]:
        key = (language, channel, phase, bool(values["account"]))
        skeleton = self._skeletons.get(key)
        if skeleton is None:
            context = {name: _mark(name) for name in _FIELDS} | {"phase": phase}
            if not values["account"]:
                context["account"] = ""
            message = OutboxMessage(template=TEMPLATE, language=language, channel=channel, context=context)
            skeleton = self._skeletons[key] = _render_message(message)
        subject, body = skeleton
        for name in _FIELDS:
            marker = _mark(name)
            value = str(values[name])
            subject = subject.replace(marker, value)
            body = body.replace(marker, value)
        return subject, body


class Outbox:
    def __init__(self, writer: CopyWriter, days: Days, *, today: int, now: int):
        self.days = days
        self.today = today
        self.now = now
        self.messages = writer.table(OutboxMessage, OUTBOX_COLUMNS)
        self.texts = ReminderTexts()
        self.windows = reminder_windows()
        self.quiet_end = settings.NOTIFY_QUIET_END_HOUR * HOUR

    def reminders(self, rng: random.Random, facts: LoanFacts) -> None:
        outcome = facts.outcome
        first_day = self.today - RETENTION_DAYS + 1
        paid_off = outcome.paid_off_on
        if paid_off is not None and paid_off < first_day:
            return
        # The installments of the version in force, and those of a replaced one that were paid before it was.
        candidates = [
            inst
            for inst in outcome.all_insts
            if (inst.version == outcome.insts[0].version or inst.paid_on is not None)
            and inst.due + self.windows[0][1] <= self.today
            and inst.due + self.windows[-1][1] >= first_day
            and (inst.paid_on is None or inst.paid_on >= first_day)
        ]
        if not candidates:
            return
        officer = " ".join(part for part in (facts.officer.name, facts.officer.phone) if part)
        for inst in candidates:
            installment_id = facts.installment_ids[inst.key]
            for offset, first, _last in self.windows:
                day = inst.due + first
                if not first_day <= day <= self.today or day <= facts.disbursed_on:
                    continue
                if inst.paid_on is not None and inst.paid_on < day:
                    continue
                if paid_off is not None and paid_off < day:
                    continue
                self._queue(rng, facts, inst, installment_id, offset, day, officer)

    def _owed_at_start_of(self, facts: LoanFacts, inst, day: int) -> int:
        """What the installment owed when the reminder was queued (00:05, before that day's sweep and payments)."""
        penalty = sum(
            amount for key, accrued, _p, amount in facts.outcome.accruals if key == inst.key and accrued < day
        )
        paid = sum(
            pay.penalty + pay.interest + pay.principal
            for pay in facts.outcome.pays
            if pay.inst == inst.key and pay.day < day
        )
        return inst.principal + inst.interest + penalty - paid

    def _queue(self, rng, facts: LoanFacts, inst, installment_id: int, offset: int, day: int, officer: str) -> None:
        days, language = self.days, facts.borrower_language
        phase = BEFORE if offset < 0 else DUE if offset == 0 else OVERDUE
        values = {
            "name": facts.borrower_name,
            "number": facts.number,
            "installment": inst.index + 1,
            "amount": format_yuan(money(self._owed_at_start_of(facts, inst, day))),
            "due_date": self.texts.due_date(inst.due, language),
            "officer": officer,
            "bank": facts.bank,
            "account": facts.account_masked,
        }
        context = {"installment_id": installment_id, "offset": offset, "phase": phase} | values
        queued = at(day, 5 * 60 + rng.randrange(0, 120))
        send_at = at(day, self.quiet_end)
        sent_at = send_at + rng.randrange(5, 600)
        recipient = NULL if facts.borrower_user_id is None else facts.borrower_user_id
        addresses = [(OutboxMessage.Channel.SMS, facts.borrower_mobile)]
        if facts.borrower_email:
            addresses.append((OutboxMessage.Channel.EMAIL, facts.borrower_email))
        for channel, address in addresses:
            if sent_at <= self.now:
                subject, body = self.texts.render(language=language, channel=channel, phase=phase, values=values)
                state = (
                    f"sent\t1\t\t{days.moment(send_at)}\t{days.moment(sent_at)}\t{NULL}\t{text(subject)}\t{text(body)}"
                )
                updated = sent_at
            else:
                state = f"pending\t0\t\t{days.moment(send_at)}\t{NULL}\t{NULL}\t\t"
                updated = queued
            self.messages.add(
                f"{self.messages.new_id()}\t{days.moment(queued)}\t{days.moment(updated)}\t"
                f"{reminder_key(installment_id, offset, channel)}\t{channel}\tborrower\t{recipient}\t{address}\t"
                f"{TEMPLATE}\t{jsonb(context)}\t{language}\t{state}\n"
            )
