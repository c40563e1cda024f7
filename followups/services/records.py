"""Doing a follow-up (issue 6): the record, failed contact attempts, the risk officer's review, amendments, visit
photos, the online questionnaire, and the pre-loan contacts (verification call, consultation) of an application.

Rules, all enforced here:
- the assigned officer records a follow-up (a manager reassigns it to someone else); a reviewer may also make and
  record the verification call or consultation they planned on an application in initial review;
- planned or returned → completed (submitted for review) → approved, or → returned → completed again; a risk officer
  who did not write the record reviews it (maker-checker); an approved record never changes again, corrections are
  amendments kept beside it;
- answers are checked against the active question set of the kind and the set used is stored with them; the person
  contacted must be the borrower or one of the loan's parties of that role (the contract's snapshot);
- each failed attempt is logged with its time (flagged outside 08:00–21:00 Shanghai) and moves the follow-up to the
  next business day; the third raises `lost contact` once;
- a record with a high risk level or any risk signal opens a risk warning (followups.services.warnings).

Refusals raise PermissionDenied, TransitionError (the state no longer allows it) or ValidationError (messages per
field; an answer's field is `answer_field(code)`), and change nothing. State changes are conditional updates.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can, in_scope, require
from applications.models import Application, ApplicationEvent, ApplicationStatus, TransitionError
from applications.uploads import check_upload
from core.dates import SHANGHAI, add_business_days, date_text, local_today
from notifications.models import OutboxMessage
from notifications.services import message_queue
from postloan.models import LoanEvent
from postloan.models.base import record_history
from postloan.services.common import loan_event

from ..models import (
    OPEN_FOLLOWUP_STATUSES,
    ContactAttempt,
    FollowUp,
    FollowUpAmendment,
    FollowUpKind,
    FollowUpPhoto,
    FollowUpStatus,
    Question,
    Questionnaire,
    QuestionSet,
)
from ..models.followups import APPLICATION_KINDS, Channel, RepaymentAbility, RiskLevel, RiskSignal, Subject, Willingness

Status = FollowUpStatus
LOST_CONTACT_AFTER = 3
# Calls outside these Shanghai hours are flagged as outside reasonable hours (both ends inclusive).
REASONABLE_HOURS = (time(8, 0), time(21, 0))
QUESTIONNAIRE_VALID_DAYS = 7
QUESTIONNAIRE_TEMPLATE = "followup_questionnaire"
MAX_TEXT = 4000
MAX_ANSWER_TEXT = 2000
# Long dates as borrowers read them: 2026年3月15日, or 15 March 2026 in English (as the repayment reminders).


# --- shared checks ------------------------------------------------------------------------------------------------
def answer_field(code: str) -> str:
    """The field name that a question's answer (and its error message) goes by, e.g. `q_income_change`."""
    return f"q_{code}"


def _require_in_scope(user: User, followup: FollowUp) -> None:
    if not in_scope(user, followup):
        raise PermissionDenied(_("This follow-up belongs to another branch."))


def _require_recorder(user: User, followup: FollowUp) -> None:
    """The assigned officer records a follow-up; a pre-loan contact may be assigned to the reviewer who planned it."""
    if followup.kind in APPLICATION_KINDS:
        if not (can(user, "followup.record") or can(user, "review.initial")):
            raise PermissionDenied(_("Your role does not allow this."))
    else:
        require(user, "followup.record")
    _require_in_scope(user, followup)
    if followup.officer_id != user.pk:
        raise PermissionDenied(
            _("Only the assigned officer, %(name)s, may record this follow-up; a manager can reassign it.")
            % {"name": followup.officer}
        )


def _refuse_unless(followup: FollowUp, allowed: tuple[str, ...]) -> None:
    if followup.status in allowed:
        return
    if followup.status == Status.APPROVED:
        raise TransitionError(
            _("This follow-up record has been approved and can no longer be changed; add an amendment instead.")
        )
    raise TransitionError(
        _("This is not possible while the follow-up is “%(status)s”.") % {"status": followup.get_status_display()}
    )


