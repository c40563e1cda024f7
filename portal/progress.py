"""Where a borrower's application or loan stands, in plain words: the stages with their dates, and the one next step.

Only borrower-facing facts are used: status, dates, what is missing and why a document was not accepted, the
amounts owed. Reviewers' comments, scores and internal notes never reach these texts; a rejection is explained by a
gentle sentence per reason code, not by the reviewer's comment.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from applications.models import Application, ApplicationStatus, Material
from core.dates import local_today
from core.money import format_yuan
from postloan.models import Installment, Loan, LoanStatus

S = ApplicationStatus

# The stages a borrower sees, each reached by a status (its first timeline event gives the date).
STAGES = (
    (S.SUBMITTED, gettext_lazy("Application received")),
    (S.INITIAL_REVIEW, gettext_lazy("Initial review")),
    (S.SECONDARY_REVIEW, gettext_lazy("Secondary review")),
    (S.APPROVED, gettext_lazy("Approved")),
    (S.CONTRACTED, gettext_lazy("Contract signed")),
    (S.DISBURSED, gettext_lazy("Money paid out")),
)
STAGE_ORDER = [status for status, _label in STAGES]

# What a rejection says to the borrower, per reason code: never the reviewer's own words.
REJECTION_TEXT = {
    "insufficient_income": gettext_lazy("We could not confirm enough regular income for the amount requested."),
    "high_debt": gettext_lazy("Your existing repayments are already high compared with your income."),
    "poor_credit": gettext_lazy("Your credit record does not meet the product's requirements at present."),
    "false_information": gettext_lazy("Some of the information given could not be confirmed."),
    "insufficient_collateral": gettext_lazy("The collateral or guarantee offered is not enough for this loan."),
    "policy": gettext_lazy("The request is outside what this product can offer."),
    "other": gettext_lazy("The application does not meet our lending requirements at present."),
}

# Plain status words for the borrower (the staff labels say "initial review" etc. too, but these say what happens).
PLAIN_STATUS = {
    S.DRAFT: gettext_lazy("Being prepared with your loan officer"),
    S.SUBMITTED: gettext_lazy("Received, waiting for review"),
    S.INITIAL_REVIEW: gettext_lazy("Being reviewed"),
    S.SECONDARY_REVIEW: gettext_lazy("In final review"),
    S.APPROVED: gettext_lazy("Approved"),
    S.RETURNED: gettext_lazy("We need something from you"),
    S.REJECTED: gettext_lazy("Not approved"),
    S.WITHDRAWN: gettext_lazy("Withdrawn"),
    S.EXPIRED: gettext_lazy("Approval expired"),
    S.CONTRACTED: gettext_lazy("Contract signed, payment being prepared"),
    S.DISBURSED: gettext_lazy("Paid out: see your loan"),
}


@dataclass(frozen=True)
class Stage:
    label: str
    state: str  # "done", "current" or "todo"
    reached_at: datetime | None


def _day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value)
        return date_format(value, "DATETIME_FORMAT")
    return date_format(value, "DATE_FORMAT")


def stages(application: Application) -> list[Stage]:
    """The six stages with the date each was first reached; the next one is current while the application is open."""
    reached = {}
    for event in getattr(application, "status_events", None) or application.events.filter(kind="status"):
        reached.setdefault(event.to_status, event.created_at)
    # A later stage reached implies the earlier ones (e.g. no separate event for "initial review" on old data).
    furthest = max((STAGE_ORDER.index(s) for s in reached if s in STAGE_ORDER), default=-1)
    open_ = application.status in (S.DRAFT, S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW, S.APPROVED, S.CONTRACTED)
    result = []
    for index, (status, label) in enumerate(STAGES):
        if index <= furthest:
            state = "done"
        elif index == furthest + 1 and open_:
            state = "current"
        else:
            state = "todo"
        result.append(Stage(label=str(label), state=state, reached_at=reached.get(status)))
    return result


def outstanding_materials(application: Application) -> list[Material]:
    return [item for item in application.materials.all() if item.is_outstanding]


def application_next_step(application: Application, *, disclosure_pending: bool) -> str:
    """One sentence: what happens next, or what we need from the borrower."""
    missing = outstanding_materials(application)
    status = application.status
    if status in (S.DRAFT, S.RETURNED, S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW) and missing:
        # The separator is translated: Chinese lists use 、 rather than a comma.
        names = pgettext("list separator", ", ").join(item.display_name for item in missing)
        return _("We need from you: %(items)s. You can upload them here.") % {"items": names}
    if disclosure_pending:
        return _("Please read and acknowledge the risk disclosure so that we can submit your application.")
    if status == S.DRAFT:
        return _("Your loan officer is preparing your application with you and will submit it for review.")
    if status == S.RETURNED:
        return _("Your loan officer will contact you about what is still needed.")
    if status in (S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW):
        if application.sla_due_at:
            return _("Your application is being reviewed. We aim to finish this step by %(due)s.") % {
                "due": _day(application.sla_due_at)
            }
        return _("Your application is being reviewed.")
    if status == S.APPROVED:
        return _(
            "Approved: %(amount)s for %(months)s months. Your loan officer will contact you to sign the contract."
        ) % {
            "amount": format_yuan(application.approved_amount or application.amount),
            "months": application.approved_term_months or application.term_months,
        }
    if status == S.CONTRACTED:
        return _("The contract is signed; the money is being paid to your account.")
    if status == S.DISBURSED:
        return _("The money has been paid out. Your schedule and next payment are on your loan's page.")
    if status == S.REJECTED:
        return _("We are sorry, we cannot offer this loan at present.")
    if status == S.EXPIRED:
        return _("The approval has expired because the contract was not signed in time. Ask your loan officer.")
    return _("This application is closed.")


def rejection_reasons(application: Application) -> list[str]:
    """The borrower-facing sentence for each rejection reason code, without repeats."""
    if application.status != S.REJECTED:
        return []
    texts = [str(REJECTION_TEXT.get(code, REJECTION_TEXT["other"])) for code in application.rejection_codes or []]
    return list(dict.fromkeys(texts)) or [str(REJECTION_TEXT["other"])]


def loan_next_step(loan: Loan, installment: Installment | None) -> str:
    if loan.status == LoanStatus.PAID_OFF:
        return _("This loan is fully repaid. Thank you.")
    if installment is None:
        return _("Nothing is due at the moment.")
    values = {"amount": format_yuan(installment.outstanding), "date": _day(installment.due_date)}
    if installment.due_date < local_today():
        return (
            _(
                "%(amount)s was due on %(date)s and has not been fully paid yet. Please pay as soon as you can; "
                "late payment adds a penalty each day."
            )
            % values
        )
    return _("Your next payment of %(amount)s is due on %(date)s.") % values
