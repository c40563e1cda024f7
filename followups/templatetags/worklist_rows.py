"""A row of the officer's "today" lists: {% load worklist_rows %} then {% today_row row %}.

Built in Python, not an included template: the page shows up to 100 rows, each with its quick-attempt form, and as
a template a row took 230 µs to render (two plural phrases, five translations, two URLs), 23 ms of the page on
every view of an officer's busiest page (docs/performance.md). For the same reason the page's rows share one CSRF
token and reverse their two links once (core.links): a fresh token per row cost 19 µs, a reverse 30 µs. The htmx
answer to a quick attempt is the same row, from `today_row_html`."""

from django import template
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.links import pk_url, pk_url_in

from ..models import FollowUp, FollowUpStatus

register = template.Library()


_RECORD, _ATTEMPT = "followups:record", "followups:attempt_quick"


@register.simple_tag(takes_context=True)
def today_row(context, row: FollowUp) -> SafeString:
    links = {name: pk_url_in(context, name) for name in (_RECORD, _ATTEMPT)}
    return _row_html(row, links, csrf_token=str(context["csrf_token"]), outcome_options=context["outcome_options"])


def today_row_html(
    row: FollowUp, *, request: HttpRequest, outcome_options: str, notice: str = "", error: str = ""
) -> SafeString:
    """One follow-up row on its own: the htmx answer to a quick attempt."""
    links = {name: pk_url(name) for name in (_RECORD, _ATTEMPT)}
    return _row_html(
        row, links, csrf_token=get_token(request), outcome_options=outcome_options, notice=notice, error=error
    )


def _row_html(
    row: FollowUp, links: dict, *, csrf_token: str, outcome_options: str, notice: str = "", error: str = ""
) -> SafeString:
    """One follow-up to do: whose and which loan, when due and how late, its failed attempts; the quick attempt
    while it is planned, and the link to its record. `row.days_late` is set by the view."""
    subject = row.loan if row.loan_id else row.application
    record_url = links[_RECORD](row.pk)
    return format_html(
        '<li class="list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2" '
        'id="followup-row-{}" data-testid="followup-{}">'
        '<div class="text-break"><a class="fw-semibold" href="{}">{}</a> · {} · {}'
        '<div class="small text-body-secondary">{} <span data-testid="due-on">{}</span>{} · '
        '<span data-testid="attempts">{}</span>{}</div>{}</div>'
        '<div class="d-flex flex-wrap gap-2 align-items-center">{}'
        '<a class="btn btn-sm btn-primary" href="{}">{}</a></div></li>',
        row.pk,
        row.pk,
        record_url,
        subject.borrower.name,
        subject.number,
        FollowUp.Kind(row.kind).label,
        _("Due"),
        row.due_on.isoformat(),
        _days_late(row.days_late),
        ngettext("%(attempts)s failed attempt", "%(attempts)s failed attempts", row.failed_attempts)
        % {"attempts": row.failed_attempts},
        format_html(' · <span class="badge text-bg-warning">{}</span>', _("Returned"))
        if row.status == FollowUpStatus.RETURNED
        else "",
        _outcome_message(notice, error),
        _quick_attempt_form(row, links[_ATTEMPT](row.pk), csrf_token, outcome_options)
        if row.status == FollowUpStatus.PLANNED
        else "",
        record_url,
        _("Open record"),
    )


def _days_late(days: int) -> SafeString:
    if not days:
        return mark_safe("")
    return format_html(
        ' · <span class="text-danger fw-semibold" data-testid="days-late">{}</span>',
        ngettext("%(days)s day late", "%(days)s days late", days) % {"days": days},
    )


def _outcome_message(notice: str, error: str) -> SafeString:
    """What became of a quick attempt, on the row that htmx swaps in."""
    if error:
        return format_html('<div class="small text-danger" role="alert" data-testid="row-error">{}</div>', error)
    if notice:
        return format_html('<div class="small text-success" role="status" data-testid="row-notice">{}</div>', notice)
    return mark_safe("")


def _quick_attempt_form(row: FollowUp, url: str, csrf_token: str, outcome_options: str) -> SafeString:
    """Log a failed call from the row: a plain POST without JavaScript, the row swapped in place with htmx."""
    return format_html(
        '<form method="post" action="{}" class="d-flex gap-1" hx-post="{}" hx-target="#followup-row-{}" '
        'hx-swap="outerHTML" data-testid="attempt-form-{}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<label class="visually-hidden" for="outcome-{}">{}</label>'
        '<select name="outcome" id="outcome-{}" class="form-select form-select-sm" required>{}</select>'
        '<button type="submit" class="btn btn-sm btn-outline-secondary text-nowrap">{}</button></form>',
        url,
        url,
        row.pk,
        row.pk,
        csrf_token,
        row.pk,
        _("What happened"),
        row.pk,
        outcome_options,
        _("Log failed call"),
    )
