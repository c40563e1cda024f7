from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-mostly: messages are written by services; the outbox page retries failed ones."""

    list_display = ("created_at", "channel", "audience", "to_address", "template", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "audience")
    search_fields = ("to_address", "idempotency_key")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient",)
    readonly_fields = (
        "idempotency_key",
        "channel",
        "audience",
        "recipient",
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
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        # A message without the change that caused it has no idempotency key to protect it from double sending.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
