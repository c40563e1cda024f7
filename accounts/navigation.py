"""Where each role lands after signing in, and the menu each role sees. URL names only: no imports of higher apps."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from .permissions import roles_of
from .roles import HOME_PRIORITY, Role

ROLE_HOME = {
    Role.OFFICER: "applications:list",
    Role.REVIEWER: "applications:review_queue",
    Role.APPROVER: "applications:approval_queue",
    Role.RISK_OFFICER: "followups:warnings",
    Role.MANAGER: "dashboard:home",
    Role.ADMIN: "notifications:outbox",
    Role.BORROWER: "portal:home",
}

# (role, label, url name); shown in this order to anyone holding the role.
# Staff see "Loans" (the borrower's portal keeps "My loans", a different page).
MENU = (
    (Role.OFFICER, _("My applications"), "applications:list"),
    (Role.OFFICER, _("Loans"), "postloan:list"),
    (Role.OFFICER, _("Overdue"), "postloan:overdue"),
    (Role.OFFICER, _("Follow-ups today"), "followups:today"),
    (Role.OFFICER, _("Inquiries"), "followups:inquiries"),
    (Role.REVIEWER, _("Initial review"), "applications:review_queue"),
    (Role.APPROVER, _("Approvals"), "applications:approval_queue"),
    (Role.APPROVER, _("Confirmations"), "postloan:confirmations"),
    (Role.RISK_OFFICER, _("Risk warnings"), "followups:warnings"),
    (Role.RISK_OFFICER, _("Follow-up reviews"), "followups:review_queue"),
    (Role.RISK_OFFICER, _("Loans"), "postloan:list"),
    (Role.RISK_OFFICER, _("Overdue"), "postloan:overdue"),
    (Role.RISK_OFFICER, _("Restructurings"), "postloan:restructuring_queue"),
    (Role.RISK_OFFICER, _("Inquiries"), "followups:inquiries"),
    (Role.RISK_OFFICER, _("Exports"), "dashboard:exports"),
    (Role.MANAGER, _("Dashboard"), "dashboard:home"),
    (Role.MANAGER, _("Loans"), "postloan:list"),
    (Role.MANAGER, _("Overdue"), "postloan:overdue"),
    (Role.MANAGER, _("Confirmations"), "postloan:confirmations"),
    (Role.MANAGER, _("Classification approvals"), "postloan:classification_queue"),
    (Role.MANAGER, _("Restructurings"), "postloan:restructuring_queue"),
    (Role.MANAGER, _("Follow-up team"), "followups:team"),
    (Role.MANAGER, _("Inquiries"), "followups:inquiries"),
    (Role.ADMIN, _("Message outbox"), "notifications:outbox"),
    (Role.ADMIN, _("Administration"), "admin:index"),
    (Role.BORROWER, _("My loans"), "portal:home"),
    (Role.BORROWER, _("Questions"), "portal:inquiries"),
    (Role.BORROWER, _("Messages"), "portal:messages"),
    (Role.BORROWER, _("Settings"), "portal:preferences"),
)


def home_url_for(user) -> str | None:
    """The landing page of the user's most senior role, or None for a user without any role."""
    roles = roles_of(user)
    for role in HOME_PRIORITY:
        if role in roles:
            return reverse(ROLE_HOME[role])
    return None


@functools.cache
def _menu_url(url_name: str, urlconf, prefix: str) -> str:
    """The menu's links, reversed once per process: every page shows up to ten, at 30 µs a reverse. The URL conf and
    the script prefix are in the key because reverse() depends on them."""
    return reverse(url_name, urlconf=urlconf)


def menu_for(user, current_path: str) -> list[dict]:
    roles = roles_of(user)
    items, seen = [], set()
    for role, label, url_name in MENU:
        # Django admin also needs is_staff: offer the link only where it opens.
        if url_name == "admin:index" and not user.is_staff:
            continue
        if role in roles and url_name not in seen:
            seen.add(url_name)
            url = _menu_url(url_name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
            items.append({"label": label, "url": url, "active": False})
    # Only the closest match is current: /loans/overdue/ is "Overdue", not also "Loans" (/loans/).
    matches = [item for item in items if current_path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return items
