"""The weekly portfolio summary e-mailed to every manager (outbox), with the key figures of their scope and a link
to the dashboard. Once per manager and ISO week: the idempotency key makes a rerun send nothing."""

from datetime import date, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.permissions import holders_of
from accounts.roles import Role
from core.dates import date_text, local_today
from core.money import format_yuan
from notifications.models import OutboxMessage
from notifications.services import messages_queue

from .kpis import pipeline, portfolio
from .scope import Scope

TEMPLATE = "weekly_portfolio_summary"


def _share(value) -> str:
    return "—" if value is None else f"{value}%"


def summary_context(manager: User, today: date) -> dict:
    """The figures of the week that ended yesterday, for the manager's branch (head office: all branches)."""
    scope = Scope(user=manager, date_from=today - timedelta(days=7), date_to=today - timedelta(days=1))
    language = manager.preferred_language
    outstanding = portfolio.outstanding(scope)
    overdue = portfolio.overdue_by_bucket(scope)
    npl = portfolio.npl_ratio(scope)
    disbursed = portfolio.disbursed_by_month(scope)
    decisions = pipeline.decisions(scope)
    return {
        "name": str(manager),
        "branch": str(manager.branch),
        "week_from": date_text(scope.date_from, language),
        "week_to": date_text(scope.date_to, language),
        "outstanding": format_yuan(outstanding["amount"]),
        "open_loans": outstanding["count"],
        "overdue_amount": format_yuan(overdue["amount"]),
        "overdue_loans": overdue["count"],
        "npl_ratio": _share(npl["ratio"]),
        "disbursed_amount": format_yuan(disbursed["amount"]),
        "disbursed_loans": disbursed["count"],
        "submitted": pipeline.funnel(scope)["submitted"],
        "rejection_rate": _share(decisions["rejection_rate"]),
        "link": f"{settings.SITE_URL.rstrip('/')}{reverse('dashboard:tab', args=['portfolio'])}",
    }


def weekly_summary_sweep(*, today: date | None = None) -> int:
    """Queue this week's summary for every active manager with an e-mail address; return how many were written."""
    today = today or local_today()
    year, week, _weekday = today.isocalendar()
    managers = holders_of(Role.MANAGER).exclude(email="").select_related("branch")
    messages = []
    for manager in managers:
        with translation.override(manager.preferred_language):
            context = summary_context(manager, today)
        messages.append(
            {
                "key": f"{TEMPLATE}:{manager.pk}:{year}-W{week:02d}",
                "channel": OutboxMessage.Channel.EMAIL,
                "template": TEMPLATE,
                "to_address": manager.email,
                "context": context,
                "language": manager.preferred_language,
                "audience": OutboxMessage.Audience.STAFF,
                "recipient": manager,
            }
        )
    return messages_queue(messages)
