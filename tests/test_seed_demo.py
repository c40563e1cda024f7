"""`manage.py seed_demo`: the demo branches and people, loaded as often as you like without duplicating anything.

The module seeds once, and runs the command a second time after a demo user changed their password, inside a
transaction rolled back at its end (tests.seeding); each test runs in a savepoint of it.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django_celery_beat.models import PeriodicTask

from accounts.demo import DEMO_PASSWORD
from accounts.models import Branch, User
from accounts.roles import Role
from tests.seeding import module_transaction, row_counts, seed_demo

pytestmark = pytest.mark.django_db

CHANGED_PASSWORD = "Changed-Horse-43"


@dataclass(frozen=True)
class Seeded:
    output: str  # of the first run
    counts_after_first_run: dict[str, int]
    counts_before_second_run: dict[str, int]
    counts_after_second_run: dict[str, int]
    changed_password_kept: bool  # officer_bj's own password still worked after the second run


def counts() -> dict[str, int]:
    """Rows in every model of the project apps (their history tables included), role groups and group memberships."""
    return row_counts(Group, User.groups.through)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    with module_transaction(django_db_blocker, tmp_path_factory.mktemp("media")):
        output = seed_demo()
        counts_after_first_run = counts()
        officer = User.objects.get(username="officer_bj")
        demo_password_hash = officer.password
        officer.set_password(CHANGED_PASSWORD)
        officer.save(update_fields=["password"])
        counts_before_second_run = counts()

        seed_demo()

        counts_after_second_run = counts()
        officer.refresh_from_db()
        changed_password_kept = officer.check_password(CHANGED_PASSWORD)
        # Back to the demo password, as the first run left it, for the tests that sign in with it.
        User.objects.filter(pk=officer.pk).update(password=demo_password_hash)
        yield Seeded(
            output=output,
            counts_after_first_run=counts_after_first_run,
            counts_before_second_run=counts_before_second_run,
            counts_after_second_run=counts_after_second_run,
            changed_password_kept=changed_password_kept,
        )


def test_it_leaves_every_table_unchanged_when_run_twice(seeded):
    first = seeded.counts_after_first_run

    assert seeded.counts_after_second_run == seeded.counts_before_second_run
    assert "accounts.HistoricalUser" in first
    assert first["accounts.HistoricalUser"] >= 21
    # 21 staff-and-role demo users plus the portal borrowers (portal.demo), each in one group.
    assert first["accounts.User_groups"] == 21 + User.objects.filter(borrower_profile__isnull=False).count()


def test_it_does_not_overwrite_a_demo_users_new_password(seeded):
    assert seeded.changed_password_kept


def test_it_puts_the_demo_password_in_its_output(seeded):
    assert DEMO_PASSWORD in seeded.output


def test_it_creates_three_branches_with_hq_as_the_only_head_office(seeded):
    assert set(Branch.objects.values_list("code", flat=True)) == {"HQ", "BJ", "SH"}
    assert list(Branch.objects.filter(is_head_office=True).values_list("code", flat=True)) == ["HQ"]


def test_it_creates_one_user_per_role_per_branch_each_in_exactly_one_role_group(seeded):
    # Portal borrowers (portal.demo, signing in by mobile number) are tested in test_seed_demo_portal.py.
    users = User.objects.filter(borrower_profile__isnull=True).prefetch_related("groups")
    assert users.count() == 21
    for user in users:
        groups = [group.name for group in user.groups.all()]
        assert len(groups) == 1, user.username
        assert user.username.startswith(f"{groups[0]}_"), user.username
    for role in Role:
        assert users.filter(groups__name=role).count() == 3, role


def test_it_lets_every_demo_user_sign_in_with_the_demo_password(seeded):
    users = list(User.objects.all())
    assert len(users) == 21 + User.objects.filter(borrower_profile__isnull=False).count()
    assert all(user.is_active and user.check_password(DEMO_PASSWORD) for user in users)


def test_it_signs_a_demo_officer_in_through_the_sign_in_page(seeded, client):
    response = client.post("/login/", {"username": "officer_bj", "password": DEMO_PASSWORD}, follow=True)

    assert response.redirect_chain[-1] == ("/applications/", 302)
    assert response.status_code == 200


def test_it_keeps_borrowers_out_of_branches_and_gives_only_admins_the_django_admin(seeded):
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
