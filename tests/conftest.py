"""Shared fixtures: branches, one user per role, and the rule that CI never skips a test for a missing service."""

import os

import pytest
from celery._state import _set_task_join_will_block
from django.contrib.auth.models import Group

from accounts.models import Branch, User
from accounts.roles import Role
from loantrack.celery import app as celery_app

REQUIRE_SERVICES = os.environ.get("LOANTRACK_REQUIRE_SERVICES") == "1"
TEST_PASSWORD = "Correct-Horse-42"


def require_service(available: bool, reason: str) -> None:
    """Skip when a service or the browser is missing locally; fail instead where CI demands them."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"LOANTRACK_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness costs ~0.3 s per user created; tests don't need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded materials go to a per-test folder, never into var/media of a developer's running demo."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _dashboard_figures_live(settings):
    """Dashboards compute their figures on every view: a test that adds rows and looks again must see them, and test
    processes share Redis. tests/dashboard/test_figures.py turns storing on."""
    settings.DASHBOARD_FIGURES_SECONDS = 0


@pytest.fixture(autouse=True)
def _celery_eager():
    """Tasks run inline unless a test starts a real worker (tests/test_celery_worker.py)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    # A real worker started by an earlier test in this process (tests/test_celery_worker.py) leaves Celery's global
    # "inside a worker" flag set, and then every eager result.get() refuses to run.
    _set_task_join_will_block(False)
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def branches(db):
    hq = Branch.objects.create(code="HQ", name="总行", name_en="Head Office", is_head_office=True)
    bj = Branch.objects.create(code="BJ", name="北京朝阳支行", name_en="Beijing Chaoyang Branch")
    sh = Branch.objects.create(code="SH", name="上海浦东支行", name_en="Shanghai Pudong Branch")
    return {"HQ": hq, "BJ": bj, "SH": sh}


@pytest.fixture
def make_user(db):
    def make(username: str, *roles: str, branch: Branch | None = None, **fields) -> User:
        user = User.objects.create_user(username=username, password=TEST_PASSWORD, branch=branch, **fields)
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        return user

    return make


@pytest.fixture
def role_users(branches, make_user):
    """One user per role in the Beijing branch (borrowers have no branch)."""
    return {
        role: make_user(
            f"{role}_test",
            role,
            branch=None if role == Role.BORROWER else branches["BJ"],
            is_staff=role == Role.ADMIN,  # Django admin needs the flag, as seed_demo sets it
        )
        for role in Role
    }


@pytest.fixture
def reply_library(db):
    """The starting reply library, as its data migration writes it. A transactional test (the browser journeys)
    flushes the tables, data migrations' rows included, so tests that need the library stock it themselves."""
    import importlib

    from django.apps import apps

    importlib.import_module("followups.migrations.0003_reply_library").create_library(apps, None)
