"""Forms of the staff's inquiry pages (咨询): the inbox's filters, the reply form with the reply library, and the
manager's reassignment.

The forms check the shape of the input only; who may reply or reassign, and the reply's length, stay in
followups.services.inquiries, whose ValidationErrors land back on these forms through `apply_service_errors`.
"""

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, User
from accounts.permissions import scope, sees_all_branches
from applications.models import Product
from core.dates import SHANGHAI

from .models import Inquiry, InquiryCategory, InquiryStatus, ReplyTemplate
from .services.inquiries import MAX_REPLY, REPLIER_ROLES


def repliers(queryset: QuerySet[User]) -> QuerySet[User]:
    """Active officers, risk officers and managers among `queryset`, by name."""
    return (
        queryset.filter(is_active=True, groups__name__in=REPLIER_ROLES).distinct().order_by("display_name", "username")
    )


def branch_repliers(branch_id: int) -> QuerySet[User]:
    """Who may be handed an inquiry of a branch."""
    return repliers(User.objects.filter(branch_id=branch_id))


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def start_of_day(day: date) -> datetime:
    """The first moment of a calendar day in Asia/Shanghai (aware)."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def late_q(now) -> Q:
    """Late (the model's `is_breached`, in SQL): still open after the promised time, or answered after it."""
    return Q(status=InquiryStatus.OPEN, due_at__lt=now) | Q(answered_at__gt=F("due_at"))


# --- the inbox ----------------------------------------------------------------------------------------------------
class InquiryFilterForm(forms.Form):
    """The inbox's filters; with none, the open inquiries of the branch (or of every branch for head office)."""

    SHOW_OPEN, SHOW_ANSWERED, SHOW_ALL = "open", "answered", "all"

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (SHOW_OPEN, _("Waiting for a reply")),
            (SHOW_ANSWERED, _("Answered")),
            (SHOW_ALL, _("All")),
        ],
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *InquiryCategory.choices]
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        required=False,
        queryset=Product.objects.none(),
        empty_label=_("All products"),
        help_text=_("Of the application or loan the question is about."),
    )
    asked_from = forms.DateField(label=_("Asked from"), required=False, widget=_date_input())
    asked_to = forms.DateField(label=_("Asked to"), required=False, widget=_date_input())
    late = forms.BooleanField(
        label=_("Late only"),
        required=False,
        help_text=_("Still waiting after the promised time, or answered after it."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        if sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.order_by("-is_head_office", "code")
        else:
            del self.fields["branch"]
        self.fields["assignee"].queryset = repliers(scope(User.objects.all(), user))
        self.fields["product"].queryset = Product.objects.order_by("code")

    def apply(self, queryset: QuerySet[Inquiry], *, now=None) -> QuerySet[Inquiry]:
        """The inquiries the filters keep; invalid input counts as no filter."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or self.SHOW_OPEN
        if status == self.SHOW_OPEN:
            queryset = queryset.filter(status=InquiryStatus.OPEN)
        elif status == self.SHOW_ANSWERED:
            queryset = queryset.filter(status=InquiryStatus.ANSWERED)
        if data.get("category"):
            queryset = queryset.filter(category=data["category"])
        if data.get("branch"):
            queryset = queryset.filter(branch=data["branch"])
        if data.get("assignee"):
            queryset = queryset.filter(assignee=data["assignee"])
        if data.get("product"):
            product = data["product"]
            about = Q(application__product=product) | Q(loan__product=product)
            queryset = queryset.filter(about)
        # Asked on these days in Asia/Shanghai, both included (the dashboard's period).
        if data.get("asked_from"):
            queryset = queryset.filter(created_at__gte=start_of_day(data["asked_from"]))
        if data.get("asked_to"):
            queryset = queryset.filter(created_at__lt=start_of_day(data["asked_to"] + timedelta(days=1)))
        if data.get("late"):
            queryset = queryset.filter(late_q(now or timezone.now()))
        return queryset

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(value for name, value in data.items() if name != "status") or data.get("status", "") not in (
            "",
            self.SHOW_OPEN,
        )


# --- the reply ----------------------------------------------------------------------------------------------------
class TemplateChoiceField(forms.ModelChoiceField):
    """A reply from the library, titled in the language of the page."""

    def label_from_instance(self, obj: ReplyTemplate) -> str:
        language = "en" if (translation.get_language() or "").startswith("en") else "zh-hans"
        return obj.title_in(language)


def library_for(inquiry: Inquiry) -> QuerySet[ReplyTemplate]:
    """The active replies of the library, those of the inquiry's category first, then the rest."""
    return (
        ReplyTemplate.objects.filter(is_active=True)
        .annotate(
            other_category=Case(
                When(category=inquiry.category, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("other_category", "category", "code")
    )


class ReplyForm(forms.Form):
    """The reply: free text, optionally started from the library ("Use this reply" fills the text in the borrower's
    language). `replies_seen` is how many replies the page showed: a second click on "Send", or a colleague's reply
    in the meantime, changes the count, and the view then sends nothing."""

    template = TemplateChoiceField(
        label=_("From the reply library"),
        required=False,
        queryset=ReplyTemplate.objects.none(),
        empty_label=_("— choose a reply —"),
    )
    text = forms.CharField(
        label=_("Your reply"),
        required=False,
        max_length=MAX_REPLY,
        widget=forms.Textarea(attrs={"rows": 6, "data-testid": "reply-text"}),
        help_text=_("The borrower reads it on the portal and gets an SMS that you replied."),
    )
    replies_seen = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, inquiry: Inquiry, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = library_for(inquiry)
        self.fields["template"].widget.attrs["data-testid"] = "reply-template"


class InquiryReassignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Hand it to"), queryset=User.objects.none(), empty_label=_("— choose a colleague —")
    )

    def __init__(self, *args, inquiry: Inquiry, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = branch_repliers(inquiry.branch_id).exclude(pk=inquiry.assignee_id)
