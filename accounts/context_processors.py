from django.conf import settings

from .navigation import menu_for
from .permissions import roles_of
from .roles import Role


def navigation(request) -> dict:
    """The menu for the signed-in user's roles, their role labels and the app version for the footer."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role_labels": [], "app_version": settings.VERSION, "is_borrower": False}
    roles = roles_of(user)
    return {
        # A borrower's menu, settings and sign-out are the portal's.
        "is_borrower": roles == {Role.BORROWER},
        "nav_items": menu_for(user, request.path),
        "user_role_labels": [role.label for role in Role if role in roles],
        "app_version": settings.VERSION,
    }
