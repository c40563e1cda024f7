"""The outbox page for administrators: what LoanTrack sent, to whom, and what failed."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import action_required
from core.masking import mask_phone

from . import selectors, services
from .forms import OutboxFilterForm, TestMessageForm
from .models import OutboxMessage

PAGE_SIZE = 50


def _get_message_for_user(request: HttpRequest, pk: int) -> OutboxMessage:
    # The outbox is not branch-scoped: only administrators reach it, and they see every message.
    return get_object_or_404(OutboxMessage, pk=pk)


def _display_address(message: OutboxMessage) -> str:
    # Phone numbers are masked wherever they are listed (DESIGN.md section 7).
    return mask_phone(message.to_address) if message.channel == OutboxMessage.Channel.SMS else message.to_address


def _back_to_outbox(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:outbox")


def _render_outbox(request: HttpRequest, *, test_form: TestMessageForm | None = None, status: int = 200):
    filter_form = OutboxFilterForm(request.GET)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    page = Paginator(
        selectors.outbox_list(
            status=filters.get("status") or None,
            channel=filters.get("channel") or None,
            query=filters.get("q") or "",
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    counts = selectors.outbox_counts()
    context = {
        "filter_form": filter_form,
        "is_filtered": any(filters.values()),
        "page_obj": page,
        "status_counts": [(value, label, counts[value]) for value, label in OutboxMessage.Status.choices],
        "total_count": sum(counts.values()),
        "test_form": test_form or TestMessageForm(),
    }
    return render(request, "notifications/outbox.html", context, status=status)


@require_GET
@action_required("outbox.view")
def outbox(request: HttpRequest) -> HttpResponse:
    return _render_outbox(request)


@require_POST
@action_required("outbox.view")
def outbox_test(request: HttpRequest) -> HttpResponse:
    form = TestMessageForm(request.POST)
    if not form.is_valid():
        return _render_outbox(request, test_form=form, status=400)
    services.message_send_test(
        by=request.user, channel=form.cleaned_data["channel"], to_address=form.cleaned_data["to_address"]
    )
    messages.success(
        request,
        _("A test message to %(address)s is queued. It appears below; check that it arrives.")
        % {"address": form.cleaned_data["to_address"]},
    )
    return redirect(reverse("notifications:outbox"))


@require_POST
@action_required("outbox.view")
def outbox_retry(request: HttpRequest, pk: int) -> HttpResponse:
    message = _get_message_for_user(request, pk)
    if services.message_retry(message_id=message.pk):
        messages.success(
            request, _("The message to %(address)s will be sent again.") % {"address": _display_address(message)}
        )
    else:
        messages.warning(request, _("Only a failed message can be retried; this one is already being handled."))
    return _back_to_outbox(request)
