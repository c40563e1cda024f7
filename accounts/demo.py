"""Demo branches and one user per role per branch. All share DEMO_PASSWORD (listed in the README)."""

from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from core.seeding import upsert

from .models import Branch, User
from .roles import Role

DEMO_PASSWORD = "LoanTrack#2026"

BRANCHES = (
    # code, name, English name, head office
    ("HQ", "总行", "Head Office", True),
    ("BJ", "北京朝阳支行", "Beijing Chaoyang Branch", False),
    ("SH", "上海浦东支行", "Shanghai Pudong Branch", False),
)

# One family name per branch and one given name per role make readable, distinct demo people.
FAMILY_NAMES = {"HQ": "赵", "BJ": "王", "SH": "陈"}
GIVEN_NAMES = {
    Role.BORROWER: "建国",
    Role.OFFICER: "敏",
    Role.REVIEWER: "静",
    Role.APPROVER: "强",
    Role.RISK_OFFICER: "磊",
    Role.MANAGER: "芳",
    Role.ADMIN: "伟",
}
# Approvers approve up to their limit; managers take what is above every approver's limit (no limit of their own).
APPROVAL_LIMITS = {Role.APPROVER: Decimal("500000.00")}
# Distinct, valid-looking mobile numbers: 139 + branch digit + role digit + fixed tail.
BRANCH_DIGIT = {"HQ": "0", "BJ": "1", "SH": "2"}


def demo_username(role: str, branch_code: str) -> str:
    return f"{role}_{branch_code.lower()}"


def seed(*, stdout) -> None:
    branches = {}
    for code, name, name_en, head_office in BRANCHES:
        branches[code], _ = upsert(
            Branch, code=code, defaults={"name": name, "name_en": name_en, "is_head_office": head_office}
        )
    created = 0
    password_hash = ""
    for code, branch in branches.items():
        for index, role in enumerate(Role):
            user, was_created = upsert(
                User,
                username=demo_username(role, code),
                defaults={
                    "display_name": f"{FAMILY_NAMES[code]}{GIVEN_NAMES[role]}",
                    "email": f"{demo_username(role, code)}@demo.loantrack.local",
                    "phone": f"139{BRANCH_DIGIT[code]}{index}00{index}{BRANCH_DIGIT[code]}88",
                    # Borrowers belong to no branch: branch scope is for staff.
                    "branch": None if role == Role.BORROWER else branch,
                    "approval_limit": APPROVAL_LIMITS.get(role, Decimal("0.00")),
                    "is_staff": role == Role.ADMIN,
                },
            )
            if was_created:
                # One PBKDF2 hash for every demo user (they share the published password): hashing 21 times at full
                # strength was a third of `make run`'s seeding time.
                password_hash = password_hash or make_password(DEMO_PASSWORD)
                user.password = password_hash
                user.save(update_fields=["password"])
                created += 1
            user.groups.add(Group.objects.get(name=role))
    stdout.write(f"accounts: {len(branches)} branches, {created} new demo users (password {DEMO_PASSWORD}).")
