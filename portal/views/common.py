"""What every borrower page shares: who may see it, and the borrower it is about."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from accounts.permissions import require


def borrower_view(view: Callable) -> Callable:
    """Anonymous → the portal's sign-in; staff → 403; a borrower → the view with `request.borrower` set."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        require(request.user, "portal.use")
        borrower = getattr(request.user, "borrower_profile", None)
        if borrower is None:
            # A borrower-role user not linked to a borrower record (made by hand in the admin) has nothing to see.
            return render(request, "portal/unlinked.html")
        request.borrower = borrower
        return view(request, *args, **kwargs)

    return wrapper


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")
