"""Forms of the officer's follow-up pages: input checks only; who may do what, and when, stays in the services."""

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, User
from accounts.permissions import holders_of, scope, sees_all_branches
from accounts.roles import Role
from applications.forms import apply_service_errors
from applications.models import Product

from .models import ContactAttempt, FollowUp, Question, QuestionSet
from .models.followups import Channel, RepaymentAbility, RiskLevel, RiskSignal, Subject, Willingness
from .services import answer_field

__all__ = [
    "AmendmentForm",
    "AttemptForm",
    "PhotoForm",
    "ReassignForm",
    "RecordForm",
    "TeamFilterForm",
    "apply_service_errors",
]

YES_NO = [("", "—"), ("yes", _("Yes")), ("no", _("No"))]
FUNDS_USE = [("", "—"), ("yes", _("Yes, as contracted")), ("no", _("No, used otherwise"))]


def _choice_label(choice: dict) -> str:
    english = translation.get_language() == "en"
    return (choice.get("en") if english else choice.get("zh")) or choice.get("zh") or str(choice.get("value"))


def _question_field(question: Question) -> forms.Field:
    common = {"label": question.text, "required": question.is_required}
    if question.answer_type == Question.AnswerType.YES_NO:
        return forms.ChoiceField(choices=YES_NO, **common)
    if question.answer_type == Question.AnswerType.CHOICE:
        choices = [("", "—"), *((str(item.get("value")), _choice_label(item)) for item in question.choices or [])]
        return forms.ChoiceField(choices=choices, **common)
    return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), **common)


class RecordForm(forms.Form):
    """The follow-up record: who, how, the checklist of the kind (`answer_field(code)`), the assessment and notes."""

    subject = forms.ChoiceField(label=_("Who was contacted"), choices=Subject.choices)
    subject_name = forms.ChoiceField(label=_("Name"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.VISIT, Channel.VISIT.label)]
    )
    funds_used_as_contracted = forms.ChoiceField(label=_("Funds used as contracted"), choices=FUNDS_USE)
    repayment_ability = forms.ChoiceField(label=_("Repayment ability"), choices=[("", "—"), *RepaymentAbility.choices])
    willingness = forms.ChoiceField(label=_("Willingness to repay"), choices=[("", "—"), *Willingness.choices])
    risk_signals = forms.MultipleChoiceField(
        label=_("Risk signals"), required=False, choices=RiskSignal.choices, widget=forms.CheckboxSelectMultiple
    )
    risk_level = forms.ChoiceField(label=_("Overall risk level"), choices=[("", "—"), *RiskLevel.choices])
    summary = forms.CharField(label=_("Summary"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    next_steps = forms.CharField(
        label=_("Next steps"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    location = forms.CharField(label=_("Location"), required=False, max_length=300)
    attendees = forms.CharField(label=_("Attendees"), required=False, max_length=300)

    def __init__(self, *args, followup: FollowUp, question_set: QuestionSet | None, **kwargs):
        initial = kwargs.pop("initial", None) or {}
        if followup.status == FollowUp.Status.RETURNED and followup.summary:
            # A returned record opens with what was written, to correct it.
            initial = _record_initial(followup) | initial
        super().__init__(*args, initial=initial, **kwargs)
        self.followup = followup
        parties = _parties(followup)
        self.fields["subject_name"].choices = [("", "—"), *((name, f"{name} ({label})") for _r, name, label in parties)]
        roles = {role for role, _n, _l in parties}
        self.fields["subject"].choices = [
            (value, label) for value, label in Subject.choices if value == Subject.BORROWER or value in roles
        ]
        if followup.loan_id is None:
            self.fields["funds_used_as_contracted"].required = False
        self.questions = list(question_set.questions.all()) if question_set else []
        for question in self.questions:
            self.fields[answer_field(question.code)] = _question_field(question)

    def question_fields(self) -> list:
        return [self[answer_field(question.code)] for question in self.questions]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        answers = {}
        for question in self.questions:
            value = data.get(answer_field(question.code))
            if value in ("", None):
                continue
            answers[question.code] = value
        funds = {"yes": True, "no": False}.get(data["funds_used_as_contracted"])
        return {
            "subject": data["subject"],
            "subject_name": data.get("subject_name") or "",
            "channel": data["channel"],
            "answers": answers,
            "funds_used_as_contracted": funds,
            "repayment_ability": data["repayment_ability"],
            "willingness": data["willingness"],
            "risk_signals": list(data.get("risk_signals") or []),
            "risk_level": data["risk_level"],
            "summary": data["summary"],
            "next_steps": data.get("next_steps") or "",
            "location": data.get("location") or "",
            "attendees": data.get("attendees") or "",
        }


def _record_initial(followup: FollowUp) -> dict:
    initial = {
        name: getattr(followup, name)
        for name in (
            "subject",
            "subject_name",
            "channel",
            "repayment_ability",
            "willingness",
            "risk_signals",
            "risk_level",
            "summary",
            "next_steps",
            "location",
            "attendees",
        )
    }
    initial["funds_used_as_contracted"] = {True: "yes", False: "no"}.get(followup.funds_used_as_contracted, "")
    for code, value in (followup.answers or {}).items():
        initial[answer_field(code)] = {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value
    return initial


def _parties(followup: FollowUp) -> list[tuple[str, str, str]]:
    """(role, name, role label) of the related parties a record may name, as the service checks them."""
    if followup.loan_id:
        parties = [(party.get("role", ""), party.get("name", "")) for party in followup.loan.contract.parties or []]
    else:
        parties = [(party.role, party.name) for party in followup.application.parties.all()]
    labels = dict(Subject.choices)
    return [(role, name, labels[role]) for role, name in parties if role in labels and role != Subject.BORROWER]


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(label=_("What happened"), choices=[("", "—"), *ContactAttempt.Outcome.choices])
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class PhotoForm(forms.Form):
    upload = forms.FileField(label=_("Photo or scan (JPEG, PNG or PDF, at most 10 MB)"))
    caption = forms.CharField(label=_("Caption"), required=False, max_length=200)


class AmendmentForm(forms.Form):
    text = forms.CharField(label=_("Correction"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ReassignForm(forms.Form):
    officer = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none())

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = officers


def branch_officers(branch_id: int):
    """The active loan officers of a branch, for reassignment."""
    return holders_of(Role.OFFICER).filter(branch_id=branch_id).order_by("display_name", "username")


class ScopeFilterForm(forms.Form):
    """The branch (head office only), loan officer and product filters that the dashboard's drill-downs pass to the
    follow-up team page and the warning list. Another branch's id is an invalid choice, and an invalid form filters
    nothing: the list stays inside the viewer's branch scope either way."""

    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    officer = forms.ModelChoiceField(
        label=_("Loan officer"), required=False, queryset=User.objects.none(), empty_label=_("All officers")
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.none(), empty_label=_("All products")
    )

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.order_by("code")
        else:
            del self.fields["branch"]
        officers = holders_of(Role.OFFICER)
        if user is not None:
            officers = scope(officers, user)
        self.fields["officer"].queryset = officers.order_by("display_name", "username").distinct()
        self.fields["product"].queryset = Product.objects.order_by("code")


class TeamFilterForm(ScopeFilterForm):
    """The team page's filters of its late follow-ups."""

    def filters(self) -> dict:
        """Keyword arguments for selectors.late_followups."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "branch_id": data["branch"].pk if data.get("branch") else None,
            "officer_id": data["officer"].pk if data.get("officer") else None,
            "product_id": data["product"].pk if data.get("product") else None,
        }

    @property
    def is_filtered(self) -> bool:
        return any(value is not None for value in self.filters().values())
