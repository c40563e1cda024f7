"""The roles of DESIGN.md section 1. Each role is a Django group of the same name, created by migration."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BORROWER = "borrower", _("Borrower")
    OFFICER = "officer", _("Loan officer")
    REVIEWER = "reviewer", _("Reviewer")
    APPROVER = "approver", _("Approver")
    RISK_OFFICER = "risk_officer", _("Risk officer")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset(Role) - {Role.BORROWER}

# When a person holds several roles, the first one in this order decides where they land after signing in.
HOME_PRIORITY = (
    Role.ADMIN,
    Role.MANAGER,
    Role.RISK_OFFICER,
    Role.APPROVER,
    Role.REVIEWER,
    Role.OFFICER,
    Role.BORROWER,
)
