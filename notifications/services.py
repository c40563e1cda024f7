"""Queue and send outbox messages (DESIGN.md section 6).

A message is a row first: `message_queue` writes it in the caller's transaction and enqueues the send after commit;
`message_send` claims the row with a conditional update so that, however many workers and sweeps race, each message
is sent at most once per claim; `outbox_sweep` is the safety net that sends whatever is still due. A message whose
template has a cancel check (settings.NOTIFY_CANCEL_CHECKS) and is no longer wanted when its turn comes is cancelled.
"""

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.context import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from core.dates import SHANGHAI, next_local_time
from core.queue import enqueue_on_commit

from .models import OutboxMessage
from .sms import get_sms_backend

logger = logging.getLogger(__name__)

TEST_TEMPLATE = "test_message"
# A worker that has held a message this long without finishing it has died; the sweep takes the message back.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Wait before the next try, by the number of attempts made so far; the last value repeats.
RETRY_BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(minutes=120),
    timedelta(minutes=360),
)
MAX_ERROR_LENGTH = 1000
# Rows per INSERT in messages_queue (and per read-back of their ids).
BULK_BATCH_SIZE = 500
# A sweep stops claiming new messages after this long, well inside the Celery soft time limit; the next run goes on.
SWEEP_TIME_BUDGET_SECONDS = 180

Status = OutboxMessage.Status


def _in_quiet_hours(at: datetime) -> bool:
    """Whether `at` falls in the borrowers' quiet hours (Asia/Shanghai), e.g. 21:00 to 08:00."""
    start, end = settings.NOTIFY_QUIET_START_HOUR, settings.NOTIFY_QUIET_END_HOUR
    hour = at.astimezone(SHANGHAI).hour
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # the quiet hours span midnight


def _earliest_send_time(audience: str, at: datetime) -> datetime:
    """`at`, or for a borrower in quiet hours the next morning when they end."""
    if audience == OutboxMessage.Audience.BORROWER and _in_quiet_hours(at):
        return next_local_time(at, hour=settings.NOTIFY_QUIET_END_HOUR)
    return at


def _cancel_reason(message: OutboxMessage) -> str:
    """Why the message is no longer wanted, from the check registered for its template; empty when it still is.

    settings.NOTIFY_CANCEL_CHECKS maps a template name to the dotted path of a callable taking the message and
    returning a reason (or ""). The app that queues the message owns the rule, so this app imports none of them.
    """
    path = getattr(settings, "NOTIFY_CANCEL_CHECKS", {}).get(message.template)
    return str(import_string(path)(message) or "") if path else ""


def _retry_delay(attempts: int) -> timedelta:
    return RETRY_BACKOFF[min(max(attempts, 1), len(RETRY_BACKOFF)) - 1]


def _render(template_name: str, context: dict) -> str:
    # Plain-text messages: no HTML escaping ("&" must stay "&" in an SMS).
    return get_template(template_name).template.render(Context(context, autoescape=False)).strip()


def _render_message(message: OutboxMessage) -> tuple[str, str]:
    """The (subject, text) of a message in its own language; subject is empty for SMS."""
    base = f"notifications/{message.template}"
    with translation.override(message.language):
        if message.channel == OutboxMessage.Channel.SMS:
            return "", f"{settings.SMS_SIGNATURE}{_render(f'{base}/sms.txt', message.context)}"
        # A header must be one line.
        subject = " ".join(_render(f"{base}/subject.txt", message.context).split())
        return subject, _render(f"{base}/body.txt", message.context)


def _deliver(message: OutboxMessage, subject: str, text: str) -> None:
    if message.channel == OutboxMessage.Channel.SMS:
        get_sms_backend().send(message.to_address, text)
    else:
        EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [message.to_address]).send(fail_silently=False)


