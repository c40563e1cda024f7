from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import AuditEvent, Branch, User


@admin.register(Branch)
class BranchAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "name_en", "is_head_office", "is_active"]
    list_filter = ["is_head_office", "is_active"]
    search_fields = ["code", "name", "name_en"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "display_name", "branch", "phone", "is_active", "last_login"]
    list_filter = ["branch", "groups", "is_active", "is_staff"]
    list_select_related = ["branch"]
    search_fields = ["username", "display_name", "phone", "email"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("LoanTrack"), {"fields": ["display_name", "phone", "branch", "preferred_language", "approval_limit"]}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("LoanTrack"), {"fields": ["display_name", "phone", "branch", "groups"]}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is evidence and must not be edited."""

    list_display = ["created_at", "actor", "action", "object_type", "object_id", "ip_address"]
    list_filter = ["action", "object_type"]
    list_select_related = ["actor"]
    search_fields = ["object_id", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
