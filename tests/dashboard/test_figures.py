"""Stored dashboard figures (dashboard.figures): a view reads them instead of aggregating the book, says when they were
computed, can compute them again on demand, and the beat task keeps every branch scope's default view ready."""

import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import figures
from dashboard.forms import DashboardFilterForm
from dashboard.tabs import FIGURES
from tests.applications.factories import RESIDENT_IDS, make_application, make_borrower

TABS = list(FIGURES)


@pytest.fixture(autouse=True)
def _storing_on(settings, monkeypatch):
    """Storing on, under keys no earlier run left in the shared Redis (a new test database reuses the same ids)."""
    settings.DASHBOARD_FIGURES_SECONDS = 600
    monkeypatch.setattr(figures, "FIGURES_VERSION", uuid.uuid4().hex)


def _url(tab: str) -> str:
    return reverse("dashboard:home") if tab == "pipeline" else reverse("dashboard:tab", args=[tab])


def _drafts(officer, count: int, identity: str) -> None:
    borrower = make_borrower(officer, number=identity, mobile="13700001111")
    for number in range(count):
        make_application(officer, borrower=borrower, amount=f"{10000 + number}.00")


def _total(client, **params) -> int:
    return client.get(_url("pipeline"), params).context["statuses"]["total"]


def test_a_view_shows_the_stored_figures_until_they_are_computed_again(client, staff):
    _drafts(staff["officer"], 2, RESIDENT_IDS[1])
    client.force_login(staff["manager"])
    first = client.get(_url("pipeline"))
    assert first.context["statuses"]["total"] == 2
    page = first.content.decode()
    assert 'data-testid="dashboard-computed"' in page and 'data-testid="dashboard-refresh"' in page

    _drafts(staff["officer"], 3, RESIDENT_IDS[2])
    assert _total(client) == 2  # stored: the new drafts wait for the next computation

    refreshed = client.post(reverse("dashboard:refresh", args=["pipeline"]), {"date_from": "", "product": ""})
    assert refreshed.status_code == 302 and refreshed["Location"] == _url("pipeline")
    assert _total(client) == 5


def test_the_refresh_keeps_the_filters_and_computes_only_that_scope(client, staff, branches):
    _drafts(staff["other_officer"], 2, RESIDENT_IDS[1])
    client.force_login(staff["hq_manager"])
    shanghai = {"branch": str(branches["SH"].pk)}
    assert _total(client, **shanghai) == 2 and _total(client) == 2
    _drafts(staff["other_officer"], 1, RESIDENT_IDS[2])
    response = client.post(reverse("dashboard:refresh", args=["pipeline"]), shanghai)
    assert response["Location"] == f"{_url('pipeline')}?branch={branches['SH'].pk}"
    assert (_total(client, **shanghai), _total(client)) == (3, 2)


def test_a_stored_view_runs_no_aggregate(client, staff):
    _drafts(staff["officer"], 2, RESIDENT_IDS[1])
    client.force_login(staff["hq_manager"])
    for tab in TABS:
        client.get(_url(tab))  # computes and stores
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_url(tab)).status_code == 200
        aggregates = [q["sql"] for q in captured if "COUNT(" in q["sql"] or "SUM(" in q["sql"]]
        assert aggregates == [], tab
        assert len(captured) <= 8, (tab, [q["sql"][:80] for q in captured])


def test_figures_are_stored_once_and_shown_in_the_viewers_language(client, staff):
    client.force_login(staff["hq_manager"])
    chinese = client.get(_url("pipeline"))
    assert "草稿" in chinese.content.decode()
    staff["hq_manager"].preferred_language = "en"
    staff["hq_manager"].save(update_fields=["preferred_language"])
    english = client.get(_url("pipeline"))
    assert english.context["computed_at"] == chinese.context["computed_at"]  # the same stored figures
    assert "Draft" in english.content.decode() and "草稿" not in english.content.decode()


def test_a_branch_manager_and_head_office_on_that_branch_get_their_own_figures(staff, branches):
    manager = DashboardFilterForm(None, user=staff["manager"]).scope()
    head_office = DashboardFilterForm({"branch": branches["BJ"].pk}, user=staff["hq_manager"]).scope()
    assert figures.figures_key("pipeline", manager) != figures.figures_key("pipeline", head_office)


def test_the_beat_task_computes_every_tab_of_each_branch_scope(staff):
    result = figures.figures_refresh_defaults()
    viewers = figures.default_viewers()
    assert result["scopes"] == len(viewers) >= 2  # head office and the Beijing branch at least
    assert {figures._visibility(user) for user in viewers} >= {"all", f"branch-{staff['manager'].branch_id}"}
    for user in viewers:
        scope = DashboardFilterForm(None, user=user).scope()
        for tab in TABS:
            assert isinstance(cache.get(figures.figures_key(tab, scope)), figures.StoredFigures), (user, tab)


def test_a_second_refresh_run_skips_while_one_is_running(staff):
    assert cache.add(figures._REFRESH_LOCK, True, timeout=60)
    try:
        assert figures.figures_refresh_defaults()["skipped"]
    finally:
        cache.delete(figures._REFRESH_LOCK)


def test_with_the_cache_down_the_page_still_shows_current_figures(client, staff):
    _drafts(staff["officer"], 2, RESIDENT_IDS[1])
    client.force_login(staff["manager"])
    with (
        mock.patch.object(figures.cache, "get", side_effect=ConnectionError("redis down")),
        mock.patch.object(figures.cache, "set", side_effect=ConnectionError("redis down")),
    ):
        response = client.get(_url("pipeline"))
    assert response.status_code == 200 and response.context["statuses"]["total"] == 2
    assert 'data-testid="dashboard-computed"' not in response.content.decode()  # nothing stored: nothing to date


def test_only_managers_may_refresh_and_only_by_post(client, staff):
    url = reverse("dashboard:refresh", args=["portfolio"])
    client.force_login(staff["officer"])
    assert client.post(url).status_code == 403
    client.force_login(staff["manager"])
    assert client.get(url).status_code == 405
    assert client.post(reverse("dashboard:refresh", args=["nonsense"])).status_code == 404
