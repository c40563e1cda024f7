"""A follow-up's status and risk level as badges: {% load followup_badges %}.

Python rather than template conditionals: the loan page's follow-ups tab and the review queue show them on every row,
and the shades were written out in each template."""

from django import template

from core.badges import per_language, state_badge

from ..models.followups import FollowUpStatus, RiskLevel

register = template.Library()

# Waiting on the officer stands out; finished ones stay quiet; the rest are in progress.
_STATUS_SHADE = {
    FollowUpStatus.RETURNED: "text-bg-warning",
    FollowUpStatus.APPROVED: "text-bg-light border",
    FollowUpStatus.CANCELLED: "text-bg-light border",
}
_RISK_SHADE = {RiskLevel.HIGH: "text-bg-danger", RiskLevel.MEDIUM: "text-bg-warning", RiskLevel.LOW: "text-bg-success"}


@register.simple_tag
@per_language
def followup_status_badge(status: str) -> str:
    return state_badge(status, FollowUpStatus(status).label, shade=_STATUS_SHADE.get(status, "text-bg-primary"))


@register.simple_tag
@per_language
def risk_level_badge(level: str) -> str:
    """`data-risk` is the level's code; nothing for a record without one."""
    if not level:
        return ""
    return state_badge(level, RiskLevel(level).label, shade=_RISK_SHADE[level], attribute="risk")
