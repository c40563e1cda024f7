"""One page of a list whose length the page already knows (its status counts, its summary aggregate): the paginator
is given that count instead of running a COUNT query of its own, and only the page's rows are read."""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


def counted_page(queryset: QuerySet, *, count: int, number, per_page: int) -> Page:
    """The page `number` (a request parameter; invalid or out of range gives the first or last) of `queryset`, which
    has `count` rows."""
    paginator = Paginator(queryset, per_page)
    paginator.count = count
    return paginator.get_page(number)


def count_of_status(counts: dict[str, int], status: str, *, groups: dict[str, tuple] | None = None) -> int:
    """How many rows a status filter lists, from the counts per status of the same filters without it: every status
    when none is chosen, and a group's statuses for a filter value standing for several (e.g. "open")."""
    if not status:
        return sum(counts.values())
    members = (groups or {}).get(status, (status,))
    return sum(counts.get(value, 0) for value in members)
