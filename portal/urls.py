from django.utils.translation import gettext_lazy as _

from accounts.placeholders import planned_path

app_name = "portal"

urlpatterns = [
    planned_path(
        "",
        "home",
        action="portal.use",
        title=_("My loans"),
        issue=7,
        purpose=_("Where your application stands, what is missing, your schedule and your next payment."),
    ),
]
