"""Two rules for a signed-in borrower, applied to every request rather than trusted to each staff view:

- they reach only the portal (and the few shared pages below); any staff URL is 403 even if a view forgot a check;
- their session ends after 30 minutes without a request (the expiry slides with their requests, a minute at a time).
"""

import time

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.permissions import is_staff_member, roles_of
from accounts.roles import Role

# Shared with staff: the landing redirect, the language menu, sign-out, static files, the questionnaire link (which
# works without signing in) and the health check.
BORROWER_ALLOWED_PREFIXES = ("/portal/", "/static/", "/language/", "/logout/", "/followups/questionnaire/", "/healthz")
BORROWER_ALLOWED_EXACT = frozenset({"/", "/login/"})  # /login/ sends a signed-in person home


class BorrowerBoundaryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and Role.BORROWER in roles_of(user) and not is_staff_member(user):
            _slide_expiry(request.session)
            path = request.path_info
            if path not in BORROWER_ALLOWED_EXACT and not path.startswith(BORROWER_ALLOWED_PREFIXES):
                raise PermissionDenied(_("This page is for staff. Your pages are in the borrower portal."))
        return self.get_response(request)


# The idle expiry moves at most once a minute. Each move saves the session row: on every request, that write was a
# twelfth of the portal overview's queries. A borrower is signed out 29 to 30 minutes after their last request.
SLIDE_EVERY_SECONDS = 60
_ACTIVE_UNTIL = "portal_active_until"


def _slide_expiry(session) -> None:
    now = time.time()
    if session.get(_ACTIVE_UNTIL, 0) - now < settings.PORTAL_IDLE_SECONDS - SLIDE_EVERY_SECONDS:
        session[_ACTIVE_UNTIL] = now + settings.PORTAL_IDLE_SECONDS
        session.set_expiry(settings.PORTAL_IDLE_SECONDS)
