"""The borrower's online questionnaire: a page reached by the signed link in the SMS (no sign-in), phone-first, in
plain words and in the borrower's language. It shows the checklist and posts the answers to `questionnaire_answer`;
an unknown, expired or already answered link shows what happened and what to do, never a form.

The portal can wrap the same page: it only needs the token.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from applications.forms import apply_service_errors

from .. import services
from ..models import OPEN_FOLLOWUP_STATUSES, Questionnaire
from ..review_forms import QuestionnaireForm


def _load(token: str) -> Questionnaire | None:
    return (
        Questionnaire.objects.select_related(
            "followup__loan__borrower__user",
            "followup__application__borrower__user",
            "followup__officer",
            "followup__question_set",
        )
        .filter(token=token)
        .first()
    )


def _language(questionnaire: Questionnaire | None) -> str:
    """The borrower's preferred language, or the site's when the borrower has no account."""
    if questionnaire is None:
        return translation.get_language() or settings.LANGUAGE_CODE
    followup = questionnaire.followup
    borrower = (followup.loan or followup.application).borrower
    return borrower.message_language


def _state(questionnaire: Questionnaire | None) -> str:
    """What the page shows: the form ("open"), or why there is none."""
    if questionnaire is None:
        return "invalid"
    if questionnaire.answered_at is not None:
        return "answered"
    if questionnaire.expires_at <= timezone.now():
        return "expired"
    if questionnaire.followup.status not in OPEN_FOLLOWUP_STATUSES:
        return "closed"
    return "open"


# Unknown link 404; expired or closed 410 (gone); the thanks after answering and the form 200 (400 with errors).
STATE_STATUS = {"invalid": 404, "expired": 410, "answered": 200, "closed": 410, "open": 200}


@never_cache
@require_http_methods(["GET", "POST"])
def questionnaire_answer(request: HttpRequest, token: str) -> HttpResponse:
    questionnaire = _load(token)
    with translation.override(_language(questionnaire)):
        state = _state(questionnaire)
        question_set = None
        if questionnaire is not None:
            followup = questionnaire.followup
            question_set = followup.question_set or services.active_question_set(followup.kind)
        form = QuestionnaireForm(request.POST or None, question_set=question_set) if state == "open" else None
        status = STATE_STATUS[state]
        if form is not None and request.method == "POST":
            if form.is_valid():
                try:
                    services.questionnaire_answer(token=token, answers=form.answers())
                except services.TransitionError as error:
                    # Answered, expired or recorded by the officer between the page and the post.
                    return render(
                        request,
                        "followups/questionnaire/answer.html",
                        {"questionnaire": questionnaire, "state": "refused", "refusal": str(error)},
                        status=410,
                    )
                except ValidationError as error:
                    apply_service_errors(form, error)
                else:
                    return redirect(reverse("followups:questionnaire_answer", args=[token]))
            status = 400
        return render(
            request,
            "followups/questionnaire/answer.html",
            {"questionnaire": questionnaire, "state": state, "form": form},
            status=status,
        )
