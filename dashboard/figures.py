"""Stored dashboard figures: each tab's figures for a scope are computed once and kept in the cache (Redis in
production) with the moment they were computed, so a manager's view reads one entry instead of aggregating the book.

Why: the tabs aggregate the whole book (every open loan, every application event of the period). At 100,000 loans
that took 0.1–1.2 s per view and it grows with the book (docs/performance.md), while the figures move slowly: a
dashboard that is a few minutes old is what managers expect, and the page says when its figures were computed and
offers a refresh.

- `tab_figures` returns the stored figures, computing and storing them on a miss (any filter a manager picks);
- `figures_refresh` recomputes one tab now (the page's refresh button);
- `figures_refresh_defaults` (beat, every 10 minutes) recomputes every tab for the views managers open first: each
  branch's and head office's default period, so those never wait. Entries live `DASHBOARD_FIGURES_SECONDS` (15 min),
  longer than the refresh interval.

The viewer's branch scope is part of the key (a branch manager and head office looking at one branch get different
drill links). With `DASHBOARD_FIGURES_SECONDS = 0` figures are computed on every view, nothing is stored. A cache
that is down costs speed, never the page: figures are then computed for the view.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from accounts.permissions import ACTION_ROLES, holders_of, sees_all_branches

from .forms import DashboardFilterForm
from .scope import Scope
from .tabs import FIGURES

logger = logging.getLogger(__name__)

# Part of every key: bump it when a tab's figures change shape, so that entries stored by older code are not read.
FIGURES_VERSION = 1
# Held while the default figures are refreshed, so a slow run and the next beat tick do not both compute.
_REFRESH_LOCK = "dashboard-figures:refreshing"


@dataclass(frozen=True)
class StoredFigures:
    figures: dict
    computed_at: datetime
    stored: bool = True  # False when computed for this view only (storing is off, or the cache is down)


def _visibility(user: User) -> str:
    return "all" if sees_all_branches(user) else f"branch-{user.branch_id}"


def figures_key(tab: str, scope: Scope) -> str:
    parts = [
        tab,
        _visibility(scope.user),
        scope.date_from.isoformat(),
        scope.date_to.isoformat(),
        *(str(value or "") for value in (scope.branch_id, scope.product_id, scope.officer_id)),
    ]
    return f"dashboard-figures:{FIGURES_VERSION}:" + ":".join(parts)


def _compute(tab: str, scope: Scope) -> StoredFigures:
    return StoredFigures(figures=FIGURES[tab](scope), computed_at=timezone.now())


def _store(key: str, found: StoredFigures) -> StoredFigures:
    try:
        cache.set(key, found, timeout=settings.DASHBOARD_FIGURES_SECONDS)
    except Exception:  # the cache backend's own errors (redis.ConnectionError…): the figures are still good to show
        logger.warning("Could not store dashboard figures %s", key, exc_info=True)
        return StoredFigures(found.figures, found.computed_at, stored=False)
    return found


def figures_refresh(tab: str, scope: Scope) -> StoredFigures:
    """Compute one tab's figures for the scope now and store them."""
    found = _compute(tab, scope)
    if settings.DASHBOARD_FIGURES_SECONDS <= 0:
        return StoredFigures(found.figures, found.computed_at, stored=False)
    return _store(figures_key(tab, scope), found)


def tab_figures(tab: str, scope: Scope) -> StoredFigures:
    """The tab's figures for the scope: the stored ones while they last, else computed now and stored."""
    if settings.DASHBOARD_FIGURES_SECONDS <= 0:
        return StoredFigures(FIGURES[tab](scope), timezone.now(), stored=False)
    try:
        found = cache.get(figures_key(tab, scope))
    except Exception:
        logger.warning("Could not read stored dashboard figures", exc_info=True)
        found = None
    return found if isinstance(found, StoredFigures) else figures_refresh(tab, scope)


def default_viewers() -> list[User]:
    """One active dashboard user per branch scope (head office, each branch): whose default view is refreshed."""
    viewers: dict[str, User] = {}
    users = holders_of(*ACTION_ROLES["dashboard.view"]).filter(branch__isnull=False).select_related("branch")
    for user in users.order_by("pk"):
        viewers.setdefault(_visibility(user), user)
    return list(viewers.values())


def figures_refresh_defaults() -> dict:
    """Recompute every tab's figures for each branch scope's default view; skipped while another run is at it."""
    if settings.DASHBOARD_FIGURES_SECONDS <= 0:
        return {"scopes": 0, "seconds": 0.0, "skipped": "storing is off"}
    if not cache.add(_REFRESH_LOCK, True, timeout=settings.DASHBOARD_FIGURES_SECONDS):
        return {"scopes": 0, "seconds": 0.0, "skipped": "another refresh is running"}
    started = time.monotonic()
    try:
        viewers = default_viewers()
        for viewer in viewers:
            scope = DashboardFilterForm(None, user=viewer).scope()
            for tab in FIGURES:
                figures_refresh(tab, scope)
    finally:
        cache.delete(_REFRESH_LOCK)
    seconds = round(time.monotonic() - started, 3)
    logger.info("Dashboard figures refreshed for %s branch scopes in %.3f s", len(viewers), seconds)
    return {"scopes": len(viewers), "seconds": seconds}
