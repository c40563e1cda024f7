"""Risk warnings (风险预警) through the pages: the branch's open and acknowledged warnings by age with the breach flag,
and the warning's page with the follow-up it came from, the action history and the actions a risk officer takes:
acknowledge, resolve, extra follow-up, restructuring request, escalation to the manager, classification change.

Managers see the warnings (warning.view); risk officers handle them (warning.handle, checked by the services). Each
action is one form posted to its own URL; bad input re-renders the page with the form's errors (400), a refusal by
the warning's or the loan's state comes back as a message.
"""

from collections.abc import Callable

from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import action_required, can, scope
from core.pagination import counted_page
from postloan.forms import ClassificationProposeForm, RestructuringForm
from postloan.models import Loan
from postloan.views.common import PAGE_SIZE, perform

from .. import services
from ..models import RiskWarning, WarningAction, WarningStatus
from ..models.followups import RiskSignal
from ..review_forms import AcknowledgeForm, EscalateForm, ExtraFollowupForm, ResolveForm, WarningFilterForm
from ..services.warnings import annotate_ack_breach, warnings_queue


@require_GET
@action_required("warning.view")
def warning_list(request: HttpRequest) -> HttpResponse:
    """Open and acknowledged warnings of the branch, oldest first (by age), 25 a page, with counts and the breach
    flag; filtered to the open ones or those past their acknowledgement deadline."""
    now = timezone.now()
    form = WarningFilterForm(request.GET or None, user=request.user)
    queue = form.narrow(warnings_queue(user=request.user, now=now))
    counts = queue.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status=WarningStatus.OPEN)),
        breached=Count("pk", filter=Q(is_ack_breached=True)),
    )
    shown = form.cleaned_data.get("status") if form.is_valid() else ""
    listed = counts["total"]
    if shown == "open":
        queue, listed = queue.filter(status=WarningStatus.OPEN), counts["open"]
    elif shown == "breached":
        queue, listed = queue.filter(is_ack_breached=True), counts["breached"]
    # The page count comes from the counts above: no second COUNT of the same rows.
    page = counted_page(queue, count=listed, number=request.GET.get("page"), per_page=PAGE_SIZE)
    return render(
        request,
        "followups/warnings/list.html",
        {
            "page_obj": page,
            "counts": counts,
            "filter_form": form,
            "is_filtered": form.is_filtered,
            "shown": shown,
            "now": now,
        },
    )


def get_warning_for_user(request: HttpRequest, pk: int) -> RiskWarning:
    """The warning with its loan, the follow-up it came from and its actions; 404 outside the branch scope."""
    queryset = (
        scope(RiskWarning.objects.all(), request.user)
        .select_related(
            "loan__borrower",
            "loan__officer",
            "loan__product",
            "followup__officer",
            "followup__completed_by",
            "acknowledged_by",
            "resolved_by",
            "branch",
        )
        .prefetch_related(
            Prefetch("actions", queryset=WarningAction.objects.select_related("by"), to_attr="action_list")
        )
    )
    try:
        return get_object_or_404(annotate_ack_breach(queryset), pk=pk)
    except Http404:
        raise Http404(_("No such warning in your branch.")) from None


def warning_url(warning: RiskWarning, anchor: str = "") -> str:
    url = reverse("followups:warning", args=[warning.pk])
    return f"{url}#{anchor}" if anchor else url


def _forms(loan: Loan, bound: dict | None = None) -> dict:
    """Every action's form, unbound, with the one that was posted (and failed) in its place."""
    forms = {
        "acknowledge_form": AcknowledgeForm(),
        "resolve_form": ResolveForm(),
        "extra_form": ExtraFollowupForm(),
        "restructuring_form": RestructuringForm(loan=loan),
        "escalate_form": EscalateForm(),
        "classification_form": ClassificationProposeForm(loan=loan),
    }
    return forms | (bound or {})


