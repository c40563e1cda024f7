"""What a dashboard looks at: a period, and the branch, product and officer filters, inside the viewer's branch scope.

Every KPI function takes a `Scope` and narrows its querysets with it, so a branch manager never counts another
branch's rows and head office sees every branch (or the one it picks). Dates are Asia/Shanghai calendar days, the
period is inclusive at both ends.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet

from accounts.models import User
from accounts.permissions import scope as branch_scope
from accounts.permissions import sees_all_branches
from core.dates import SHANGHAI


@dataclass(frozen=True)
class Scope:
    user: User
    date_from: date
    date_to: date
    branch_id: int | None = None  # head office: one branch, or None for all; others: always their own
    product_id: int | None = None
    officer_id: int | None = None

    def __post_init__(self):
        if self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")

    @property
    def start(self) -> datetime:
        """The first moment of the period (aware)."""
        return datetime.combine(self.date_from, time.min, tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        """The first moment after the period (aware): filter with `__lt=scope.end`."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=SHANGHAI)

    def rows(
        self,
        queryset: QuerySet,
        *,
        branch: str = "branch",
        product: str | None = None,
        officer: str | None = None,
    ) -> QuerySet:
        """`queryset` narrowed to the viewer's branches and the chosen branch, product and officer.

        `branch`, `product` and `officer` name the fields (paths allowed, e.g. "loan__branch"); a KPI whose rows have
        no product or officer passes None and that filter does not apply to it.
        """
        queryset = branch_scope(queryset, self.user, branch)
        if self.branch_id is not None and sees_all_branches(self.user):
            queryset = queryset.filter(**{f"{branch}_id": self.branch_id})
        if product and self.product_id is not None:
            queryset = queryset.filter(**{f"{product}_id": self.product_id})
        if officer and self.officer_id is not None:
            queryset = queryset.filter(**{f"{officer}_id": self.officer_id})
        return queryset

    def in_period(self, queryset: QuerySet, field: str) -> QuerySet:
        """Rows whose datetime `field` falls in the period."""
        return queryset.filter(**{f"{field}__gte": self.start, f"{field}__lt": self.end})

    def days_in_period(self, queryset: QuerySet, field: str) -> QuerySet:
        """Rows whose date `field` falls in the period."""
        return queryset.filter(**{f"{field}__gte": self.date_from, f"{field}__lte": self.date_to})
