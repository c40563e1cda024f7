from django.utils.translation import gettext_lazy as _

from accounts.placeholders import planned_path

app_name = "applications"

urlpatterns = [
    planned_path(
        "worklist/",
        "worklist",
        action="worklist.view",
        title=_("My work today"),
        issue=4,
        purpose=_("Applications you are taking in, materials to collect and follow-ups due today."),
    ),
    planned_path(
        "review/",
        "review_queue",
        action="review.initial",
        title=_("Initial review"),
        issue=4,
        purpose=_("Submitted applications waiting for your initial review, oldest first."),
    ),
    planned_path(
        "approvals/",
        "approval_queue",
        action="review.secondary",
        title=_("Approvals"),
        issue=4,
        purpose=_("Applications in secondary review within your approval limit."),
    ),
]