def _render(request: HttpRequest, warning: RiskWarning, bound: dict | None = None, status: int = 200):
    user = request.user
    handling = warning.status != WarningStatus.RESOLVED
    may_handle = can(user, "warning.handle") and handling
    signal_labels = dict(RiskSignal.choices)
    context = {
        "warning": warning,
        "loan": warning.loan,
        "followup": warning.followup,
        "signals": [signal_labels.get(code, code) for code in warning.signals or []],
        "actions": warning.action_list,
        "may_handle": may_handle,
        "perms_review": can(user, "followup.review"),
        "may_acknowledge": may_handle and warning.status == WarningStatus.OPEN,
        "may_resolve": may_handle and warning.status == WarningStatus.ACKNOWLEDGED,
        "may_act": may_handle and warning.loan.is_open,
        "may_classify": may_handle and warning.loan.is_open and can(user, "classification.propose"),
        "may_restructure": may_handle and warning.loan.is_open and can(user, "restructuring.request"),
        **(_forms(warning.loan, bound) if may_handle else {}),
    }
    return render(request, "followups/warnings/detail.html", context, status=status)


@require_GET
@action_required("warning.view")
def warning_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, get_warning_for_user(request, pk))


# Each action: its form (built from the POST and the loan), its form's name in the page, its anchor, the service call
# from the cleaned data, and the message when it worked.
ACTIONS: dict[str, tuple[Callable, str, Callable, Callable]] = {
    "acknowledge": (
        lambda data, loan: AcknowledgeForm(data),
        "acknowledge_form",
        lambda warning, user, form: services.warning_acknowledge(warning=warning, by=user, **form.cleaned_data),
        lambda result: _("You acknowledged the warning; resolve it once the risk is dealt with."),
    ),
    "resolve": (
        lambda data, loan: ResolveForm(data),
        "resolve_form",
        lambda warning, user, form: services.warning_resolve(warning=warning, by=user, **form.cleaned_data),
        lambda result: _("The warning is resolved."),
    ),
    "extra_followup": (
        lambda data, loan: ExtraFollowupForm(data),
        "extra_form",
        lambda warning, user, form: services.warning_request_extra_followup(
            warning=warning, by=user, **form.cleaned_data
        ),
        lambda result: _("An extra follow-up is planned for the loan's officer."),
    ),
    "restructuring": (
        lambda data, loan: RestructuringForm(data, loan=loan),
        "restructuring_form",
        lambda warning, user, form: services.warning_request_restructuring(
            warning=warning, by=user, reason=form.cleaned_data["reason"], **form.options()
        ),
        lambda result: _("The restructuring request is filed. A risk officer approves it first, then a manager."),
    ),
    "escalate": (
        lambda data, loan: EscalateForm(data),
        "escalate_form",
        lambda warning, user, form: services.warning_escalate(warning=warning, by=user, **form.cleaned_data),
        lambda result: _("The branch manager is told about the warning."),
    ),
    "classification": (
        lambda data, loan: ClassificationProposeForm(data, loan=loan),
        "classification_form",
        lambda warning, user, form: services.warning_request_classification(
            warning=warning, by=user, **form.cleaned_data
        ),
        lambda result: _("Your classification change request waits for a manager's approval."),
    ),
}


@require_POST
@action_required("warning.handle")
def warning_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on the warning; the services check the branch, the warning's state and the loan's."""
    if action not in ACTIONS:
        raise Http404(_("No such action."))
    make_form, form_name, call, success = ACTIONS[action]
    warning = get_warning_for_user(request, pk)
    form = make_form(request.POST, warning.loan)
    if form.is_valid():
        worked, _result = perform(request, lambda: call(warning, request.user, form), success=success, form=form)
        if worked or not form.errors:
            return redirect(warning_url(warning, "actions" if worked else ""))
    if warning.status == WarningStatus.RESOLVED:
        return redirect(warning_url(warning))
    return _render(request, warning, {form_name: form}, status=400)
