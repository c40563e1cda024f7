"""An application's status and review target as badges: {% load application_badges %}.

Python rather than included templates: the application lists and review queues show them on every row, and an
include per row plus Django's get_FOO_display (which rebuilds the field's choices on each call) were a large part
of those pages' rendering time (docs/performance.md)."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.badges import per_language, state_badge

from ..models import ApplicationStatus as S

register = template.Library()

# Each status's shade and symbol: the text always says it, the symbol and shade keep it readable in grayscale.
_STATUS_LOOK = {
    S.APPROVED: ("text-bg-success", "✓"),
    S.CONTRACTED: ("text-bg-success", "✓"),
    S.DISBURSED: ("text-bg-success", "✓"),
    S.REJECTED: ("text-bg-danger", "✕"),
    S.RETURNED: ("text-bg-warning", "↩"),
    S.SUBMITTED: ("text-bg-primary", "⋯"),
    S.INITIAL_REVIEW: ("text-bg-primary", "⋯"),
    S.SECONDARY_REVIEW: ("text-bg-primary", "⋯"),
    S.WITHDRAWN: ("text-bg-light border text-decoration-line-through", ""),
    S.EXPIRED: ("text-bg-light border text-decoration-line-through", ""),
}


@register.simple_tag
@per_language
def application_status_badge(status: str) -> str:
    shade, symbol = _STATUS_LOOK.get(status, ("text-bg-secondary", ""))
    return state_badge(status, S(status).label, shade=shade, symbol=symbol)


@register.simple_tag
def review_target(application) -> str:
    """When the stage's review is due (China time), in red once it is past; a dash for a stage without a target."""
    if not application.sla_due_at:
        return mark_safe('<span class="text-body-secondary">—</span>')
    due = _("due %(when)s") % {"when": timezone.localtime(application.sla_due_at).strftime("%m-%d %H:%M")}
    if application.sla_breached:
        return format_html(
            '<span class="badge text-bg-danger" data-testid="sla-breached">{}</span>'
            '<div class="small text-danger text-nowrap">{}</div>',
            _("Past target"),
            due,
        )
    return format_html('<span class="small text-nowrap">{}</span>', due)
