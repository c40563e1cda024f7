"""Borrowers' inquiries (咨询), the reply library and satisfaction surveys (满意度调查).

Routing (tiered): progress and repayment questions go to the borrower's officer with a 4-working-hour target;
product and other questions to the officer with one working day; complaints to the branch manager with one working
day. Working hours are 09:00–18:00 on business days (core.dates), so a Friday 17:00 question with a 4-hour target
is due on Monday at 12:00, and "one working day" is nine working hours: the same time on the next business day.
"""

import string
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import has_role, holders_of, in_scope, require
from accounts.roles import Role
from applications.models import Application, Borrower, TransitionError
from applications.portal import require_owner
from core.dates import WORKDAY_HOURS, add_working_hours, date_text, working_minutes_between
from core.models import next_document_number
from core.money import format_yuan
from notifications.models import OutboxMessage
from notifications.services import message_queue
from postloan.models import Installment, InstallmentStatus, Loan
from postloan.models.loans import OPEN_LOAN_STATUSES

from ..models import FollowUp, FollowUpStatus
from ..models.inquiries import Inquiry, InquiryCategory, InquiryReply, InquiryStatus, ReplyTemplate, SatisfactionSurvey

C = InquiryCategory
# Reply targets in working hours, by category (the tiers).
TARGET_HOURS = {
    C.PROGRESS: 4,
    C.REPAYMENT: 4,
    C.PRODUCT: WORKDAY_HOURS,
    C.COMPLAINT: WORKDAY_HOURS,
    C.OTHER: WORKDAY_HOURS,
}
MAX_QUESTION = 2000
MAX_REPLY = 2000
MAX_COMMENT = 1000
# Who may be handed an inquiry.
REPLIER_ROLES = (Role.OFFICER, Role.RISK_OFFICER, Role.MANAGER)
# The borrower's follow-ups they may rate: completed (or approved) in the last this many days.
SURVEY_WINDOW_DAYS = 30


# --- routing -------------------------------------------------------------------------------------------------------
def _latest_application(borrower: Borrower) -> Application | None:
    return borrower.applications.select_related("officer", "branch").order_by("-created_at").first()


def _latest_loan(borrower: Borrower) -> Loan | None:
    return borrower.loans.select_related("officer", "branch").order_by("-disbursed_on", "-pk").first()


def _branch_manager(branch_id: int) -> User | None:
    """The branch's manager; head office's when the branch has none (a complaint must reach someone senior)."""
    managers = holders_of(Role.MANAGER).order_by("pk")
    return managers.filter(branch_id=branch_id).first() or managers.filter(branch__is_head_office=True).first()


def route(*, borrower: Borrower, category: str, application: Application | None, loan: Loan | None):
    """(assignee, branch) for a new inquiry. The officer is the one on what it is about: the loan for repayment
    questions, the application for progress questions, else whichever the borrower has most recently."""
    if category == C.REPAYMENT:
        subject = loan or _latest_loan(borrower) or application or _latest_application(borrower)
    else:
        subject = application or loan or _latest_application(borrower) or _latest_loan(borrower)
    officer = subject.officer if subject else borrower.created_by
    branch_id = subject.branch_id if subject else borrower.branch_id
    if category == C.COMPLAINT:
        return _branch_manager(branch_id) or officer, branch_id
    return officer, branch_id


# --- the borrower asks ---------------------------------------------------------------------------------------------
def inquiry_create(
    *,
    borrower: Borrower,
    by: User,
    category: str,
    question: str,
    application: Application | None = None,
    loan: Loan | None = None,
) -> Inquiry:
    """A borrower's question, routed and given its due time; the assignee hears of it by email."""
    require_owner(by, borrower.pk)
    errors = {}
    if category not in C.values:
        errors["category"] = _("Choose what your question is about.")
    question = (question or "").strip()
    if not question:
        errors["question"] = _("Write your question.")
    elif len(question) > MAX_QUESTION:
        errors["question"] = _("Please keep your question under %(count)s characters.") % {"count": MAX_QUESTION}
    if application is not None and application.borrower_id != borrower.pk:
        errors["application"] = _("Choose one of your applications.")
    if loan is not None and loan.borrower_id != borrower.pk:
        errors["loan"] = _("Choose one of your loans.")
    if errors:
        raise ValidationError(errors)
    assignee, branch_id = route(borrower=borrower, category=category, application=application, loan=loan)
    now = timezone.now()
    hours = TARGET_HOURS[category]
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            number=next_document_number("IQ", timezone.localdate(now).year),
            borrower=borrower,
            application=application,
            loan=loan,
            branch_id=branch_id,
            category=category,
            question=question,
            assignee=assignee,
            created_at=now,
            target_hours=hours,
            due_at=add_working_hours(now, hours),
        )
        _tell_assignee(inquiry, key=f"inquiry:{inquiry.pk}:assigned:{assignee.pk}")
    return inquiry


