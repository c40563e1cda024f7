"""Borrowers' inquiries (咨询) on the staff side: the branch's inbox and an inquiry's page, where the assignee (or a
manager) replies, free text or from the reply library, and a manager hands the inquiry to a colleague.

The lending staff of the branch read (inquiry.view: 403 without it, 404 outside the branch); the services decide who
may reply or reassign, and their refusals come back as messages. A reply form carries the number of replies the page
showed: when it no longer matches (a second click on "Send", or a colleague's reply meanwhile) nothing is sent.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import action_required, can, has_role, require, sees_all_branches
from accounts.roles import Role
from postloan.views.common import PAGE_SIZE, perform

from .. import selectors
from ..inquiry_forms import InquiryFilterForm, InquiryReassignForm, ReplyForm
from ..models import Inquiry, InquiryStatus
from ..services.inquiries import inquiry_reassign, inquiry_reply, reply_fill

# What an inbox row and the inquiry's page show, joined up front.
INBOX_RELATED = ("borrower", "assignee", "branch")
DETAIL_RELATED = ("borrower__user", "assignee", "branch", "application", "loan")


def response_time(minutes: int | None) -> str:
    """Working time to the first reply, as people read it: "45 min", "3 h 20 min"."""
    if minutes is None:
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)s min") % {"minutes": rest}
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}


# --- the inbox ----------------------------------------------------------------------------------------------------
@require_http_methods(["GET"])
@action_required("inquiry.view")
def inquiry_inbox(request: HttpRequest) -> HttpResponse:
    """The branch's inquiries (every branch's for head office), the open ones by default, soonest due first."""
    now = timezone.now()
    form = InquiryFilterForm(request.GET or None, user=request.user)
    queryset = form.apply(selectors.inquiries_for(request.user), now=now)
    queryset = queryset.select_related(*INBOX_RELATED).order_by("due_at", "pk")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for inquiry in page.object_list:
        inquiry.response_text = response_time(inquiry.response_minutes)
    return render(
        request,
        "followups/inquiries/inbox.html",
        {
            "form": form,
            "page_obj": page,
            "is_filtered": form.is_filtered,
            "show_branch": sees_all_branches(request.user),
            "now": now,
        },
    )


# --- one inquiry --------------------------------------------------------------------------------------------------
def get_inquiry_for_user(request: HttpRequest, pk: int, action: str = "inquiry.view") -> Inquiry:
    """The one access check for inquiries: 403 for a role without `action`, 404 outside the branch scope."""
    require(request.user, action)
    try:
        return selectors.inquiries_for(request.user).select_related(*DETAIL_RELATED).get(pk=pk)
    except Inquiry.DoesNotExist:
        raise Http404(_("No such inquiry in your branch.")) from None


def inquiry_url(inquiry: Inquiry, anchor: str = "") -> str:
    url = reverse("followups:inquiry", args=[inquiry.pk])
    return f"{url}#{anchor}" if anchor else url


def may_reply(user, inquiry: Inquiry) -> bool:
    """Whether the page offers the reply form (the service decides again when it is sent)."""
    return can(user, "inquiry.reply", inquiry) and (inquiry.assignee_id == user.pk or has_role(user, Role.MANAGER))


def _render(
    request: HttpRequest,
    inquiry: Inquiry,
    *,
    reply_form: ReplyForm | None = None,
    reassign_form: InquiryReassignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    replies = list(selectors.inquiry_replies(inquiry))
    replying = may_reply(user, inquiry)
    reassigning = can(user, "inquiry.reassign", inquiry) and inquiry.status == InquiryStatus.OPEN
    if replying and reply_form is None:
        reply_form = ReplyForm(inquiry=inquiry, initial={"replies_seen": len(replies)})
    if reassigning and reassign_form is None:
        reassign_form = InquiryReassignForm(inquiry=inquiry)
    context = {
        "inquiry": inquiry,
        "borrower": inquiry.borrower,
        "replies": replies,
        "may_reply": replying,
        "reply_form": reply_form if replying else None,
        "may_reassign": reassigning,
        "reassign_form": reassign_form if reassigning else None,
        "response_text": response_time(inquiry.response_minutes),
    }
    return render(request, "followups/inquiries/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@action_required("inquiry.view")
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The inquiry with its replies; POST either fills the text from the library ("use_template", nothing is sent)
    or sends the reply."""
    inquiry = get_inquiry_for_user(request, pk)
    if request.method == "GET":
        return _render(request, inquiry)
    require(request.user, "inquiry.reply")
    form = ReplyForm(request.POST, inquiry=inquiry)
    if "use_template" in request.POST:
        return _use_template(request, inquiry, form)
    if not form.is_valid():
        return _render(request, inquiry, reply_form=form, status=400)
    return _send(request, inquiry, form)


def _use_template(request: HttpRequest, inquiry: Inquiry, form: ReplyForm) -> HttpResponse:
    """The chosen reply, filled in the borrower's language, in the text box; the officer edits it and sends."""
    form.is_valid()  # cleans the fields that are right; the template's absence is the one error that matters here
    template = form.cleaned_data.get("template")
    if template is None:
        form.add_error("template", _("Choose a reply from the library first."))
        status = 400
    else:
        seen = form.cleaned_data.get("replies_seen")
        form = ReplyForm(
            inquiry=inquiry,
            initial={
                "template": template,
                "text": reply_fill(template=template, inquiry=inquiry),
                "replies_seen": inquiry.replies.count() if seen is None else seen,
            },
        )
        status = 200
    if request.headers.get("HX-Request"):
        return render(
            request, "followups/inquiries/_reply_fields.html", {"inquiry": inquiry, "reply_form": form}, status=status
        )
    return _render(request, inquiry, reply_form=form, status=status)


def _send(request: HttpRequest, inquiry: Inquiry, form: ReplyForm) -> HttpResponse:
    data = form.cleaned_data
    worked, _reply = perform(
        request,
        lambda: inquiry_reply(
            inquiry=inquiry,
            by=request.user,
            text=data["text"],
            template=data.get("template"),
            replies_seen=data["replies_seen"],
        ),
        success=_("Your reply is sent; the borrower gets an SMS telling them to read it on the portal."),
        form=form,
    )
    if worked or not form.errors:
        return redirect(inquiry_url(inquiry, "replies"))
    return _render(request, inquiry, reply_form=form, status=400)


@require_POST
@action_required("inquiry.reassign")
def inquiry_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager hands an open inquiry to an officer, risk officer or manager of its branch."""
    inquiry = get_inquiry_for_user(request, pk, action="inquiry.reassign")
    form = InquiryReassignForm(request.POST, inquiry=inquiry)
    if not form.is_valid():
        messages.error(request, _("Choose an officer, risk officer or manager of the inquiry's branch."))
    else:
        assignee = form.cleaned_data["assignee"]
        perform(
            request,
            lambda: inquiry_reassign(inquiry=inquiry, by=request.user, assignee=assignee),
            success=_("The inquiry is now assigned to %(name)s; the reply is still due by the promised time.")
            % {"name": assignee},
        )
    return redirect(inquiry_url(inquiry))
