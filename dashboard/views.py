"""The manager's dashboard: one page per tab, showing the tab's figures for the filter bar's scope (stored by
dashboard.figures, computed by dashboard.tabs). Charts and their tables come from the same figures; every figure with
rows behind it links to the list of those rows."""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import action_required

from .figures import figures_refresh, tab_figures
from .forms import DashboardFilterForm
from .tabs import CHARTS, FIGURES, TABS


def _tab_url(tab: str) -> str:
    return reverse("dashboard:home") if tab == "pipeline" else reverse("dashboard:tab", args=[tab])


def _filter_query(data, form: DashboardFilterForm) -> str:
    return urlencode({key: value for key, value in data.items() if value and key in form.fields})


@require_GET
@action_required("dashboard.view")
def dashboard(request: HttpRequest, tab: str = "pipeline") -> HttpResponse:
    if tab not in FIGURES:
        raise Http404
    form = DashboardFilterForm(request.GET or None, user=request.user)
    scope = form.scope()
    query = _filter_query(request.GET, form)
    found = tab_figures(tab, scope)
    context = {
        "form": form,
        "scope": scope,
        "query": query,
        "tab": tab,
        "tab_title": dict(TABS)[tab],
        "tabs": [
            {
                "name": name,
                "label": label,
                "url": _tab_url(name),
                "active": name == tab,
            }
            for name, label in TABS
        ],
        "computed_at": found.computed_at,
        "stored": found.stored,
        **found.figures,
        "charts": CHARTS[tab](found.figures) if tab in CHARTS else [],
    }
    return render(request, f"dashboard/{tab}.html", context, status=400 if form.errors else 200)


@require_POST
@action_required("dashboard.view")
def dashboard_refresh(request: HttpRequest, tab: str) -> HttpResponse:
    """Compute the tab's figures for the posted filters now, then show the tab (a GET, so a reload does not post)."""
    if tab not in FIGURES:
        raise Http404
    form = DashboardFilterForm(request.POST or None, user=request.user)
    figures_refresh(tab, form.scope())
    query = _filter_query(request.POST, form)
    return redirect(_tab_url(tab) + (f"?{query}" if query else ""))
