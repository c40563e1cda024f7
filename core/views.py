"""Infrastructure pages: the health check, the error pages and the placeholder for pages a later issue builds."""

import logging

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    cache.set("healthz", "ok", 10)
    return "ok" if cache.get("healthz") == "ok" else "error: value not read back"


def _check_broker() -> str:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """Status of database, cache and broker as JSON. 503 only when the database is down: without it nothing works,
    while a broker outage only delays messages (the outbox sweep sends them later)."""
    status = {}
    for name, check in (("database", _check_database), ("cache", _check_cache), ("broker", _check_broker)):
        try:
            status[name] = check()
        except Exception as exc:  # any failure of a dependency is reported, not raised
            logger.warning("healthz: %s check failed: %s", name, exc)
            status[name] = f"error: {exc.__class__.__name__}"
    healthy = status["database"] == "ok"
    return JsonResponse({"status": "ok" if healthy else "error", "checks": status}, status=200 if healthy else 503)


def page_not_found(request, exception):
    return render(request, "errors/404.html", status=404)


def permission_denied(request, exception):
    message = str(exception) if exception and str(exception) else ""
    return render(request, "errors/403.html", {"message": message}, status=403)


def server_error(request):
    # Something already failed: render a standalone template without context processors or the database.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def planned_page(request, *, title: str, issue: int, purpose: str):
    """A role's home page whose real content a later issue builds; it says so on the page."""
    return render(request, "core/planned_page.html", {"title": title, "issue": issue, "purpose": purpose})
