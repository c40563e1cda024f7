"""A loan's status, days past due and classification, and an installment's state, as badges: {% load loan_badges %}.

Python rather than included templates because every row of the loan, overdue and portfolio lists shows them: an
include per badge and row, and Django's get_FOO_display (which rebuilds the field's choices on every call), were a
third of the loan list's rendering time (docs/performance.md)."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.badges import per_language, state_badge

from ..models import Bucket, Classification, LoanStatus

register = template.Library()

# Each status's shade and symbol: the text always says it, the symbol keeps it readable in grayscale.
_STATUS_LOOK = {
    LoanStatus.ACTIVE: ("text-bg-success", "●"),
    LoanStatus.OVERDUE: ("text-bg-danger", "!"),
    LoanStatus.PAID_OFF: ("text-bg-secondary", "✓"),
}
# The five categories: the three non-performing ones (不良) in red.
_CLASSIFICATION_LOOK = {
    Classification.NORMAL: "text-bg-light border",
    Classification.SPECIAL_MENTION: "text-bg-warning",
}

# An installment's state on the schedule (postloan.views.loans.installment_state): shade, symbol, words. Anything else
# is "not due". A schedule shows up to 60 installments; as an included template the badge cost 40 µs a row.
_INSTALLMENT_LOOK = {
    "paid": ("text-bg-success", "✓", gettext_lazy("Paid")),
    "overdue": ("text-bg-danger", "!", gettext_lazy("Overdue")),
    "partial": ("text-bg-info", "◐", gettext_lazy("Partly paid")),
}


@register.simple_tag
@per_language
def loan_status_badge(status: str) -> str:
    shade, symbol = _STATUS_LOOK.get(status, ("text-bg-dark", ""))
    return state_badge(status, LoanStatus(status).label, shade=shade, symbol=symbol)


@register.simple_tag
def dpd_badge(loan) -> str:
    """Days past due with the aging bucket as its title; nothing loud for a current loan."""
    return _dpd_badge(loan.dpd, loan.bucket)


@per_language
def _dpd_badge(dpd: int, bucket: str) -> str:
    bucket = Bucket(bucket).label
    if not dpd:
        return format_html('<span class="badge text-bg-light border" data-testid="dpd-badge">{}</span>', bucket)
    if dpd > 90:
        shade = "text-bg-danger"
    elif dpd > 30:
        shade = "text-bg-warning"
    else:
        shade = "text-bg-warning bg-opacity-50"
    days = ngettext("%(days)s day past due", "%(days)s days past due", dpd) % {"days": dpd}
    return format_html('<span class="badge {}" data-testid="dpd-badge" title="{}">{}</span>', shade, bucket, days)


@register.simple_tag
@per_language
def classification_badge(classification: str) -> str:
    return format_html(
        '<span class="badge {}" data-classification="{}">{}</span>',
        _CLASSIFICATION_LOOK.get(classification, "text-bg-danger"),
        classification,
        Classification(classification).label,
    )


@register.simple_tag
def bucket_label(bucket: str) -> str:
    """An aging bucket's name, for a heading over its loans."""
    return Bucket(bucket).label


@register.simple_tag
@per_language
def installment_badge(state: str) -> str:
    """`data-state` is what tests and the schedule's readers look for."""
    if state not in _INSTALLMENT_LOOK:
        return state_badge("not_due", _("Not due"), shade="text-bg-light border", attribute="state")
    shade, symbol, label = _INSTALLMENT_LOOK[state]
    return state_badge(state, label, shade=shade, symbol=symbol, attribute="state")
