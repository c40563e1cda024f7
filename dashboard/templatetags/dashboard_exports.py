"""The Export button of the staff list pages: {% load dashboard_exports %}{% export_form "loans" as export %}."""

from django import template

from dashboard.exports import filter_params, may_export
from dashboard.models.exports import ExportFormat

register = template.Library()


@register.simple_tag(takes_context=True)
def export_form(context, kind: str) -> dict:
    """Whether the viewer may export this list, and the page's current filters as (name, value) pairs to post back."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated or not may_export(user, kind):
        return {"allowed": False}
    params = [(name, value) for name, values in filter_params(request.GET).items() for value in values]
    return {"allowed": True, "kind": kind, "params": params, "formats": ExportFormat.choices}
