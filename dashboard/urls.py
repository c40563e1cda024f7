from django.utils.translation import gettext_lazy as _

from accounts.placeholders import planned_path

app_name = "dashboard"

urlpatterns = [
    planned_path(
        "",
        "home",
        action="dashboard.view",
        title=_("Dashboard"),
        issue=8,
        purpose=_("Pipeline, portfolio quality, follow-ups and service levels for your branches."),
    ),
]
