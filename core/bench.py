"""Measuring aids for `make bench` (docs/performance.md), switched on only by LOANTRACK_BENCH=1.

- `QueryCountMiddleware` puts the number of SQL queries a request ran into the `X-Queries` response header, so the
  bench reads queries per request from the same production-settings server it times (DEBUG is off there, so
  `connection.queries` is empty and a wrapper counts instead).
- `baseline` is B1: a bare view that reads one row by primary key through the whole middleware stack. Every page's
  p95 is reported as a multiple of B1's, which cancels out how fast this machine happens to be today.
"""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .models import DocumentSequence


class QueryCountMiddleware:
    """Outermost middleware: counts every query of the request, sessions and authentication included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(count)
        return response


@require_GET
def baseline(request: HttpRequest, pk: int) -> JsonResponse:
    """B1: one row by primary key, no template."""
    row = get_object_or_404(DocumentSequence, pk=pk)
    return JsonResponse({"prefix": row.prefix, "year": row.year, "last_value": row.last_value})