def message_queue(
    *,
    key: str,
    channel: str,
    template: str,
    to_address: str,
    context: dict | None = None,
    language: str = "zh-hans",
    audience: str = OutboxMessage.Audience.BORROWER,
    recipient=None,
) -> OutboxMessage:
    """Write an outbox row for `key` (once: a repeated key returns the existing row) and send it after commit."""
    if channel not in OutboxMessage.Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    if audience not in OutboxMessage.Audience.values:
        raise ValueError(f"Unknown audience {audience!r}")
    now = timezone.now()
    with transaction.atomic():
        # get_or_create inserts in a savepoint and, when a concurrent caller won the unique key (IntegrityError),
        # reads that caller's row instead: two callers with one key always end with one row and one send.
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "channel": channel,
                "audience": audience,
                "template": template,
                "to_address": to_address,
                "context": context or {},
                "language": language,
                "recipient": recipient,
                "next_attempt_at": _earliest_send_time(audience, now),
            },
        )
        if created and message.next_attempt_at <= now:
            # Imported here: tasks.py imports this module.
            from .tasks import send_message_task

            enqueue_on_commit(send_message_task, message.pk)
    return message


def messages_queue(messages: Iterable[dict]) -> int:
    """Write many outbox rows in a fixed number of queries and send the due ones after commit; return how many
    were written. Each item takes `message_queue`'s arguments; an item whose key is already in the outbox is left
    out, as `message_queue` would return the existing row."""
    now = timezone.now()
    rows = []
    for item in messages:
        channel, audience = item["channel"], item.get("audience", OutboxMessage.Audience.BORROWER)
        if channel not in OutboxMessage.Channel.values:
            raise ValueError(f"Unknown channel {channel!r}")
        if audience not in OutboxMessage.Audience.values:
            raise ValueError(f"Unknown audience {audience!r}")
        rows.append(
            OutboxMessage(
                idempotency_key=item["key"],
                channel=channel,
                audience=audience,
                template=item["template"],
                to_address=item["to_address"],
                context=item.get("context") or {},
                language=item.get("language", "zh-hans"),
                recipient=item.get("recipient"),
                next_attempt_at=_earliest_send_time(audience, now),
            )
        )
    if not rows:
        return 0
    from .tasks import send_message_task

    written = 0
    with transaction.atomic():
        for start in range(0, len(rows), BULK_BATCH_SIZE):
            batch = rows[start : start + BULK_BATCH_SIZE]
            # ON CONFLICT DO NOTHING: a key written meanwhile by someone else keeps that row and its one send.
            OutboxMessage.objects.bulk_create(batch, ignore_conflicts=True)
            # Rows older than this call were there before it. A concurrent caller's row with the same key may be
            # counted and enqueued twice; it is still sent once, as message_send claims it.
            mine = OutboxMessage.objects.filter(
                idempotency_key__in=[row.idempotency_key for row in batch], created_at__gte=now
            ).values_list("pk", "next_attempt_at")
            for message_id, next_attempt_at in mine:
                written += 1
                if next_attempt_at <= now:
                    enqueue_on_commit(send_message_task, message_id)
    return written


