"""Applications with their timeline events and review decisions, for every path the state machine allows
(applications.models.Application.transition and applications.services): what the services would have written, with
the same event data (`sla_breached` when an application leaves a stage with a review target) and notes.

A path is written backwards from its last step, so that each application ends where the book needs it: disbursed on
the loan's day, rejected or withdrawn in its window, or in the pipeline today.
"""

import random
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from applications.demo import APPROVE_COMMENTS, CHECKLIST_ALL, PASS_COMMENTS
from applications.models import (
    APPROVAL_VALID_DAYS,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    RejectionReason,
    Review,
)

from .copy import NULL, CopyWriter, Days, day_of, jsonb, money, text, to_date, words
from .staff import Desk, Person

S = ApplicationStatus
HOUR = 3600
DAY = 86400

APPLICATION_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "number",
    "borrower_id",
    "product_id",
    "amount",
    "term_months",
    "method",
    "annual_rate",
    "purpose",
    "channel",
    "branch_id",
    "officer_id",
    "created_by_id",
    "status",
    "status_changed_at",
    "sla_due_at",
    "submitted_at",
    "initial_reviewer_id",
    "approved_amount",
    "approved_rate",
    "approved_term_months",
    "conditions",
    "approved_by_id",
    "approved_at",
    "expires_at",
    "rejection_codes",
    "rejection_text",
    "disclosure_requested_at",
)
EVENT_COLUMNS = ("id", "application_id", "kind", "from_status", "to_status", "actor_id", "note", "data", "created_at")
REVIEW_COLUMNS = (
    "id",
    "application_id",
    "stage",
    "reviewer_id",
    "decision",
    "checklist",
    "comment",
    "rejection_codes",
    "approved_amount",
    "approved_rate",
    "approved_term_months",
    "conditions",
    "created_at",
)
RETURN_COMMENTS = (
    "收入证明与银行流水金额不一致，请补充近6个月工资流水。",
    "用途证明不充分，请补充装修合同或采购合同。",
    "经营场所租赁合同已过期，请补充最新合同。",
)
REJECT_COMMENTS = {
    RejectionReason.INSUFFICIENT_INCOME: "收入无法核实，月收入不足以覆盖月供。",
    RejectionReason.HIGH_DEBT: "现有负债较高，负债收入比超过产品上限。",
    RejectionReason.POOR_CREDIT: "征信报告显示近两年有多次逾期记录。",
    RejectionReason.FALSE_INFORMATION: "申请资料与核实情况不符。",
    RejectionReason.INSUFFICIENT_COLLATERAL: "抵押物评估价值不足。",
    RejectionReason.POLICY: "借款人条件不符合产品准入政策。",
}
WITHDRAW_REASONS = ("借款人已从其他渠道获得资金。", "借款人决定暂缓借款计划。", "借款人认为利率偏高，不再申请。")


@dataclass
class Terms:
    """What was asked for (and, once approved, granted)."""

    product_id: int
    amount: int  # requested, fen
    term_months: int
    method: str
    rate: str  # percent per year, 4 decimals
    purpose: str
    channel: str
    approved_amount: int = 0  # fen; 0 until approved
    sla_initial_hours: int = 24
    sla_secondary_hours: int = 48


@dataclass
class Path:
    """The steps of one application, oldest first, and what they leave on the row."""

    steps: list[tuple[int, str, str, int | None, str, str | bool | None]] = field(default_factory=list)
    reviews: list[tuple[int, str, int, str, str, list, bool]] = field(default_factory=list)
    sla_due: int | None = None
    submitted_at: int | None = None
    initial_reviewer: int | None = None
    approved_by: int | None = None
    approved_at: int | None = None
    expires_at: int | None = None
    rejection_codes: list = field(default_factory=list)
    rejection_text: str = ""


