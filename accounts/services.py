"""Writes that concern users, roles and the audit log."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import AuditEvent, User
from .roles import Role

# Apps whose every model an administrator manages in Django admin.
ADMIN_MANAGED_APPS = (
    "accounts",
    "notifications",
    "applications",
    "postloan",
    "followups",
    "django_celery_beat",
)


def role_permissions_sync(**kwargs) -> None:
    """Create the role groups if missing and grant the admin group every permission of the managed apps. Idempotent."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    admin = Group.objects.get(name=Role.ADMIN)
    admin.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_MANAGED_APPS))


def audit_record(*, actor: User | None, action: str, obj, detail: dict | None = None, ip_address: str | None = None):
    """Write one audit event for a sensitive read or action on `obj`."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        detail=detail or {},
        ip_address=ip_address,
    )


@transaction.atomic
def user_set_language(*, user: User, language: str) -> None:
    """Store the user's language so every later page (and message to them) uses it."""
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