def _lock(followup: FollowUp) -> FollowUp:
    """The follow-up row, locked until commit: two people acting on one follow-up go one after the other."""
    return FollowUp.objects.select_for_update().get(pk=followup.pk)


def _changed(followup: FollowUp, by: User | None, from_status: str, **changes) -> None:
    """Apply `changes` if the status is still `from_status`; zero rows means someone else changed it first."""
    now = timezone.now()
    updated = FollowUp.objects.filter(pk=followup.pk, status=from_status).update(updated_at=now, **changes)
    if not updated:
        raise TransitionError(_("Someone else has just changed this follow-up. Nothing was saved."))
    expressions = [name for name, value in changes.items() if hasattr(value, "resolve_expression")]
    for name, value in changes.items():
        if name not in expressions:
            setattr(followup, name, value)
    if expressions:
        followup.refresh_from_db(fields=expressions)
    followup.updated_at = now
    record_history(followup, by)


def _text(value: str | None, max_length: int = MAX_TEXT) -> str:
    return (value or "").strip()[:max_length]


def _too_long(errors: dict, field: str, value: str, max_length: int) -> None:
    if len(value) > max_length:
        errors.setdefault(field, []).append(_("At most %(count)s characters, please.") % {"count": max_length})


def _borrower_of(followup: FollowUp):
    return followup.loan.borrower if followup.loan_id else followup.application.borrower


def _parties_of(followup: FollowUp) -> list[dict]:
    """The related parties a record may name: the contract's snapshot for a loan, the application's for a contact."""
    if followup.loan_id:
        return list(followup.loan.contract.parties or [])
    return [{"role": party.role, "name": party.name} for party in followup.application.parties.all()]


def _date_text(day: date, language: str) -> str:
    return date_text(day, language)


# --- answers ------------------------------------------------------------------------------------------------------
def active_question_set(kind: str) -> QuestionSet | None:
    """The checklist new records of a kind are made with (its questions prefetched), or None if there is none."""
    return QuestionSet.objects.filter(kind=kind, is_active=True).prefetch_related("questions").first()


def _clean_answer(question: Question, value) -> tuple[object, str]:
    """(the stored value, "") or (None, an error message); `None` or a blank string is no answer."""
    if question.answer_type == Question.AnswerType.YES_NO:
        if isinstance(value, bool):
            return value, ""
        if isinstance(value, str) and value.strip().lower() in ("yes", "no", "true", "false"):
            return value.strip().lower() in ("yes", "true"), ""
        return None, _("Answer yes or no.")
    if question.answer_type == Question.AnswerType.CHOICE:
        allowed = [str(choice.get("value")) for choice in question.choices or []]
        if str(value) in allowed:
            return str(value), ""
        return None, _("Choose one of the answers offered.")
    text = str(value).strip()
    if len(text) > MAX_ANSWER_TEXT:
        return None, _("At most %(count)s characters, please.") % {"count": MAX_ANSWER_TEXT}
    return text, ""


