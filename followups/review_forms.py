"""Forms of the risk officer's pages (record review, risk warnings) and of the borrower's questionnaire page.

The forms check the shape of the input only; every rule (who, when, what is allowed) stays in the services, whose
ValidationErrors land back on these forms through `apply_service_errors`.
"""

from django import forms
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.dates import local_today

from .forms import ScopeFilterForm
from .models import Question, QuestionSet, RiskWarning
from .services import answer_field
from .services.warnings import MAX_NOTE_LENGTH


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _note_field(label, *, required: bool, help_text="", rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


# --- record review ------------------------------------------------------------------------------------------------
class ReviewForm(forms.Form):
    DECISIONS = (("approve", _("Approve")), ("return", _("Return for correction")))

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional when you approve; when you return the record, say what the officer must correct."),
    )


# --- risk warnings ------------------------------------------------------------------------------------------------
class AcknowledgeForm(forms.Form):
    note = _note_field(_("Note"), required=False, help_text=_("Optional: what you will do first."))


class ResolveForm(forms.Form):
    resolution = _note_field(_("How was the risk dealt with?"), required=True, rows=3)


class ExtraFollowupForm(forms.Form):
    due_on = forms.DateField(
        label=_("Extra follow-up due on"),
        widget=_date_input(),
        help_text=_("Planned for the loan's officer."),
    )
    note = _note_field(_("What should the officer find out?"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("due_on", local_today())


class EscalateForm(forms.Form):
    note = _note_field(_("What should the manager know or decide?"), required=True, rows=3)


class WarningFilterForm(ScopeFilterForm):
    """The warning list's filters: which warnings (`status`), and the scope filters of the dashboard's drill-downs."""

    field_order = ["status", "branch", "officer", "product"]
    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("Open and acknowledged")), ("open", _("Open only")), ("breached", _("Past the deadline"))],
    )

    def narrow(self, queryset: QuerySet[RiskWarning]) -> QuerySet[RiskWarning]:
        """The warnings of the chosen branch, loan officer and product (not the `status` choice: the page counts
        each status of what this keeps)."""
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("branch"):
            queryset = queryset.filter(branch=data["branch"])
        if data.get("officer"):
            queryset = queryset.filter(loan__officer=data["officer"])
        if data.get("product"):
            queryset = queryset.filter(loan__product=data["product"])
        return queryset

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(value for name, value in data.items() if name != "status")


# --- the borrower's questionnaire ---------------------------------------------------------------------------------
def _choice_label(choice: dict) -> str:
    english = (translation.get_language() or "").startswith("en")
    return str(choice.get("en") if english and choice.get("en") else choice.get("zh") or choice.get("value"))


class QuestionnaireForm(forms.Form):
    """One field per question of the set, named `answer_field(code)`; `answers()` gives {code: value} for
    `questionnaire_answer`, which decides what is required and what is allowed."""

    def __init__(self, *args, question_set: QuestionSet | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions: list[Question] = list(question_set.questions.all()) if question_set else []
        for question in self.questions:
            self.fields[answer_field(question.code)] = self._field_for(question)

    @staticmethod
    def _field_for(question: Question) -> forms.Field:
        label = question.text
        if question.answer_type == Question.AnswerType.YES_NO:
            choices = [("yes", _("Yes")), ("no", _("No"))]
            return forms.ChoiceField(label=label, choices=choices, required=False, widget=forms.RadioSelect)
        if question.answer_type == Question.AnswerType.CHOICE:
            choices = [(str(choice.get("value")), _choice_label(choice)) for choice in question.choices or []]
            return forms.ChoiceField(label=label, choices=choices, required=False, widget=forms.RadioSelect)
        return forms.CharField(label=label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def answers(self) -> dict:
        return {question.code: self.cleaned_data.get(answer_field(question.code)) for question in self.questions}
