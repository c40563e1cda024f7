"""Follow-up operations. Every rule of who may do what, and when, is enforced here, not in views.

Each service is keyword-only and atomic; a refused operation raises PermissionDenied (403), TransitionError (the state
no longer allows it; a message for the user) or ValidationError (bad input; messages per field), and changes nothing.
"""

from applications.models import TransitionError

from .nudges import late_escalation_sweep, officer_digest_sweep
from .records import (
    active_question_set,
    answer_field,
    application_contact_create,
    clean_answers,
    followup_amend,
    followup_attempt_log,
    followup_complete,
    followup_photo_add,
    followup_reassign,
    followup_review,
    is_outside_reasonable_hours,
    questionnaire_answer,
    questionnaire_link,
    questionnaire_send,
)
from .warnings import (
    warning_acknowledge,
    warning_escalate,
    warning_raise_for_followup,
    warning_raise_lost_contact,
    warning_request_classification,
    warning_request_extra_followup,
    warning_request_restructuring,
    warning_resolve,
    warrants_warning,
)

__all__ = [
    "TransitionError",
    "active_question_set",
    "answer_field",
    "application_contact_create",
    "clean_answers",
    "followup_amend",
    "followup_attempt_log",
    "followup_complete",
    "followup_photo_add",
    "followup_reassign",
    "followup_review",
    "is_outside_reasonable_hours",
    "late_escalation_sweep",
    "officer_digest_sweep",
    "questionnaire_answer",
    "questionnaire_link",
    "questionnaire_send",
    "warning_acknowledge",
    "warning_escalate",
    "warning_raise_for_followup",
    "warning_raise_lost_contact",
    "warning_request_classification",
    "warning_request_extra_followup",
    "warning_request_restructuring",
    "warning_resolve",
    "warrants_warning",
]