def _tell_assignee(inquiry: Inquiry, *, key: str) -> None:
    assignee = inquiry.assignee
    if not assignee.email:
        return
    with translation.override(assignee.preferred_language):
        due = date_format(timezone.localtime(inquiry.due_at), "DATETIME_FORMAT")
        category = str(InquiryCategory(inquiry.category).label)
    message_queue(
        key=key,
        channel=OutboxMessage.Channel.EMAIL,
        template="inquiry_assigned",
        to_address=assignee.email,
        context={"name": str(assignee), "number": inquiry.number, "category": category, "due": due},
        language=assignee.preferred_language,
        audience=OutboxMessage.Audience.STAFF,
        recipient=assignee,
    )


# --- staff reply ---------------------------------------------------------------------------------------------------
def _require_replier(user: User, inquiry: Inquiry) -> None:
    require(user, "inquiry.reply")
    if not in_scope(user, inquiry):
        raise PermissionDenied(_("This inquiry belongs to another branch."))
    if inquiry.assignee_id != user.pk and not has_role(user, Role.MANAGER):
        raise PermissionDenied(
            _("This inquiry is assigned to %(name)s; they or a manager reply.") % {"name": inquiry.assignee}
        )


def _next_installment(loan: Loan) -> Installment | None:
    return loan.current_installments().exclude(status=InstallmentStatus.PAID).first()


def _day_text(day: date | None, language: str) -> str:
    return date_text(day, language) if day else "—"


def placeholders(inquiry: Inquiry, language: str) -> dict[str, str]:
    """The values a reply template may use, in the borrower's language."""
    borrower = inquiry.borrower
    loan = inquiry.loan or (
        borrower.loans.filter(status__in=OPEN_LOAN_STATUSES).order_by("-disbursed_on").first()
        if inquiry.category == C.REPAYMENT
        else None
    )
    application = inquiry.application or _latest_application(borrower)
    officer = (loan or application).officer if (loan or application) else inquiry.assignee
    installment = _next_installment(loan) if loan else None
    return {
        "borrower_name": borrower.name,
        "officer_name": str(officer),
        "officer_phone": officer.phone or "—",
        "branch_name": (inquiry.branch.name_en or inquiry.branch.name) if language == "en" else inquiry.branch.name,
        "application_number": application.number if application else "—",
        "application_status": str(application.get_status_display()) if application else "—",
        "loan_number": loan.number if loan else "—",
        "next_due_date": _day_text(installment.due_date if installment else None, language),
        "next_due_amount": format_yuan(installment.outstanding) if installment else "—",
        "inquiry_number": inquiry.number,
    }


class _Blank(dict):
    def __missing__(self, key):  # an unknown placeholder stays visible for the officer to fix
        return "{" + key + "}"


def reply_fill(*, template: ReplyTemplate, inquiry: Inquiry) -> str:
    """The template's text in the borrower's language with its placeholders filled."""
    language = inquiry.borrower.message_language
    with translation.override(language):
        values = placeholders(inquiry, language)
    text = template.body_in(language)
    # string.Formatter with a forgiving mapping: a stray brace in the library must not break the reply page.
    try:
        return string.Formatter().vformat(text, (), _Blank(values))
    except (ValueError, IndexError):
        return text


def inquiry_reply(
    *,
    inquiry: Inquiry,
    by: User,
    text: str,
    template: ReplyTemplate | None = None,
    replies_seen: int | None = None,
) -> InquiryReply:
    """Reply to the borrower; the first reply answers the inquiry and records the response time.

    `replies_seen` is how many replies the replier's page showed: if another has been sent since (two clicks on
    "send", two colleagues at once), nothing is sent. The row lock makes such posts wait for each other.
    """
    _require_replier(by, inquiry)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the reply, or pick one from the library.")})
    if len(text) > MAX_REPLY:
        raise ValidationError({"text": _("Please keep the reply under %(count)s characters.") % {"count": MAX_REPLY}})
    now = timezone.now()
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update(of=("self",)).select_related("borrower__user").get(pk=inquiry.pk)
        if replies_seen is not None and locked.replies.count() != replies_seen:
            raise TransitionError(
                _("A reply was sent since this page was opened, so yours was not sent. Read it, then reply again.")
            )
        reply = InquiryReply.objects.create(inquiry=locked, author=by, text=text, template=template, created_at=now)
        if locked.status == InquiryStatus.OPEN:
            locked.status, locked.answered_at = InquiryStatus.ANSWERED, now
            locked.response_minutes = working_minutes_between(locked.created_at, now)
            locked.save(update_fields=["status", "answered_at", "response_minutes"])
        borrower = locked.borrower
        message_queue(
            key=f"inquiry:{locked.pk}:reply:{reply.pk}",
            channel=OutboxMessage.Channel.SMS,
            template="inquiry_answered",
            to_address=borrower.mobile,
            context={"name": borrower.name, "number": locked.number},
            language=borrower.message_language,
            audience=OutboxMessage.Audience.BORROWER,
            recipient=borrower.user,
        )
    inquiry.status, inquiry.answered_at, inquiry.response_minutes = (
        locked.status,
        locked.answered_at,
        locked.response_minutes,
    )
    return reply


