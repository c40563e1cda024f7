"""Talking with the lender: inquiries (咨询) and their replies, satisfaction ratings, online follow-up
questionnaires, contact preferences and the password."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications import portal as application_services
from applications.forms import apply_service_errors
from core.ratelimit import allow
from followups import services as followup_services
from followups.models import OPEN_FOLLOWUP_STATUSES
from followups.review_forms import QuestionnaireForm
from followups.services import inquiries as inquiry_services
from postloan.views.common import perform

from .. import selectors
from ..forms import InquiryForm, PreferencesForm, RatingForm
from .common import borrower_view

# New inquiries per borrower per hour: plenty for a person, a stop for a stuck button or a script.
INQUIRY_LIMIT = (5, 60 * 60)


def _inquiry_form(request: HttpRequest, data=None) -> InquiryForm:
    borrower = request.borrower
    return InquiryForm(
        data,
        applications=list(selectors.my_applications(borrower).exclude(status="disbursed")),
        loans=list(selectors.my_loans(borrower)),
        initial={"category": request.GET.get("category", ""), "about": request.GET.get("about", "")},
    )


@require_http_methods(["GET", "POST"])
@borrower_view
def inquiry_list(request: HttpRequest) -> HttpResponse:
    """The borrower's questions with the promised reply time and the replies, and the form to ask a new one."""
    form = _inquiry_form(request, request.POST or None)
    status = 200
    if request.method == "POST":
        if not allow(
            "portal-inquiry", str(request.borrower.pk), limit=INQUIRY_LIMIT[0], window_seconds=INQUIRY_LIMIT[1]
        ):
            messages.error(
                request, _("You have sent several questions in the last hour. Please wait for our reply first.")
            )
            return redirect("portal:inquiries")
        if form.is_valid():
            worked, inquiry = perform(
                request,
                lambda: inquiry_services.inquiry_create(
                    borrower=request.borrower,
                    by=request.user,
                    category=form.cleaned_data["category"],
                    question=form.cleaned_data["question"],
                    **form.subject(),
                ),
                success=None,
                form=form,
            )
            if worked:
                messages.success(
                    request, _("Thank you. Your question %(number)s is sent.") % {"number": inquiry.number}
                )
                return redirect("portal:inquiry", inquiry.pk)
        status = 400
    inquiries = list(selectors.my_inquiries(request.borrower)[:50])
    return render(request, "portal/inquiries.html", {"form": form, "inquiries": inquiries}, status=status)


@require_GET
@borrower_view
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = selectors.my_inquiry(request.borrower, pk)
    rating_form = RatingForm() if inquiry.status == "answered" and not hasattr(inquiry, "survey") else None
    return render(request, "portal/inquiry.html", {"inquiry": inquiry, "rating_form": rating_form})


def _rate(request: HttpRequest, rate, *, back: str, back_args=()) -> HttpResponse:
    form = RatingForm(request.POST)
    if form.is_valid():
        perform(
            request,
            lambda: rate(rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]),
            success=_("Thank you for your rating."),
        )
    else:
        messages.error(request, _("Choose from 1 to 5 stars."))
    return redirect(back, *back_args)


@require_POST
@borrower_view
def inquiry_rate(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = selectors.my_inquiry(request.borrower, pk)
    return _rate(
        request,
        lambda **answer: inquiry_services.inquiry_rate(inquiry=inquiry, by=request.user, **answer),
        back="portal:inquiry",
        back_args=(inquiry.pk,),
    )


@require_http_methods(["GET", "POST"])
@borrower_view
def followup_rate(request: HttpRequest, pk: int) -> HttpResponse:
    followup = selectors.my_followup_to_rate(request.borrower, pk)
    if request.method == "POST":
        return _rate(
            request,
            lambda **answer: inquiry_services.followup_rate(followup=followup, by=request.user, **answer),
            back="portal:home",
        )
    return render(
        request,
        "portal/followup_rate.html",
        {"followup": followup, "form": RatingForm(), "already": hasattr(followup, "survey")},
    )


@require_http_methods(["GET", "POST"])
@borrower_view
def questionnaire(request: HttpRequest, pk: int) -> HttpResponse:
    """The online follow-up questionnaire inside the portal; the answers complete the follow-up for staff."""
    item = selectors.my_questionnaire(request.borrower, pk)
    followup = item.followup
    question_set = followup.question_set or followup_services.active_question_set(followup.kind)
    answerable = (
        item.answered_at is None and item.expires_at > timezone.now() and followup.status in OPEN_FOLLOWUP_STATUSES
    )
    form = QuestionnaireForm(request.POST or None, question_set=question_set) if answerable else None
    if form is not None and request.method == "POST":
        if form.is_valid():
            try:
                followup_services.questionnaire_answer(token=item.token, answers=form.answers())
            except followup_services.TransitionError as error:
                messages.error(request, str(error))
                return redirect("portal:home")
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Thank you. Your answers are sent to your loan officer."))
                return redirect("portal:home")
        return render(request, "portal/questionnaire.html", {"item": item, "form": form}, status=400)
    return render(request, "portal/questionnaire.html", {"item": item, "form": form})


@require_http_methods(["GET", "POST"])
@borrower_view
def preferences(request: HttpRequest) -> HttpResponse:
    borrower = request.borrower
    initial = {
        "language": request.user.preferred_language,
        "sms_reminders": borrower.sms_reminders,
        "email_reminders": borrower.email_reminders,
        "contact_from_hour": borrower.contact_from_hour,
        "contact_to_hour": borrower.contact_to_hour,
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        worked, _result = perform(
            request,
            lambda: application_services.contact_preferences_save(
                borrower=borrower, by=request.user, **form.cleaned_data
            ),
            success=_("Your preferences are saved."),
            form=form,
        )
        if worked:
            return redirect("portal:preferences")
    return render(
        request,
        "portal/preferences.html",
        {"form": form, "borrower": borrower},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
@borrower_view
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed."))
        return redirect("portal:preferences")
    return render(request, "portal/password_change.html", {"form": form}, status=400 if form.errors else 200)
