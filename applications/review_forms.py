"""Forms of the review pages: initial review (初审) and secondary review (复核).

They check only the shape of the input; who may decide what, limits and maker-checker are the services' job.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import percent

from .models import Application, RejectionReason, Review

# The initial reviewer's completeness and authenticity checklist, kept as a dict in Review.checklist.
CHECKLIST = (
    ("identity_verified", _("Identity verified against the original document")),
    ("income_consistent", _("Income documents are consistent with each other")),
    ("purpose_plausible", _("The purpose of the loan is plausible")),
    ("materials_complete", _("The materials are complete")),
    ("no_conflicts", _("No conflicting information")),
)


class _ReviewForm(forms.Form):
    decision_choices: tuple = ()

    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Part of the record: the officer sees it, and for a return or rejection it is the reason."),
    )
    rejection_codes = forms.MultipleChoiceField(
        label=_("Reasons for the rejection"),
        choices=RejectionReason.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Required when you reject."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [
            (value, label) for value, label in Review.Decision.choices if value in self.decision_choices
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == Review.Decision.REJECT and not cleaned.get("rejection_codes"):
            self.add_error("rejection_codes", _("Choose at least one reason for the rejection."))
        return cleaned


class InitialReviewForm(_ReviewForm):
    decision_choices = (Review.Decision.PASS, Review.Decision.RETURN, Review.Decision.REJECT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        checklist = {
            name: forms.BooleanField(
                label=label, required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
            )
            for name, label in CHECKLIST
        }
        # The checklist comes first on the page: the reviewer ticks it while reading the materials.
        self.fields = {**checklist, **self.fields}

    def checklist_fields(self):
        return [self[name] for name, _label in CHECKLIST]

    def checklist(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name, _label in CHECKLIST}


class SecondaryReviewForm(_ReviewForm):
    decision_choices = (Review.Decision.APPROVE, Review.Decision.RETURN, Review.Decision.REJECT)

    approved_amount = forms.DecimalField(
        label=_("Approved amount (yuan)"),
        max_digits=18,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("At most the amount requested."),
    )
    approved_rate = forms.DecimalField(
        label=_("Approved annual rate (%)"), max_digits=7, decimal_places=4, min_value=0, required=False
    )
    approved_term_months = forms.IntegerField(
        label=_("Approved term (months)"), min_value=1, max_value=600, required=False
    )
    conditions = forms.CharField(
        label=_("Conditions of approval"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("E.g. a guarantor must sign, or the collateral must be registered before disbursement."),
    )

    field_order = (
        "decision",
        "approved_amount",
        "approved_rate",
        "approved_term_months",
        "conditions",
        "comment",
        "rejection_codes",
    )

    def __init__(self, *args, application: Application, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "approved_amount": application.amount,
                # "4.35", not "4.3500" (and "10", not "1E+1", which normalize() alone would give)
                "approved_rate": f"{application.annual_rate.normalize():f}",
                "approved_term_months": application.term_months,
            },
        )
        super().__init__(*args, **kwargs)
        product = application.product
        self.fields["approved_rate"].help_text = _("Between %(min)s and %(max)s for this product.") % {
            "min": percent(product.min_rate),
            "max": percent(product.max_rate),
        }
        self.fields["approved_term_months"].help_text = _("Between %(min)s and %(max)s months for this product.") % {
            "min": product.min_term_months,
            "max": product.max_term_months,
        }
