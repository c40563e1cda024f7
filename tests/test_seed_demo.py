"""`manage.py seed_demo`: the demo branches and people, loaded as often as you like without duplicating anything."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from accounts.demo import DEMO_PASSWORD
from accounts.models import Branch, User
from accounts.roles import Role

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"core", "accounts", "notifications", "applications", "postloan", "followups", "dashboard", "portal"}


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows in every model of the project apps (their history tables included), role groups and group memberships."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in PROJECT_APPS or model in (Group, User.groups.through)
    ]
    return {model._meta.label: model._default_manager.count() for model in models}


def test_it_leaves_every_table_unchanged_when_run_twice():
    seed_demo()
    first = row_counts()

    seed_demo()

    assert row_counts() == first
    assert "accounts.HistoricalUser" in first
    assert first["accounts.HistoricalUser"] >= 21
    assert first["accounts.User_groups"] == 21


def test_it_does_not_overwrite_a_demo_users_new_password():
    seed_demo()
    officer = User.objects.get(username="officer_bj")
    officer.set_password("Changed-Horse-43")
    officer.save(update_fields=["password"])

    seed_demo()

    officer.refresh_from_db()
    assert officer.check_password("Changed-Horse-43")


def test_it_puts_the_demo_password_in_its_output():
    assert DEMO_PASSWORD in seed_demo()


def test_it_creates_three_branches_with_hq_as_the_only_head_office():
    seed_demo()

    assert set(Branch.objects.values_list("code", flat=True)) == {"HQ", "BJ", "SH"}
    assert list(Branch.objects.filter(is_head_office=True).values_list("code", flat=True)) == ["HQ"]


def test_it_creates_one_user_per_role_per_branch_each_in_exactly_one_role_group():
    seed_demo()

    users = User.objects.prefetch_related("groups")
    assert users.count() == 21
    for user in users:
        groups = [group.name for group in user.groups.all()]
        assert len(groups) == 1, user.username
        assert user.username.startswith(f"{groups[0]}_"), user.username
    for role in Role:
        assert User.objects.filter(groups__name=role).count() == 3, role


def test_it_lets_every_demo_user_sign_in_with_the_demo_password():
    seed_demo()

    users = list(User.objects.all())
    assert len(users) == 21
    assert all(user.is_active and user.check_password(DEMO_PASSWORD) for user in users)


def test_it_signs_a_demo_officer_in_through_the_sign_in_page(client):
    seed_demo()

    response = client.post("/login/", {"username": "officer_bj", "password": DEMO_PASSWORD}, follow=True)

    assert response.redirect_chain[-1] == ("/applications/", 302)
    assert response.status_code == 200


def test_it_keeps_borrowers_out_of_branches_and_gives_only_admins_the_django_admin():
    seed_demo()

    assert not User.objects.filter(groups__name=Role.BORROWER, branch__isnull=False).exists()
    assert not User.objects.exclude(groups__name=Role.BORROWER).filter(branch__isnull=True).exists()
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == {
        "admin_hq",
        "admin_bj",
        "admin_sh",
    }


def test_it_has_the_outbox_sweep_scheduled_after_migrate():
    task = PeriodicTask.objects.get(name="notifications: send pending outbox messages")

    assert task.task == "notifications.tasks.sweep_outbox"
    assert task.queue == "notifications"
    assert task.enabled
    assert task.crontab.minute == "*"
    assert task.crontab.timezone.key == "Asia/Shanghai"