@transaction.atomic
def inquiry_reassign(*, inquiry: Inquiry, by: User, assignee: User) -> Inquiry:
    """A manager hands an inquiry to a colleague of the branch; the due time stays what the borrower was promised."""
    require(by, "inquiry.reassign")
    if not in_scope(by, inquiry):
        raise PermissionDenied(_("This inquiry belongs to another branch."))
    if not (assignee.is_active and assignee.branch_id == inquiry.branch_id and has_role(assignee, *REPLIER_ROLES)):
        raise ValidationError({"assignee": _("Choose an officer, risk officer or manager of the inquiry's branch.")})
    locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if locked.status != InquiryStatus.OPEN:
        raise TransitionError(_("This inquiry has already been answered."))
    locked.assignee = assignee
    locked.save(update_fields=["assignee"])
    _tell_assignee(locked, key=f"inquiry:{locked.pk}:assigned:{assignee.pk}")
    return locked


# --- satisfaction surveys ------------------------------------------------------------------------------------------
def _clean_rating(rating, comment: str) -> tuple[int, str]:
    errors = {}
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        errors["rating"] = _("Choose from 1 to 5 stars.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("Please keep your comment under %(count)s characters.") % {"count": MAX_COMMENT}
    if errors:
        raise ValidationError(errors)
    return rating, comment


def _save_survey(**fields) -> SatisfactionSurvey:
    try:
        with transaction.atomic():
            return SatisfactionSurvey.objects.create(**fields)
    except IntegrityError as error:
        # Two taps on "send": the unique subject keeps one rating.
        raise TransitionError(_("You have already rated this. Thank you.")) from error


def inquiry_rate(*, inquiry: Inquiry, by: User, rating, comment: str = "") -> SatisfactionSurvey:
    """The borrower rates an answered inquiry, once; the rating goes to whoever first replied."""
    require_owner(by, inquiry.borrower_id)
    rating, comment = _clean_rating(rating, comment)
    if inquiry.status != InquiryStatus.ANSWERED:
        raise TransitionError(_("You can rate the reply once you have one."))
    first_reply = inquiry.replies.order_by("created_at", "pk").first()
    return _save_survey(
        borrower_id=inquiry.borrower_id,
        inquiry=inquiry,
        officer_id=first_reply.author_id if first_reply else inquiry.assignee_id,
        branch_id=inquiry.branch_id,
        channel=SatisfactionSurvey.Channel.INQUIRY,
        rating=rating,
        comment=comment,
    )


RATEABLE_FOLLOWUP_STATUSES = (FollowUpStatus.COMPLETED, FollowUpStatus.APPROVED)


def followup_rate(*, followup: FollowUp, by: User, rating, comment: str = "") -> SatisfactionSurvey:
    """The borrower rates a completed follow-up of their loan, once."""
    borrower_id = followup.loan.borrower_id if followup.loan_id else followup.application.borrower_id
    require_owner(by, borrower_id)
    rating, comment = _clean_rating(rating, comment)
    if followup.status not in RATEABLE_FOLLOWUP_STATUSES:
        raise TransitionError(_("You can rate a follow-up once it has taken place."))
    if followup.completed_at and followup.completed_at < timezone.now() - timedelta(days=SURVEY_WINDOW_DAYS):
        raise TransitionError(_("This follow-up was more than %(days)s days ago.") % {"days": SURVEY_WINDOW_DAYS})
    return _save_survey(
        borrower_id=borrower_id,
        followup=followup,
        officer_id=followup.completed_by_id or followup.officer_id,
        branch_id=followup.branch_id,
        channel=followup.channel or SatisfactionSurvey.Channel.PHONE,
        rating=rating,
        comment=comment,
    )
