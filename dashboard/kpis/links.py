"""Drill-down links: the URL of a staff list page with its GET filters, so a figure opens the rows behind it."""

from datetime import date
from urllib.parse import urlencode

from django.urls import reverse

from accounts.permissions import sees_all_branches

from ..scope import Scope


def drill(url_name: str, *args, **params) -> str:
    """`reverse(url_name, args)` plus the non-empty `params` as a query string (dates as YYYY-MM-DD)."""
    query = urlencode(
        {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in params.items()
            if value not in (None, "")
        }
    )
    url = reverse(url_name, args=args)
    return f"{url}?{query}" if query else url


def scope_params(
    scope: Scope, *, branch: str | None = "branch", product: str | None = "product", officer: str | None = "officer"
) -> dict:
    """The dashboard's branch, product and officer as a list page's GET filters, under that page's names (None: the
    list has no such filter, or the figure does not use it). The branch goes only for head office: everyone else's
    lists, like their figures, are of their own branch already."""
    params = {}
    if branch and sees_all_branches(scope.user):
        params[branch] = scope.branch_id
    if product:
        params[product] = scope.product_id
    if officer:
        params[officer] = scope.officer_id
    return params