def _message_send(*, message_id: int, now: datetime | None = None) -> tuple[OutboxMessage | None, bool]:
    """Claim and send one message; return (the row as it is afterwards, whether this call sent it).

    `now` decides what is due (the sweep passes its own); the claim is always stamped with the real time so that a
    long sweep's later claims are not mistaken for lost ones.
    """
    claimed_at = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=Status.PENDING, next_attempt_at__lte=now or claimed_at
    ).update(status=Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
    if not claimed:
        # Another worker has it, it was already sent or given up, or it is not due yet.
        return OutboxMessage.objects.filter(pk=message_id).first(), False
    message = OutboxMessage.objects.get(pk=message_id)
    mine = OutboxMessage.objects.filter(pk=message_id, status=Status.SENDING, claimed_at=claimed_at)

    if message.audience == OutboxMessage.Audience.BORROWER and _in_quiet_hours(claimed_at):
        # Queued in the daytime but reached only now (a backlog, a retry): wait for the morning; not an attempt.
        mine.update(
            status=Status.PENDING,
            claimed_at=None,
            attempts=F("attempts") - 1,
            next_attempt_at=next_local_time(claimed_at, hour=settings.NOTIFY_QUIET_END_HOUR),
        )
        message.refresh_from_db()
        return message, False

    try:
        reason = _cancel_reason(message)
        if not reason:
            subject, text = _render_message(message)
            _deliver(message, subject, text)
    except Exception as exc:  # any failure to check, render or deliver is recorded on the row and retried
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
        logger.warning("Outbox message %s attempt %s failed: %s", message.pk, message.attempts, error)
        if message.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            mine.update(status=Status.FAILED, claimed_at=None, last_error=error)
        else:
            retry_at = _earliest_send_time(message.audience, claimed_at + _retry_delay(message.attempts))
            mine.update(status=Status.PENDING, claimed_at=None, last_error=error, next_attempt_at=retry_at)
        message.refresh_from_db()
        return message, False

    if reason:
        # Overtaken by events (the installment was paid): never sent, and not counted as an attempt.
        mine.update(
            status=Status.CANCELLED, claimed_at=None, attempts=F("attempts") - 1, last_error=reason[:MAX_ERROR_LENGTH]
        )
        message.refresh_from_db()
        return message, False

    sent_at = timezone.now()
    updated = mine.update(
        status=Status.SENT, claimed_at=None, sent_at=sent_at, subject=subject[:255], body=text, last_error=""
    )
    if not updated:
        # The sweep judged this claim lost and another worker may send it again; make that visible in the log.
        logger.error("Outbox message %s was sent but its claim had been taken back", message.pk)
    message.refresh_from_db()
    return message, True


def message_send(*, message_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Send one due message if this caller wins its claim; otherwise leave it alone. Returns the row (None if gone)."""
    message, _sent = _message_send(message_id=message_id, now=now)
    return message


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Take back claims lost by crashed workers, then send due messages oldest first; return how many were sent."""
    now = now or timezone.now()
    recovered = OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        status=Status.PENDING, claimed_at=None
    )
    if recovered:
        logger.warning("Outbox sweep took back %s message(s) from crashed workers", recovered)
    due_ids = list(
        OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    started = time.monotonic()
    for message_id in due_ids:
        if time.monotonic() - started > SWEEP_TIME_BUDGET_SECONDS:
            logger.warning("Outbox sweep stopped after %s s; the next run sends the rest", SWEEP_TIME_BUDGET_SECONDS)
            break
        try:
            _message, was_sent = _message_send(message_id=message_id, now=now)
        except Exception:
            # One bad row must not stop the rest; it stays due and the next sweep tries again.
            logger.exception("Outbox sweep could not send message %s", message_id)
            continue
        sent += was_sent
    return sent


def message_retry(*, message_id: int) -> bool:
    """Give a failed message a fresh set of attempts and send it after commit; False if it was not failed."""
    with transaction.atomic():
        message = OutboxMessage.objects.filter(pk=message_id).first()
        if message is None:
            return False
        now = timezone.now()
        next_attempt_at = _earliest_send_time(message.audience, now)
        updated = OutboxMessage.objects.filter(pk=message_id, status=Status.FAILED).update(
            status=Status.PENDING, attempts=0, claimed_at=None, next_attempt_at=next_attempt_at
        )
        if updated and next_attempt_at <= now:
            from .tasks import send_message_task

            enqueue_on_commit(send_message_task, message_id)
    return bool(updated)


def message_send_test(*, by, channel: str, to_address: str) -> OutboxMessage:
    """Queue a test message from an administrator to check the email or SMS configuration."""
    return message_queue(
        key=f"test:{uuid.uuid4()}",
        channel=channel,
        template=TEST_TEMPLATE,
        to_address=to_address,
        context={"name": str(by)},
        language=getattr(by, "preferred_language", "") or settings.LANGUAGE_CODE,
        audience=OutboxMessage.Audience.STAFF,
        recipient=by,
    )
