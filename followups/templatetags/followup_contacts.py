"""What the application's review pages show about pre-loan contacts, without touching the applications views: the
verification call's result (信息核实) for the reviewer deciding, the call still planned, and whether the user may plan
one. One query per page, whatever the application holds."""

from django import template

from accounts.permissions import can

from ..models import FollowUpKind
from ..selectors import verification_calls
from ..services.records import CONTACT_STATUSES

register = template.Library()


@register.simple_tag(takes_context=True)
def verification_call(context, application) -> dict:
    user = context["request"].user
    calls = verification_calls(application)
    may_plan = (
        calls["planned"] is None
        and application.status in CONTACT_STATUSES[FollowUpKind.VERIFICATION_CALL]
        and (can(user, "review.initial") or (can(user, "followup.record") and application.officer_id == user.pk))
    )
    return calls | {"may_plan": may_plan}
