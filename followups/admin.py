"""Follow-ups in the Django admin: the policy, question sets and script library are edited here by administrators;
follow-ups and risk warnings are read-only, because they change only through the services, which enforce the rules
(who may record, review or handle them, and the order of the steps)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    ContactAttempt,
    FollowUp,
    FollowUpAmendment,
    FollowUpKind,
    FollowUpPolicy,
    Question,
    QuestionSet,
    RiskWarning,
    ScriptTemplate,
    WarningAction,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FollowUpPolicy)
class FollowUpPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "first_after_days",
        "second_after_days",
        "pre_maturity_days",
        "quarterly",
        "collision_days",
        "updated_at",
    ]
    list_filter = ["quarterly"]
    list_select_related = ["product"]
    search_fields = ["product__code", "product__name_zh", "product__name_en"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    fields = ["position", "code", "text_zh", "text_en", "answer_type", "choices", "is_required"]


class QuestionSetForm(forms.ModelForm):
    kind = forms.ChoiceField(label=_("follow-up kind"), choices=FollowUpKind.choices)

    class Meta:
        model = QuestionSet
        fields = ["kind", "name_zh", "name_en", "is_active"]


@admin.register(QuestionSet)
class QuestionSetAdmin(admin.ModelAdmin):
    form = QuestionSetForm
    list_display = ["name_zh", "name_en", "kind", "is_active", "updated_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name_zh", "name_en"]
    inlines = [QuestionInline]


class ScriptTemplateForm(forms.ModelForm):
    kind = forms.ChoiceField(
        label=_("follow-up kind"), choices=[("", _("Any kind")), *FollowUpKind.choices], required=False
    )

    class Meta:
        model = ScriptTemplate
        fields = ["category", "kind", "title_zh", "title_en", "body_zh", "body_en", "is_active"]


@admin.register(ScriptTemplate)
class ScriptTemplateAdmin(admin.ModelAdmin):
    form = ScriptTemplateForm
    list_display = ["title_zh", "title_en", "category", "kind", "is_active", "updated_at"]
    list_filter = ["category", "kind", "is_active"]
    search_fields = ["title_zh", "title_en", "body_zh", "body_en"]


class ContactAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = ContactAttempt
    extra = 0
    fields = ["attempted_at", "outcome", "outside_hours", "note", "by"]


class FollowUpAmendmentInline(ReadOnlyMixin, admin.TabularInline):
    model = FollowUpAmendment
    extra = 0
    fields = ["created_at", "by", "text"]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["__str__", "loan", "application", "kind", "sequence", "due_on", "status", "officer", "branch"]
    list_filter = ["status", "kind", "branch", "due_on", "risk_level", "channel"]
    list_select_related = ["loan", "application", "officer", "branch"]
    search_fields = ["loan__number", "application__number", "officer__username"]
    date_hierarchy = "due_on"
    inlines = [ContactAttemptInline, FollowUpAmendmentInline]


class WarningActionInline(ReadOnlyMixin, admin.TabularInline):
    model = WarningAction
    extra = 0
    fields = ["created_at", "kind", "note", "reference", "by"]


@admin.register(RiskWarning)
class RiskWarningAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["loan", "level", "status", "branch", "opened_at", "acknowledge_due_at", "acknowledged_at"]
    list_filter = ["status", "level", "branch"]
    list_select_related = ["loan", "branch"]
    search_fields = ["loan__number"]
    date_hierarchy = "opened_at"
    inlines = [WarningActionInline]
