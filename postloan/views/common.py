"""Helpers shared by the post-loan views: the access checks, one per model, and running one service.

Every view loads its loan or contract through `get_loan_for_user` / `get_contract_for_user` (403 for a role without
the function, 404 outside the branch scope), validates a form, calls one service through `perform` and redirects.
"""

from collections.abc import Callable
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import require

from .. import selectors
from ..forms import apply_service_errors
from ..models import Contract, Loan, TransitionError

PAGE_SIZE = 25


# What the loan's smaller pages show beside it.
LOAN_PAGE_RELATED = ("borrower", "officer", "branch", "product")


def get_loan_for_user(
    request: HttpRequest,
    pk: int,
    action: str = "loan.view",
    *,
    detail: bool = False,
    tab: str = "schedule",
    today: date | None = None,
    related: tuple[str, ...] = LOAN_PAGE_RELATED,
) -> Loan:
    """The one access check for loans: 403 for a role without `action`, 404 outside the branch scope.

    With `detail`, the loan comes with everything its page shows on `tab` (selectors.loan_detail); else with the
    `related` rows joined. A posting that shows nothing passes none: at 1M loans the four joins made this read take
    3.2 ms instead of 0.6 ms (docs/performance.md, session 10).
    """
    require(request.user, action)
    if detail:
        return selectors.loan_detail(request.user, pk, tab=tab, today=today)
    loans = selectors.loans_for(request.user)
    if related:  # select_related() with no names would join every non-null foreign key, recursively
        loans = loans.select_related(*related)
    try:
        return loans.get(pk=pk)
    except Loan.DoesNotExist:
        raise Http404(_("No such loan in your branch.")) from None


def get_contract_for_user(request: HttpRequest, pk: int, action: str = "loan.view") -> Contract:
    """The one access check for contracts (and their disbursement): 403 for the role, 404 outside the scope."""
    require(request.user, action)
    return selectors.contract_detail(request.user, pk)


def loan_url(loan: Loan, tab: str = "", anchor: str = "") -> str:
    url = reverse("postloan:detail", args=[loan.pk])
    if tab:
        url = f"{url}?tab={tab}"
    return f"{url}#{anchor}" if anchor else url


def perform(request: HttpRequest, action: Callable[[], object], *, success, form=None) -> tuple[bool, object]:
    """Call one service: its message on success, the reason as a message when refused, never a 500.

    A ValidationError lands on the form when there is one (the caller shows the page again), else in a message;
    a TransitionError or a refusal by the maker-checker rule (PermissionDenied) is shown as it is. Returns whether it
    worked and the service's result.
    """
    try:
        result = action()
    except (TransitionError, PermissionDenied) as error:
        messages.error(request, str(error) or _("Your role does not allow this."))
    except ValidationError as error:
        if form is not None:
            apply_service_errors(form, error)
        else:
            messages.error(request, " ".join(error.messages))
    else:
        if success:
            messages.success(request, success(result) if callable(success) else success)
        return True, result
    return False, None