def clean_answers(question_set: QuestionSet | None, answers: dict | None) -> tuple[dict, dict[str, list[str]]]:
    """Check answers against a question set: every required question answered, choices among those offered, no
    answer to a question the set does not ask. Returns (the answers to store, errors by `answer_field(code)`)."""
    answers = dict(answers or {})
    questions = list(question_set.questions.all()) if question_set else []
    cleaned, errors = {}, {}
    for question in questions:
        value = answers.pop(question.code, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            if question.is_required:
                errors[answer_field(question.code)] = [_("Answer this question: it is on the checklist.")]
            continue
        stored, message = _clean_answer(question, value)
        if message:
            errors[answer_field(question.code)] = [message]
        else:
            cleaned[question.code] = stored
    if answers:
        errors["answers"] = [
            _("These answers are not questions of the checklist: %(codes)s.") % {"codes": ", ".join(sorted(answers))}
        ]
    return cleaned, errors


# --- the record ---------------------------------------------------------------------------------------------------
def _clean_subject(followup: FollowUp, subject: str, subject_name: str, errors: dict) -> str:
    """The name of the person contacted, checked against the borrower and the loan's parties."""
    if subject not in Subject.values:
        errors["subject"] = [_("Choose who was contacted.")]
        return subject_name
    if subject == Subject.BORROWER:
        return _borrower_of(followup).name
    names = [party.get("name", "") for party in _parties_of(followup) if party.get("role") == subject]
    label = Subject(subject).label
    if not names:
        errors["subject"] = [_("This loan has no %(role)s among its parties.") % {"role": str(label).lower()}]
    elif not subject_name and len(names) == 1:
        return names[0]
    elif subject_name not in names:
        errors["subject_name"] = [
            _("Choose the %(role)s from the loan's parties: %(names)s.")
            % {"role": str(label).lower(), "names": ", ".join(names)}
        ]
    return subject_name


def _clean_signals(risk_signals, funds_used_as_contracted, errors: dict) -> list[str]:
    signals = list(dict.fromkeys(risk_signals or []))
    unknown = [signal for signal in signals if signal not in RiskSignal.values]
    if unknown:
        errors["risk_signals"] = [_("Choose risk signals from the list.")]
        return []
    # Funds not used as contracted is the fund-misuse signal: the record says so, so the warning follows.
    if funds_used_as_contracted is False and RiskSignal.FUND_MISUSE not in signals:
        signals.append(RiskSignal.FUND_MISUSE)
    return [value for value in RiskSignal.values if value in signals]


def followup_complete(
    *,
    followup: FollowUp,
    by: User,
    subject: str,
    subject_name: str = "",
    channel: str,
    answers: dict,
    funds_used_as_contracted: bool | None,
    repayment_ability: str,
    willingness: str,
    risk_signals: list[str],
    risk_level: str,
    summary: str,
    next_steps: str,
    location: str = "",
    attendees: str = "",
) -> FollowUp:
    """The assigned officer records a planned (or returned) follow-up and submits it for review; a high risk level or
    any risk signal opens a risk warning on the loan."""
    _require_recorder(by, followup)
    _refuse_unless(followup, OPEN_FOLLOWUP_STATUSES)
    on_loan = bool(followup.loan_id)
    errors: dict[str, list[str]] = {}
    subject_name = _clean_subject(followup, subject, _text(subject_name, 200), errors)
    if channel not in (Channel.PHONE, Channel.VISIT):
        errors["channel"] = [
            _("Choose phone or visit; an online questionnaire completes the record when the borrower answers it.")
            if channel == Channel.QUESTIONNAIRE
            else _("Choose how the contact was made.")
        ]
    question_set = active_question_set(followup.kind)
    cleaned_answers, answer_errors = clean_answers(question_set, answers)
    errors |= answer_errors
    if funds_used_as_contracted not in (True, False, None) or (on_loan and funds_used_as_contracted is None):
        errors["funds_used_as_contracted"] = [_("Say whether the loan is being used as the contract says.")]
    if repayment_ability not in RepaymentAbility.values:
        errors["repayment_ability"] = [_("Choose the borrower's repayment ability.")]
    if willingness not in Willingness.values:
        errors["willingness"] = [_("Choose the borrower's willingness to repay.")]
    signals = _clean_signals(risk_signals, funds_used_as_contracted, errors)
    if risk_level not in RiskLevel.values:
        errors["risk_level"] = [_("Choose the overall risk level.")]
    summary, next_steps = (summary or "").strip(), (next_steps or "").strip()
    if not summary:
        errors["summary"] = [_("Write a summary of the contact: it is the record.")]
    _too_long(errors, "summary", summary, MAX_TEXT)
    if not next_steps and (risk_level == RiskLevel.HIGH or signals):
        errors["next_steps"] = [_("Risk was found: say what happens next.")]
    _too_long(errors, "next_steps", next_steps, MAX_TEXT)
    location, attendees = (location or "").strip(), (attendees or "").strip()
    if channel == Channel.VISIT:
        if not location:
            errors["location"] = [_("Say where the visit took place.")]
        if not attendees:
            errors["attendees"] = [_("Say who took part in the visit.")]
    _too_long(errors, "location", location, 300)
    _too_long(errors, "attendees", attendees, 300)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        current = _lock(followup)
        _refuse_unless(current, OPEN_FOLLOWUP_STATUSES)
        _changed(
            current,
            by,
            current.status,
            status=Status.COMPLETED,
            subject=subject,
            subject_name=subject_name,
            channel=channel,
            question_set=question_set,
            answers=cleaned_answers,
            funds_used_as_contracted=funds_used_as_contracted,
            repayment_ability=repayment_ability,
            willingness=willingness,
            risk_signals=signals,
            risk_level=risk_level,
            summary=summary,
            next_steps=next_steps,
            location=location if channel == Channel.VISIT else "",
            attendees=attendees if channel == Channel.VISIT else "",
            completed_by=by,
            completed_at=timezone.now(),
            reviewed_by=None,
            reviewed_at=None,
        )
        if on_loan:
            loan_event(
                current.loan,
                kind=LoanEvent.Kind.NOTE,
                by=by,
                note=_("%(kind)s recorded: %(summary)s") % {"kind": current.get_kind_display(), "summary": summary},
                followup=current.pk,
                risk_level=risk_level,
                risk_signals=signals,
            )
            # Imported here, as below: the warnings module may build on these services.
            from .warnings import warning_raise_for_followup, warrants_warning

            if warrants_warning(risk_level=risk_level, risk_signals=signals):
                warning_raise_for_followup(followup=current)
    return current


# --- contact attempts ---------------------------------------------------------------------------------------------
def is_outside_reasonable_hours(moment: datetime) -> bool:
    """Whether a call at `moment` falls outside 08:00–21:00 in Shanghai."""
    local = moment.astimezone(SHANGHAI).time()
    return local < REASONABLE_HOURS[0] or local > REASONABLE_HOURS[1]


def followup_attempt_log(
    *, followup: FollowUp, by: User, outcome: str, note: str = "", attempted_at: datetime | None = None
) -> ContactAttempt:
    """Log a failed try to reach the person (no answer, busy, wrong number, refused) and move the follow-up to the
    next business day; the third failed attempt raises the lost-contact signal, once."""
    _require_recorder(by, followup)
    _refuse_unless(followup, OPEN_FOLLOWUP_STATUSES)
    now = timezone.now()
    attempted_at = attempted_at or now
    errors = {}
    if outcome not in ContactAttempt.Outcome.values:
        errors["outcome"] = [_("Choose what happened.")]
    if timezone.is_naive(attempted_at):
        errors["attempted_at"] = [_("Give the time of the attempt with its time zone.")]
    elif attempted_at > now + timedelta(minutes=5):
        errors["attempted_at"] = [_("An attempt cannot be logged in the future.")]
    note = (note or "").strip()
    _too_long(errors, "note", note, 300)
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        current = _lock(followup)
        _refuse_unless(current, OPEN_FOLLOWUP_STATUSES)
        attempt = ContactAttempt.objects.create(
            followup=current,
            outcome=outcome,
            note=note,
            attempted_at=attempted_at,
            outside_hours=is_outside_reasonable_hours(attempted_at),
            by=by,
        )
        # Try again on the next business day (after today: an attempt logged late does not put it in the past).
        retry_on = add_business_days(max(attempted_at.astimezone(SHANGHAI).date(), local_today()), 1)
        _changed(current, by, current.status, due_on=retry_on, failed_attempts=F("failed_attempts") + 1)
        # The row lock makes exactly one caller see the count reach three.
        if current.failed_attempts == LOST_CONTACT_AFTER and current.loan_id:
            from .warnings import warning_raise_lost_contact

            warning_raise_lost_contact(followup=current)
    followup.due_on, followup.failed_attempts = current.due_on, current.failed_attempts
    return attempt


# --- reassignment -------------------------------------------------------------------------------------------------
def followup_reassign(*, followup: FollowUp, by: User, officer: User) -> FollowUp:
    """The branch manager hands an open (planned or returned) follow-up to another officer of the same branch."""
    require(by, "followup.reassign")
    _require_in_scope(by, followup)
    if officer.pk == followup.officer_id:
        raise ValidationError({"officer": _("This follow-up is already assigned to %(name)s.") % {"name": officer}})
    if not (officer.is_active and can(officer, "followup.record") and officer.branch_id == followup.branch_id):
        raise ValidationError({"officer": _("Choose an active loan officer of the follow-up's branch.")})
    _refuse_unless(followup, OPEN_FOLLOWUP_STATUSES)
    with transaction.atomic():
        current = _lock(followup)
        _refuse_unless(current, OPEN_FOLLOWUP_STATUSES)
        _changed(current, by, current.status, officer=officer)
    followup.officer, followup.officer_id = officer, officer.pk
    return current


# --- review and amendments ----------------------------------------------------------------------------------------
def followup_review(*, followup: FollowUp, by: User, decision: str, note: str = "") -> FollowUp:
    """A risk officer who did not write the record approves it (it is final from then on) or returns it with a note
    saying what to correct."""
    require(by, "followup.review")
    _require_in_scope(by, followup)
    if followup.completed_by_id is not None and followup.completed_by_id == by.pk:
        raise PermissionDenied(_("You wrote this follow-up record; another risk officer must review it."))
    _refuse_unless(followup, (Status.COMPLETED,))
    note = (note or "").strip()
    if decision not in ("approve", "return"):
        raise ValidationError({"decision": _("Choose approve or return.")})
    if decision == "return" and not note:
        raise ValidationError({"note": _("Say what the officer must correct.")})
    if len(note) > MAX_TEXT:
        raise ValidationError({"note": _("At most %(count)s characters, please.") % {"count": MAX_TEXT}})
    with transaction.atomic():
        current = _lock(followup)
        _refuse_unless(current, (Status.COMPLETED,))
        _changed(
            current,
            by,
            Status.COMPLETED,
            status=Status.APPROVED if decision == "approve" else Status.RETURNED,
            reviewed_by=by,
            reviewed_at=timezone.now(),
            review_note=note,
        )
    return current


def followup_amend(*, followup: FollowUp, by: User, text: str) -> FollowUpAmendment:
    """A correction to an approved record, kept beside it; by the officer who wrote it or a risk officer."""
    _require_in_scope(by, followup)
    author_id = followup.completed_by_id or followup.officer_id
    if not (can(by, "followup.review") or (by.pk == author_id and can(by, "followup.record"))):
        raise PermissionDenied(_("Only the officer who wrote this record or a risk officer may add a correction."))
    if followup.status != Status.APPROVED:
        raise TransitionError(
            _("Only an approved record takes amendments; while it is “%(status)s” it is corrected in the record.")
            % {"status": followup.get_status_display()}
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the correction.")})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": _("At most %(count)s characters, please.") % {"count": MAX_TEXT}})
    amendment = FollowUpAmendment(followup=followup, text=text, by=by)
    amendment.save()
    return amendment


