"""The borrower's forms. Each only shapes input; the rules are in the services they call."""

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from accounts.forms import lockout_policy
from accounts.models import User
from applications.portal import portal_username
from followups.models import InquiryCategory


def _helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    return helper


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


def _mobile_field() -> forms.CharField:
    return forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


def _new_password_fields(form: forms.Form) -> None:
    form.fields["password1"] = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    form.fields["password2"] = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


def _check_passwords_match(form: forms.Form, cleaned: dict) -> None:
    if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
        form.add_error("password2", _("The two passwords are not the same."))


class SignInForm(_Form):
    mobile = _mobile_field()
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        mobile, password = cleaned.get("mobile"), cleaned.get("password")
        if mobile and password:
            # django-axes counts failures per username, so an unknown number is locked like a real one.
            self.user = authenticate(self.request, username=portal_username(mobile), password=password)
            if self.user is None or not self.user.is_active:
                raise forms.ValidationError(
                    _(
                        "The mobile number or password is not right. After %(attempts)s failed attempts the account "
                        "is locked for %(minutes)s minutes."
                    )
                    % lockout_policy(),
                    code="invalid_login",
                )
        return cleaned


class InvitationAcceptForm(_Form):
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _new_password_fields(self)

    def clean(self):
        cleaned = super().clean()
        _check_passwords_match(self, cleaned)
        return cleaned


class ResetRequestForm(_Form):
    identifier = forms.CharField(
        label=_("Mobile number or email"),
        max_length=254,
        help_text=_("We send a code to this number or address if it belongs to a portal account."),
    )


class ResetConfirmForm(_Form):
    identifier = forms.CharField(label=_("Mobile number or email"), max_length=254)
    code = forms.CharField(
        label=_("Code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _new_password_fields(self)

    def clean(self):
        cleaned = super().clean()
        _check_passwords_match(self, cleaned)
        return cleaned


class MaterialUploadForm(forms.Form):
    file = forms.FileField(label=_("File (PDF, JPEG or PNG, at most 10 MB)"))


class PayoffDateForm(forms.Form):
    on_date = forms.DateField(
        label=_("Pay everything off on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class InquiryForm(_Form):
    category = forms.ChoiceField(label=_("What is your question about?"), choices=InquiryCategory.choices)
    about = forms.ChoiceField(label=_("Which application or loan?"), required=False)
    question = forms.CharField(label=_("Your question"), widget=forms.Textarea(attrs={"rows": 5}), max_length=2000)

    def __init__(self, *args, applications=(), loans=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Not about a particular one"))]
        choices += [(f"loan:{loan.pk}", _("Loan %(number)s") % {"number": loan.number}) for loan in loans]
        choices += [
            (f"application:{application.pk}", _("Application %(number)s") % {"number": application.number})
            for application in applications
        ]
        self.fields["about"].choices = choices
        self._applications = {application.pk: application for application in applications}
        self._loans = {loan.pk: loan for loan in loans}

    def subject(self) -> dict:
        """{"application": ...} or {"loan": ...} for the service, from the chosen option."""
        kind, _sep, pk = (self.cleaned_data.get("about") or "").partition(":")
        if kind == "loan":
            return {"loan": self._loans[int(pk)]}
        if kind == "application":
            return {"application": self._applications[int(pk)]}
        return {}


class RatingForm(_Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        coerce=int,
        choices=[(5, _("5 – Very satisfied")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 – Not satisfied"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


HOURS = [(hour, f"{hour:02d}:00") for hour in range(25)]


class PreferencesForm(_Form):
    language = forms.ChoiceField(label=_("Language"), choices=User.Language.choices)
    sms_reminders = forms.BooleanField(label=_("Send me repayment reminders by SMS"), required=False)
    email_reminders = forms.BooleanField(label=_("Send me repayment reminders by email"), required=False)
    contact_from_hour = forms.TypedChoiceField(label=_("Best time to call me, from"), coerce=int, choices=HOURS[:-1])
    contact_to_hour = forms.TypedChoiceField(label=_("until"), coerce=int, choices=HOURS[1:])
