from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "The username or password is not right. After 5 failed attempts the account is locked for 15 minutes."
        ),
        "inactive": _("This account is disabled. Please contact your administrator."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")
        self.helper = FormHelper()
        self.helper.form_tag = False


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "preferred_language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