# --- visit photos -------------------------------------------------------------------------------------------------
def followup_photo_add(*, followup: FollowUp, by: User, upload: UploadedFile, caption: str = "") -> FollowUpPhoto:
    """A photo or scan from a visit, checked by its content (JPEG, PNG or PDF, at most 10 MB), before the record is
    submitted (or while it is returned)."""
    _require_recorder(by, followup)
    _refuse_unless(followup, OPEN_FOLLOWUP_STATUSES)
    try:
        content_type = check_upload(upload)
    except ValidationError as error:
        raise ValidationError({"upload": error.messages}) from None
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise ValidationError({"caption": _("At most %(count)s characters, please.") % {"count": 200}})
    with transaction.atomic():
        current = _lock(followup)
        _refuse_unless(current, OPEN_FOLLOWUP_STATUSES)
        photo = FollowUpPhoto(
            followup=current,
            original_name=(upload.name or "")[-255:],
            content_type=content_type,
            size=upload.size,
            caption=caption,
            uploaded_by=by,
        )
        upload.seek(0)
        photo.file.save(upload.name or "photo", upload, save=False)
        photo.save()
    return photo


# --- online questionnaire -----------------------------------------------------------------------------------------
def questionnaire_link(token: str) -> str:
    """The borrower's link to a questionnaire: SITE_URL plus the answer page (no sign-in; the token is the key)."""
    return f"{settings.SITE_URL.rstrip('/')}{reverse('followups:questionnaire_answer', args=[token])}"