class Applications:
    def __init__(self, writer: CopyWriter, days: Days, numbers):
        self.days = days
        self.numbers = numbers
        self.applications = writer.table(Application, APPLICATION_COLUMNS)
        self.events = writer.table(ApplicationEvent, EVENT_COLUMNS)
        self.reviews = writer.table(Review, REVIEW_COLUMNS)
        with translation.override(settings.LANGUAGE_CODE):
            # The expiry sweep runs in the worker, in the site's language.
            self.expiry_note = gettext("Not contracted within %(days)s days.") % {"days": APPROVAL_VALID_DAYS}

    # --- paths ----------------------------------------------------------------------------------------------------
    def plan(self, rng: random.Random, *, status: str, end: int, desk: Desk, officer: Person, terms: Terms) -> Path:
        """The steps that bring an application to `status` with its last step at `end` (epoch seconds).

        For `disbursed` the last two steps are the contract's and the disbursement's confirmations, which the caller
        times; for `contracted` the last step is the contract's confirmation."""
        path = Path()
        steps: list[tuple[int, str, str, Person | None, str, str]] = []  # (gap before, from, to, actor, note, kind)
        reviewer = rng.choice(desk.reviewers)
        returned_first = status in (S.DISBURSED, S.CONTRACTED, S.APPROVED) and rng.random() < 0.1
        if status == S.RETURNED:
            returned_first = True

        def review_stage(final: str) -> None:
            steps.append((_hours(rng, 1, 30), S.SUBMITTED, S.INITIAL_REVIEW, reviewer, "", "start"))
            if final == "initial_review":
                return
            if final in ("reject_initial", "return_initial"):
                decision = final.split("_")[0]
                steps.append((_hours(rng, 0.5, 20), S.INITIAL_REVIEW, _DECISION_TO[decision], reviewer, "", decision))
                return
            steps.append((_hours(rng, 0.5, 20), S.INITIAL_REVIEW, S.SECONDARY_REVIEW, reviewer, "", "pass"))
            if final == "secondary_review":
                return
            decision = final.split("_")[0]
            approver = desk.approver_for(rng, terms.approved_amount or terms.amount)
            steps.append((_hours(rng, 1, 50), S.SECONDARY_REVIEW, _DECISION_TO[decision], approver, "", decision))

        steps.append((0, "", S.DRAFT, officer, "", "create"))
        if status == S.DRAFT:
            pass
        elif status == S.WITHDRAWN:
            stage = rng.choice(("draft", "submitted", "initial_review", "secondary_review", "returned"))
            if stage != "draft":
                steps.append((_hours(rng, 0.5, 72), S.DRAFT, S.SUBMITTED, officer, "", "submit"))
                if stage == "returned":
                    review_stage("return_initial")
                elif stage != "submitted":
                    review_stage(stage)
            steps.append(
                (_hours(rng, 1, 96), _status_of(steps), S.WITHDRAWN, officer, rng.choice(WITHDRAW_REASONS), "withdraw")
            )
        else:
            steps.append((_hours(rng, 0.5, 72), S.DRAFT, S.SUBMITTED, officer, "", "submit"))
            if returned_first:
                where = rng.choice(("return_initial", "return_secondary"))
                review_stage(where)
                if status != S.RETURNED:
                    steps.append((_hours(rng, 4, 96), S.RETURNED, S.SUBMITTED, officer, "", "submit"))
            if status == S.SUBMITTED:
                pass
            elif status in (S.INITIAL_REVIEW, S.SECONDARY_REVIEW):
                review_stage(status)
            elif status == S.REJECTED:
                review_stage(rng.choice(("reject_initial", "reject_initial", "reject_secondary")))
            elif status in (S.APPROVED, S.EXPIRED, S.CONTRACTED, S.DISBURSED):
                review_stage("approve_secondary")
                if status == S.EXPIRED:
                    steps.append((-1, S.APPROVED, S.EXPIRED, None, self.expiry_note, "expire"))
                elif status in (S.CONTRACTED, S.DISBURSED):
                    checker = desk.checker(rng)
                    steps.append((_hours(rng, 2, 120), S.APPROVED, S.CONTRACTED, checker, "", "contract"))
                    if status == S.DISBURSED:
                        steps.append((_hours(rng, 2, 96), S.CONTRACTED, S.DISBURSED, checker, "", "disburse"))

        # Times, backwards from the end. An expiry comes 30 days after the approval, at the 00:20 sweep.
        times = [0] * len(steps)
        moment = end
        for index in range(len(steps) - 1, -1, -1):
            times[index] = moment
            gap = steps[index][0]
            if gap == -1:
                moment = moment - APPROVAL_VALID_DAYS * DAY - _hours(rng, 1, 12)
            else:
                moment -= gap
        self._fill(rng, path, steps, times, terms)
        return path

    def _fill(self, rng: random.Random, path: Path, steps, times, terms: Terms) -> None:
        sla_due = None
        for (_gap, before, after, actor, note, kind), moment in zip(steps, times, strict=True):
            data = None
            if kind == "create":
                data = "created"
            elif sla_due is not None and before in (S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW):
                data = moment > sla_due
            if kind == "submit":
                sla_due = moment + terms.sla_initial_hours * HOUR
                path.submitted_at = moment
            elif kind == "start":
                path.initial_reviewer = actor.id
            elif kind == "pass":
                note = rng.choice(PASS_COMMENTS)
                path.reviews.append((moment, Review.Stage.INITIAL, actor.id, Review.Decision.PASS, note, [], False))
                sla_due = moment + terms.sla_secondary_hours * HOUR
            elif kind in ("return", "reject", "approve"):
                stage = Review.Stage.INITIAL if before == S.INITIAL_REVIEW else Review.Stage.SECONDARY
                codes: list = []
                if kind == "return":
                    note = rng.choice(RETURN_COMMENTS)
                elif kind == "reject":
                    code = rng.choice(tuple(REJECT_COMMENTS))
                    codes, note = [code.value], REJECT_COMMENTS[code]
                    path.rejection_codes, path.rejection_text = codes, note
                else:
                    note = rng.choice(APPROVE_COMMENTS)
                    path.approved_by, path.approved_at = actor.id, moment
                    path.expires_at = moment + APPROVAL_VALID_DAYS * DAY
                decision = {"return": Review.Decision.RETURN, "reject": Review.Decision.REJECT}.get(
                    kind, Review.Decision.APPROVE
                )
                path.reviews.append((moment, stage, actor.id, decision, note, codes, kind == "approve"))
                sla_due = None
            elif kind == "withdraw":
                sla_due = None
            elif kind == "contract":
                path.expires_at = None
            path.steps.append((moment, before, after, actor.id if actor else None, note, data))
        path.sla_due = sla_due

    # --- rows -----------------------------------------------------------------------------------------------------
    def write(self, *, path: Path, borrower_id: int, desk: Desk, officer: Person, terms: Terms) -> tuple[int, str]:
        """Write the application, its events and reviews; returns (id, number)."""
        days = self.days
        app_id = self.applications.new_id()
        created = path.steps[0][0]
        number = self.numbers.next("LA", days_year(created), desk)
        events = self.events
        for moment, before, after, actor, note, data in path.steps:
            events.add(
                f"{events.new_id()}\t{app_id}\tstatus\t{before}\t{after}\t{NULL if actor is None else actor}\t"
                f"{text(note)}\t{_EVENT_DATA[data]}\t{days.moment(moment)}\n"
            )
        approved = path.approved_at is not None
        for moment, stage, reviewer, decision, comment, codes, is_approval in path.reviews:
            granted = (
                f"{money(terms.approved_amount)}\t{terms.rate}\t{terms.term_months}"
                if is_approval
                else f"{NULL}\t{NULL}\t{NULL}"
            )
            checklist = _CHECKLIST if decision == Review.Decision.PASS else "{}"
            self.reviews.add(
                f"{self.reviews.new_id()}\t{app_id}\t{stage}\t{reviewer}\t{decision}\t{checklist}\t"
                f"{text(comment)}\t{words(codes)}\t{granted}\t\t{days.moment(moment)}\n"
            )
        last = path.steps[-1][0]
        status = path.steps[-1][2]
        if approved:
            granted = f"{money(terms.approved_amount)}\t{terms.rate}\t{terms.term_months}"
        else:
            granted = f"{NULL}\t{NULL}\t{NULL}"
        self.applications.add(
            f"{app_id}\t{days.moment(created)}\t{days.moment(last)}\t{number}\t{borrower_id}\t{terms.product_id}\t"
            f"{money(terms.amount)}\t{terms.term_months}\t{terms.method}\t{terms.rate}\t{text(terms.purpose)}\t"
            f"{terms.channel}\t{desk.id}\t{officer.id}\t{officer.id}\t{status}\t{days.moment(last)}\t"
            f"{days.moment_or_null(path.sla_due)}\t{days.moment_or_null(path.submitted_at)}\t"
            f"{NULL if path.initial_reviewer is None else path.initial_reviewer}\t{granted}\t\t"
            f"{NULL if path.approved_by is None else path.approved_by}\t{days.moment_or_null(path.approved_at)}\t"
            f"{days.moment_or_null(path.expires_at)}\t{words(path.rejection_codes)}\t{text(path.rejection_text)}\t"
            f"{NULL}\n"
        )
        return app_id, number


# An event's data: nothing, {"created": true} on the first, {"sla_breached": …} when leaving a stage with a target.
_EVENT_DATA = {
    None: "{}",
    "created": '{"created": true}',
    True: '{"sla_breached": true}',
    False: '{"sla_breached": false}',
}
_CHECKLIST = jsonb(CHECKLIST_ALL)
_DECISION_TO = {"return": S.RETURNED, "reject": S.REJECTED, "approve": S.APPROVED}


def _hours(rng: random.Random, low: float, high: float) -> int:
    return int(rng.uniform(low, high) * HOUR)


def _status_of(steps) -> str:
    return steps[-1][2]


def days_year(moment: int) -> int:
    """The Shanghai calendar year of epoch seconds."""
    return to_date(day_of(moment)).year
