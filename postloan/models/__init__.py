"""Post-loan tables: contracts, disbursements, loans, schedules, installments, repayments and their allocations."""

# A state change that is not possible now: one exception type for every app, so a view catches one thing.
from applications.models import TransitionError

from .contracts import Contract, ContractStatus, Disbursement, DisbursementStatus
from .loans import (
    OPEN_LOAN_STATUSES,
    Bucket,
    Classification,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    LoanStatus,
    LoanStatusCount,
    PenaltyAccrual,
    ScheduleVersion,
    bucket_for_dpd,
)
from .repayments import Allocation, Repayment, RepaymentChannel, RepaymentKind, RepaymentReversal
from .restructuring import OPEN_RESTRUCTURING_STATUSES, Restructuring, RestructuringStatus
from .risk import ClassificationChange, ClassificationProposal, ClassificationSource, ProposalStatus
from .snapshots import LoanMonthEnd

__all__ = [
    "OPEN_LOAN_STATUSES",
    "OPEN_RESTRUCTURING_STATUSES",
    "Allocation",
    "Bucket",
    "Classification",
    "ClassificationChange",
    "ClassificationProposal",
    "ClassificationSource",
    "Contract",
    "ContractStatus",
    "Disbursement",
    "DisbursementStatus",
    "Installment",
    "InstallmentStatus",
    "Loan",
    "LoanEvent",
    "LoanMonthEnd",
    "LoanStatus",
    "LoanStatusCount",
    "PenaltyAccrual",
    "ProposalStatus",
    "Repayment",
    "RepaymentChannel",
    "RepaymentKind",
    "RepaymentReversal",
    "Restructuring",
    "RestructuringStatus",
    "ScheduleVersion",
    "TransitionError",
    "bucket_for_dpd",
]
