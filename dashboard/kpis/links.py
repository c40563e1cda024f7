"""Drill-down links: the URL of a staff list page with its GET filters, so a figure opens the rows behind it."""

from urllib.parse import urlencode

from django.urls import reverse


def drill(url_name: str, *args, **params) -> str:
    """`reverse(url_name, args)` plus the non-empty `params` as a query string."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    url = reverse(url_name, args=args)
    return f"{url}?{query}" if query else url
