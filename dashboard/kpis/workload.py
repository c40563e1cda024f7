"""Officer workload (issue 8): for each loan officer of the scope's branches, what is on their plate today —
applications in progress, open loans, follow-ups due this week and open risk warnings on their loans.

One query for the officers and one grouped query per measure, merged here by officer id: five queries whatever the
number of officers, applications, loans or follow-ups. The period does not apply (this is the state today).
"""

from datetime import timedelta

from django.db.models import Count

from accounts.permissions import holders_of
from accounts.roles import Role
from applications.models import Application
from applications.models.applications import OPEN_STATUSES as OPEN_APPLICATION_STATUSES
from core.dates import local_today
from followups.models import RiskWarning, WarningStatus
from followups.models.followups import OPEN_FOLLOWUP_STATUSES
from postloan.models import Loan
from postloan.models.loans import OPEN_LOAN_STATUSES
from postloan.selectors import STATUS_OPEN

from ..scope import Scope
from .followups import followups_in, person_name
from .links import drill, scope_params

# Warnings a risk officer still has to deal with.
OPEN_WARNING_STATUSES = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED)
MEASURES = ("applications", "loans", "followups_this_week", "open_warnings")


def _by_officer(queryset, officer: str = "officer") -> dict[int, int]:
    return dict(queryset.order_by().values(officer).annotate(count=Count("pk")).values_list(officer, "count"))


def officer_workload(scope: Scope) -> dict:
    """Per loan officer: applications in progress, open loans owned, follow-ups due this week (Monday to Sunday)
    not yet done, and open or acknowledged risk warnings on their loans."""
    today = local_today()
    week_start = today - timedelta(days=today.weekday())
    week_end = week_start + timedelta(days=6)
    officers = scope.rows(holders_of(Role.OFFICER))
    if scope.officer_id is not None:
        officers = officers.filter(pk=scope.officer_id)
    officers = list(officers.select_related("branch").order_by("branch__code", "display_name", "username", "pk"))
    applications = _by_officer(
        scope.rows(
            Application.objects.filter(status__in=OPEN_APPLICATION_STATUSES), product="product", officer="officer"
        )
    )
    loans = _by_officer(
        scope.rows(Loan.objects.filter(status__in=OPEN_LOAN_STATUSES), product="product", officer="officer")
    )
    followups = _by_officer(
        followups_in(scope).filter(status__in=OPEN_FOLLOWUP_STATUSES, due_on__gte=week_start, due_on__lte=week_end)
    )
    open_warnings = _by_officer(
        scope.rows(
            RiskWarning.objects.filter(status__in=OPEN_WARNING_STATUSES),
            product="loan__product",
            officer="loan__officer",
        ),
        officer="loan__officer",
    )
    rows = [
        {
            "officer_id": officer.pk,
            "officer": person_name(officer.display_name, officer.first_name, officer.last_name, officer.username),
            "branch_id": officer.branch_id,
            "branch": str(officer.branch) if officer.branch_id else "",
            "applications": applications.get(officer.pk, 0),
            "loans": loans.get(officer.pk, 0),
            "followups_this_week": followups.get(officer.pk, 0),
            "open_warnings": open_warnings.get(officer.pk, 0),
            # Open loans, as counted here, of the chosen product (the officer's own branch goes without saying).
            "loans_drill": drill(
                "postloan:list", show="branch", status=STATUS_OPEN, officer=officer.pk, product=scope.product_id
            ),
        }
        for officer in officers
    ]
    return {
        "rows": rows,
        "total": {name: sum(row[name] for row in rows) for name in MEASURES},
        "week_start": week_start,
        "week_end": week_end,
        "drill": drill("followups:team", **scope_params(scope)),
    }