def questionnaire_send(*, followup: FollowUp, by: User) -> Questionnaire:
    """Send the borrower the follow-up's checklist as an online questionnaire (an SMS with a link valid for 7 days,
    and an email where the borrower gave an address); the borrower's answers complete the record."""
    _require_recorder(by, followup)
    _refuse_unless(followup, OPEN_FOLLOWUP_STATUSES)
    question_set = active_question_set(followup.kind)
    if question_set is None:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    _("There is no checklist for this kind of follow-up; ask an administrator to add one.")
                ]
            }
        )
    with transaction.atomic():
        current = _lock(followup)
        _refuse_unless(current, OPEN_FOLLOWUP_STATUSES)
        now = timezone.now()
        expires_at = now + timedelta(days=QUESTIONNAIRE_VALID_DAYS)
        questionnaire = Questionnaire.objects.select_for_update().filter(followup=current).first()
        if questionnaire is not None and questionnaire.answered_at is None and questionnaire.expires_at > now:
            raise TransitionError(
                _("A questionnaire was already sent on %(sent)s; its link works until %(expires)s.")
                % {
                    "sent": date_format(timezone.localtime(questionnaire.sent_at), "DATE_FORMAT"),
                    "expires": date_format(timezone.localtime(questionnaire.expires_at), "DATE_FORMAT"),
                }
            )
        if questionnaire is None:
            questionnaire = Questionnaire.objects.create(followup=current, sent_at=now, expires_at=expires_at)
        else:
            # An expired (or, after a return, answered) link is replaced: a new token, a new week.
            questionnaire.token = Questionnaire._meta.get_field("token").get_default()
            questionnaire.sent_at, questionnaire.expires_at = now, expires_at
            questionnaire.answered_at, questionnaire.answers = None, {}
            questionnaire.save()
        _changed(current, by, current.status, channel=Channel.QUESTIONNAIRE, question_set=question_set)
        _queue_questionnaire_messages(current, questionnaire)
    return questionnaire


