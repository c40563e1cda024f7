"""Reads of the outbox for the staff pages."""

from django.db.models import Count, Q, QuerySet

from .models import OutboxMessage


def outbox_list(*, status: str | None = None, channel: str | None = None, query: str = "") -> QuerySet[OutboxMessage]:
    """Outbox messages, newest first, optionally by status, channel and a search in address, key or template."""
    messages = OutboxMessage.objects.select_related("recipient").order_by("-created_at", "-pk")
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    query = query.strip()
    if query:
        messages = messages.filter(
            Q(to_address__icontains=query) | Q(idempotency_key__icontains=query) | Q(template__icontains=query)
        )
    return messages


def outbox_counts() -> dict[str, int]:
    """The number of messages in each status (every status present, zero included), in one query."""
    return OutboxMessage.objects.aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in OutboxMessage.Status.values}
    )
