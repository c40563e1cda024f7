"""Run `manage.py seed_demo` once per test module, as Django's TestCase does with setUpTestData.

Seeding builds the whole demo (users, applications, a post-loan book) and takes many seconds, so a seed test module
seeds inside a transaction that is rolled back at the module's end, and each test runs in a savepoint of it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Model
from django.test import override_settings

PROJECT_APPS = {"core", "accounts", "notifications", "applications", "postloan", "followups", "dashboard", "portal"}


def seed_demo() -> str:
    """Run the command and return what it printed."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts(*also: type[Model]) -> dict[str, int]:
    """Rows in every model of the project apps (their history tables included), and in `also`."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PROJECT_APPS or model in also
    ]
    return {model._meta.label: model._default_manager.count() for model in models}


@contextmanager
def module_transaction(django_db_blocker, media_root: Path) -> Iterator[None]:
    """Database access for a module-scoped fixture, in a transaction rolled back when the block ends.

    Uploaded files go to `media_root`; passwords are hashed with the fast hasher the per-test fixtures also use.
    """
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(media_root), PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)
