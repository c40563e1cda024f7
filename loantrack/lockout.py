"""django-axes' lockout page, per sign-in form: wiring between the staff sign-in (accounts) and the portal's."""

from accounts.views import locked_out as staff_locked_out
from portal.views.access import locked_out as portal_locked_out


def locked_out(request, credentials=None, *args, **kwargs):
    if request.path.startswith("/portal/"):
        return portal_locked_out(request)
    return staff_locked_out(request, credentials, *args, **kwargs)
