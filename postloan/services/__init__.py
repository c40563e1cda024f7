"""Post-loan operations. Every rule of who may do what, and when, is enforced here, not in views.

Each service is keyword-only and atomic; a refused operation raises PermissionDenied (403), TransitionError (the state
no longer allows it; a message for the user) or ValidationError (bad input; messages per field), and changes nothing.
"""

from ..models import TransitionError
from .classification import (
    classification_approve,
    classification_clear,
    classification_propose,
    classification_reject,
)
from .common import loan_refresh_summary
from .contracts import contract_confirm, contract_prepare, disbursement_confirm, disbursement_prepare
from .payoff import PayoffQuote, payoff_post, payoff_quote
from .prepayment import OVERPAYMENT_REDUCE_INSTALLMENT, OVERPAYMENT_SHORTEN_TERM, PrepaymentPlan
from .repayments import (
    OVERPAYMENT_CREDIT,
    OVERPAYMENT_REFUSE,
    RepaymentPreview,
    repayment_post,
    repayment_preview,
    repayment_reverse,
)
from .restructuring import (
    RestructuringPreview,
    restructuring_approve,
    restructuring_preview,
    restructuring_reject,
    restructuring_request,
    restructuring_risk_approve,
    restructuring_withdraw,
)
from .sweep import SweepResult, sweep_daily

__all__ = [
    "OVERPAYMENT_CREDIT",
    "OVERPAYMENT_REDUCE_INSTALLMENT",
    "OVERPAYMENT_REFUSE",
    "OVERPAYMENT_SHORTEN_TERM",
    "PayoffQuote",
    "PrepaymentPlan",
    "RepaymentPreview",
    "RestructuringPreview",
    "SweepResult",
    "TransitionError",
    "classification_approve",
    "classification_clear",
    "classification_propose",
    "classification_reject",
    "contract_confirm",
    "contract_prepare",
    "disbursement_confirm",
    "disbursement_prepare",
    "loan_refresh_summary",
    "payoff_post",
    "payoff_quote",
    "repayment_post",
    "repayment_preview",
    "repayment_reverse",
    "restructuring_approve",
    "restructuring_preview",
    "restructuring_reject",
    "restructuring_request",
    "restructuring_risk_approve",
    "restructuring_withdraw",
    "sweep_daily",
]
