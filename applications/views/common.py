"""Helpers shared by the application views: the access check, the detail page's address and running one service.

Every view loads the application through `get_application_for_user` (403 for a role without the function, 404
outside the branch scope), validates a form, calls one service through `perform` and redirects back to the right tab.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import can, require

from .. import selectors
from ..forms import apply_service_errors
from ..models import Application, TransitionError


def get_application_for_user(
    request: HttpRequest, pk: int, action: str = "application.view", *, events: bool = True
) -> Application:
    """The one access check for applications: 403 for a role without `action`, 404 outside the branch scope.

    The application comes with everything its page shows (selectors.application_detail), so the page costs the same
    number of queries whatever its materials and events; `events=False` for a page that does not show the timeline.
    """
    require(request.user, action)
    try:
        return selectors.application_detail(user=request.user, pk=pk, events=events)
    except Application.DoesNotExist:
        raise Http404(_("No such application in your branch.")) from None


def is_assigned_officer(user, application: Application) -> bool:
    return application.officer_id == user.pk and can(user, "application.create")


def detail_url(application: Application, tab: str = "summary", anchor: str = "") -> str:
    url = f"{reverse('applications:detail', args=[application.pk])}?tab={tab}"
    return f"{url}#{anchor}" if anchor else url


def perform(
    request: HttpRequest,
    application: Application,
    action: Callable[[], object],
    *,
    success: str | Callable[[object], str],
    tab: str,
    anchor: str = "",
    form=None,
    form_name: str = "",
) -> HttpResponse:
    """Call one service and go back to the tab: its message on success, the reason when refused, never a 500.

    A ValidationError lands on the form (the page is shown again with status 400) or, for a button without a form,
    in an error message; a TransitionError (the state no longer allows it) is shown as it is and changes nothing.
    """
    try:
        result = action()
    except TransitionError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        if form is not None:
            # Imported here: detail.py imports this module.
            from .detail import render_detail

            apply_service_errors(form, error)
            return render_detail(request, application, tab=tab, status=400, forms={form_name: form})
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(detail_url(application, tab, anchor))