def _queue_questionnaire_messages(followup: FollowUp, questionnaire: Questionnaire) -> None:
    borrower = _borrower_of(followup)
    language = borrower.message_language
    subject = followup.loan if followup.loan_id else followup.application
    context = {
        "name": borrower.name,
        "number": subject.number,
        "link": questionnaire_link(questionnaire.token),
        "expires": _date_text(questionnaire.expires_at.astimezone(SHANGHAI).date(), language),
        "officer": str(followup.officer),
    }
    addresses = [(OutboxMessage.Channel.SMS, borrower.mobile)]
    if borrower.email:
        addresses.append((OutboxMessage.Channel.EMAIL, borrower.email))
    for channel, address in addresses:
        message_queue(
            key=f"followup_questionnaire:{questionnaire.pk}:{questionnaire.token[:16]}:{channel}",
            channel=channel,
            template=QUESTIONNAIRE_TEMPLATE,
            to_address=address,
            context=context,
            language=language,
            audience=OutboxMessage.Audience.BORROWER,
            recipient=borrower.user,
        )


def questionnaire_answer(*, token: str, answers: dict) -> Questionnaire:
    """The borrower's answers through the link (no staff user): checked against the questionnaire's question set,
    they complete the follow-up (channel questionnaire, subject borrower) for a risk officer to review. An unknown,
    expired or already answered link is refused with a message for the borrower."""
    followup_id = Questionnaire.objects.filter(token=token or "").values_list("followup_id", flat=True).first()
    if followup_id is None:
        raise TransitionError(_("This questionnaire link is not valid. Please contact your loan officer."))
    with transaction.atomic():
        # The follow-up first, then its questionnaire: the order questionnaire_send locks them in.
        followup = FollowUp.objects.select_for_update().get(pk=followup_id)
        questionnaire = Questionnaire.objects.select_for_update().filter(token=token).first()
        if questionnaire is None:
            raise TransitionError(_("This questionnaire link is not valid. Please contact your loan officer."))
        if questionnaire.answered_at is not None:
            raise TransitionError(_("This questionnaire has already been answered. Thank you."))
        if questionnaire.expires_at <= timezone.now():
            raise TransitionError(
                _("This questionnaire link expired on %(date)s. Please contact your loan officer for a new one.")
                % {"date": date_format(timezone.localtime(questionnaire.expires_at), "DATE_FORMAT")}
            )
        if followup.status not in OPEN_FOLLOWUP_STATUSES:
            raise TransitionError(_("Your loan officer has already recorded this follow-up. Thank you."))
        question_set = followup.question_set or active_question_set(followup.kind)
        cleaned, errors = clean_answers(question_set, answers)
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        Questionnaire.objects.filter(pk=questionnaire.pk, answered_at__isnull=True).update(
            answered_at=now, answers=cleaned
        )
        questionnaire.answered_at, questionnaire.answers = now, cleaned
        _changed(
            followup,
            None,
            followup.status,
            status=Status.COMPLETED,
            channel=Channel.QUESTIONNAIRE,
            subject=Subject.BORROWER,
            subject_name=_borrower_of(followup).name,
            question_set=question_set,
            answers=cleaned,
            completed_by=None,
            completed_at=now,
            reviewed_by=None,
            reviewed_at=None,
        )
    questionnaire.followup = followup
    return questionnaire


