"""Forms of the outbox page: the list filters and the test message."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from core.identity import validate_mobile

from .models import OutboxMessage


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *OutboxMessage.Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *OutboxMessage.Channel.choices]
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Address, key or template"), "type": "search"}),
    )


class TestMessageForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=OutboxMessage.Channel.choices)
    to_address = forms.CharField(
        label=_("Send to"), max_length=254, help_text=_("An email address or a mainland China mobile number.")
    )

    def clean(self):
        cleaned = super().clean()
        channel, to_address = cleaned.get("channel"), (cleaned.get("to_address") or "").strip()
        if not channel or not to_address:
            return cleaned
        try:
            if channel == OutboxMessage.Channel.SMS:
                to_address = validate_mobile(to_address)
            else:
                validate_email(to_address)
        except ValidationError as exc:
            self.add_error("to_address", exc)
            return cleaned
        cleaned["to_address"] = to_address
        return cleaned
