"""Follow-up (回访) tables: per-product policy, question sets and scripts, follow-ups with their attempts, photos and
amendments, online questionnaires, and risk warnings with their actions."""

from .followups import (
    OPEN_FOLLOWUP_STATUSES,
    ContactAttempt,
    FollowUp,
    FollowUpAmendment,
    FollowUpKind,
    FollowUpPhoto,
    FollowUpStatus,
    Questionnaire,
)
from .inquiries import Inquiry, InquiryCategory, InquiryReply, InquiryStatus, ReplyTemplate, SatisfactionSurvey
from .library import FollowUpPolicy, Question, QuestionSet, ScriptTemplate
from .warnings import RiskWarning, WarningAction, WarningStatus

__all__ = [
    "OPEN_FOLLOWUP_STATUSES",
    "ContactAttempt",
    "FollowUp",
    "FollowUpAmendment",
    "FollowUpKind",
    "FollowUpPhoto",
    "FollowUpPolicy",
    "FollowUpStatus",
    "Inquiry",
    "InquiryCategory",
    "InquiryReply",
    "InquiryStatus",
    "Question",
    "QuestionSet",
    "Questionnaire",
    "ReplyTemplate",
    "RiskWarning",
    "SatisfactionSurvey",
    "ScriptTemplate",
    "WarningAction",
    "WarningStatus",
]