# --- pre-loan contacts --------------------------------------------------------------------------------------------
# A verification call (信息核实) belongs to initial review; a consultation may happen while the application is open.
CONTACT_STATUSES = {
    FollowUpKind.VERIFICATION_CALL: (ApplicationStatus.SUBMITTED, ApplicationStatus.INITIAL_REVIEW),
    FollowUpKind.CONSULTATION: (
        ApplicationStatus.DRAFT,
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.INITIAL_REVIEW,
        ApplicationStatus.SECONDARY_REVIEW,
        ApplicationStatus.RETURNED,
    ),
}


def application_contact_create(
    *, application: Application, by: User, kind: str, due_on: date | None = None
) -> FollowUp:
    """Plan a verification call or a consultation on an application, assigned to whoever plans it: the application's
    officer, or a reviewer of the branch. One verification call at a time per application."""
    if not (can(by, "review.initial") or (can(by, "followup.record") and application.officer_id == by.pk)):
        raise PermissionDenied(_("Only the application's officer or a reviewer may plan a contact with the borrower."))
    if not in_scope(by, application):
        raise PermissionDenied(_("This application belongs to another branch."))
    if kind not in CONTACT_STATUSES:
        raise ValidationError({"kind": _("Choose a verification call or a consultation.")})
    today = local_today()
    due_on = due_on or today
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise ValidationError({"due_on": _("Enter a date.")})
    if due_on < today:
        raise ValidationError({"due_on": _("The contact cannot be planned in the past.")})
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status not in CONTACT_STATUSES[kind]:
            raise TransitionError(
                _("A %(kind)s is not possible while the application is “%(status)s”.")
                % {"kind": str(FollowUpKind(kind).label).lower(), "status": locked.get_status_display()}
            )
        existing = FollowUp.objects.filter(application=locked, kind=kind)
        if kind == FollowUpKind.VERIFICATION_CALL and existing.filter(status__in=OPEN_FOLLOWUP_STATUSES).exists():
            raise TransitionError(_("A verification call is already planned for this application."))
        followup = FollowUp(
            application=locked,
            kind=kind,
            sequence=existing.count() + 1,
            branch_id=locked.branch_id,
            officer=by,
            due_on=due_on,
            planned_on=due_on,
        )
        followup._history_user = by
        followup.save()
        ApplicationEvent.objects.create(
            application=locked,
            kind=ApplicationEvent.Kind.NOTE,
            actor=by,
            note=_("%(kind)s planned for %(date)s.")
            % {"kind": followup.get_kind_display(), "date": date_format(due_on, "DATE_FORMAT")},
            data={"followup": followup.pk, "kind": kind},
        )
    return followup
