from django.utils.translation import gettext_lazy as _

from accounts.placeholders import planned_path

app_name = "followups"

urlpatterns = [
    planned_path(
        "warnings/",
        "warnings",
        action="warning.view",
        title=_("Risk warnings"),
        issue=6,
        purpose=_("Open risk warnings raised by follow-ups, and follow-up records waiting for your review."),
    ),
]
