"""A loan's follow-ups (DESIGN.md §5) as the planner, the overdue sweep and the officers would have left them: the
plan of followups.planning (first, second, quarterly, pre-maturity), one overdue call per overdue episode, records
completed around their due dates and reviewed by a risk officer (a few still open, waiting for review or returned),
the risk warnings that risky records raise, and the satisfaction ratings some borrowers gave.

Records have no question set or answers (the library may not exist in a generated database); everything else about
them is filled in as the record form requires.
"""

import random
from datetime import datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from core.dates import SHANGHAI
from followups.models import FollowUp, FollowUpKind, FollowUpPolicy, FollowUpStatus, RiskWarning, SatisfactionSurvey
from followups.models.followups import Channel, RepaymentAbility, RiskLevel, RiskSignal, Subject, Willingness
from followups.planning import numbered_plan
from followups.services.nudges import LATE_DAYS
from followups.services.warnings import acknowledge_due, warrants_warning
from postloan.models import LoanStatus

from .copy import NULL, CopyWriter, Days, at, flag, text, to_date, words
from .loans import LoanFacts, Timeline

F = FollowUpStatus
HOUR = 3600
DAY = 86400
ROUTINE_SUMMARIES = (
    "借款人经营正常，资金按合同约定用途使用，还款来源稳定。",
    "电话回访借款人本人，工作稳定，收入无明显变化，按期还款无困难。",
    "上门走访经营场所，客流正常，库存充足，未发现异常。",
    "借款人表示近期收入略有下降，但仍可按期还款，已提醒注意还款日。",
)
ROUTINE_STEPS = ("按计划继续回访。", "下次回访时核实经营流水。", "无需特别措施。")
OVERDUE_SUMMARIES = (
    "借款人因资金周转暂时困难未能按期还款，承诺近期补足欠款。",
    "借款人表示忘记还款日，已当场说明逾期后果，借款人同意尽快还款。",
    "借款人经营下滑，回款延迟，还款意愿尚可。",
)
RISK_SUMMARIES = (
    "借款人经营严重下滑，多次催收未还款，还款能力明显不足。",
    "借款人失业，暂无稳定收入来源，还款意愿犹豫。",
    "借款人涉及民事诉讼，名下账户被冻结，无法按期还款。",
)
RISK_STEPS = (
    "已上报风险预警，建议加强催收并评估重组方案。",
    "建议启动担保人追偿程序。",
    "列入重点关注名单，每周跟进。",
)
RETURN_NOTES = ("请补充借款人经营流水核实情况。", "回访记录过于简略，请补充收入变化情况。")
RESOLUTIONS = ("借款人已补足欠款，风险解除。", "已制定还款计划并按计划执行，继续观察。", "已转入催收流程，预警关闭。")
VISIT_PLACES = ("借款人经营场所", "借款人住所", "借款人单位")
RISK_SIGNALS = (RiskSignal.BUSINESS_DECLINE, RiskSignal.JOB_LOSS, RiskSignal.ILLNESS, RiskSignal.LITIGATION)

FOLLOWUP_COLUMNS = (
    "id",
    "loan_id",
    "application_id",
    "kind",
    "sequence",
    "episode_start",
    "branch_id",
    "officer_id",
    "due_on",
    "planned_on",
    "status",
    "failed_attempts",
    "subject",
    "subject_name",
    "channel",
    "question_set_id",
    "answers",
    "funds_used_as_contracted",
    "repayment_ability",
    "willingness",
    "risk_signals",
    "risk_level",
    "summary",
    "next_steps",
    "location",
    "attendees",
    "completed_by_id",
    "completed_at",
    "reviewed_by_id",
    "reviewed_at",
    "review_note",
    "escalated_at",
    "created_at",
    "updated_at",
)
WARNING_COLUMNS = (
    "id",
    "loan_id",
    "followup_id",
    "branch_id",
    "level",
    "signals",
    "summary",
    "status",
    "opened_at",
    "acknowledge_due_at",
    "acknowledged_by_id",
    "acknowledged_at",
    "resolved_by_id",
    "resolved_at",
    "resolution",
)
SURVEY_COLUMNS = (
    "id",
    "borrower_id",
    "inquiry_id",
    "followup_id",
    "officer_id",
    "branch_id",
    "channel",
    "rating",
    "comment",
    "created_at",
)
SURVEY_SHARE = 0.15
RATINGS = ((5, 0.55), (4, 0.3), (3, 0.1), (2, 0.03), (1, 0.02))


def _status_for_age(rng: random.Random, age: int) -> str:
    """How far a follow-up due `age` days ago has got: recent ones are often still open or waiting for review."""
    point = rng.random()
    if age >= 20:
        return F.APPROVED if point < 0.96 else F.PLANNED if point < 0.99 else F.COMPLETED
    if age >= 5:
        table = ((0.6, F.APPROVED), (0.75, F.COMPLETED), (0.8, F.RETURNED))
    else:
        table = ((0.15, F.APPROVED), (0.4, F.COMPLETED), (0.45, F.RETURNED))
    for limit, status in table:
        if point < limit:
            return status
    return F.PLANNED


class FollowUps:
    def __init__(self, writer: CopyWriter, days: Days, *, today: int, now: int, product_ids):
        self.days = days
        self.today = today
        self.now = now
        self.followups = writer.table(FollowUp, FOLLOWUP_COLUMNS)
        self.warnings = writer.table(RiskWarning, WARNING_COLUMNS)
        self.surveys = writer.table(SatisfactionSurvey, SURVEY_COLUMNS)
        self.policies = {
            policy.product_id: policy for policy in FollowUpPolicy.objects.filter(product_id__in=product_ids)
        }
        self._plans: dict[tuple, dict] = {}
        self.shown: dict[int, set[str]] = {}  # warning states written, per branch
        with translation.override(settings.LANGUAGE_CODE):
            # The record's line on the loan's timeline, as services.records writes it (officers use the default).
            self.recorded = gettext("%(kind)s recorded: %(summary)s")
            self.kind_labels = {kind.value: str(kind.label) for kind in FollowUpKind}

    def _plan(self, disbursed_on: int, maturity: int, term: int, product_id: int) -> dict:
        """followups.planning.numbered_plan, remembered: loans disbursed on one day with one term share a plan."""
        key = (disbursed_on, maturity, term, product_id)
        found = self._plans.get(key)
        if found is None:
            if len(self._plans) > 20_000:
                self._plans.clear()
            found = self._plans[key] = numbered_plan(
                disbursed_on=to_date(disbursed_on),
                maturity_on=to_date(maturity),
                term_months=term,
                policy=self.policies.get(product_id),
            )
        return found

    def write(self, rng: random.Random, facts: LoanFacts, timeline: Timeline) -> None:
        outcome = facts.outcome
        planned = self._plan(facts.disbursed_on, facts.first_maturity, facts.first_term, facts.product_id)
        created = facts.disbursed_at + rng.randrange(5, 120)
        closed_on = outcome.paid_off_on
        prepayment = outcome.prepayment
        redated = {}
        if prepayment is not None:
            # followups_redate_for_loan after the prepayment: the plan for the new maturity and term; planned
            # follow-ups it no longer has are cancelled, moved ones take their new date, new ones are created.
            redated = self._plan(facts.disbursed_on, facts.maturity, facts.term_months, facts.product_id)
            redated_at = min(at(prepayment.day, 18 * HOUR), self.now - 60)
        for key in sorted(planned.keys() | redated.keys(), key=lambda key: (planned.get(key) or redated[key], key)):
            kind, sequence = key
            old, new = planned.get(key), redated.get(key)
            if prepayment is None or (old is not None and (old.toordinal() < prepayment.day or new == old)):
                due, born, cancelled_at = old.toordinal(), created, None
            elif old is not None and new is None:
                due, born, cancelled_at = old.toordinal(), created, redated_at
            else:
                due, born, cancelled_at = new.toordinal(), created if old is not None else redated_at, None
            if closed_on is not None and due > closed_on and cancelled_at is None:
                continue  # (a loan repaid on schedule is closed after its last planned follow-up)
            self._one(rng, facts, timeline, kind, sequence, None, due, born, overdue=False, cancelled_at=cancelled_at)
        for number, episode in enumerate(outcome.episodes, start=1):
            # The sweep that starts the episode has the call planned for the next day (followups.planning).
            due = episode.start + 1
            ongoing = episode.cured_on is None
            self._one(
                rng,
                facts,
                timeline,
                FollowUpKind.OVERDUE_CALL,
                number,
                episode.start,
                due,
                at(episode.start, 31 * 60 + rng.randrange(0, 300)),
                overdue=True,
                serious=ongoing and (self.today - episode.start) > 45,
                cured_on=episode.cured_on,
            )

    def _one(
        self,
        rng: random.Random,
        facts: LoanFacts,
        timeline: Timeline,
        kind: str,
        sequence: int,
        episode_start: int | None,
        due: int,
        created: int,
        *,
        overdue: bool,
        serious: bool = False,
        cured_on: int | None = None,
        cancelled_at: int | None = None,
    ) -> None:
        days, today, now = self.days, self.today, self.now
        status = F.PLANNED if due > today else _status_for_age(rng, today - due)
        if cancelled_at is not None:
            status = F.CANCELLED
        if overdue and cured_on is not None and status == F.PLANNED and cured_on < today - 20:
            status = F.APPROVED  # an old, cured episode's call was made
        followup_id = self.followups.new_id()
        officer, desk = facts.officer, facts.desk
        record = f"\t\t\t{NULL}\t{{}}\t{NULL}\t\t\t[]\t\t\t\t\t"
        completed_by = reviewed_by = NULL
        completed_at = reviewed_at = None
        review_note = ""
        escalated_at = None
        updated = created if cancelled_at is None else cancelled_at
        if status not in (F.PLANNED, F.CANCELLED):
            completed_at = max(created + HOUR, at(due, rng.randrange(9 * HOUR, 18 * HOUR)) + rng.randrange(-2, 4) * DAY)
            completed_at = min(completed_at, now - rng.randrange(HOUR, 3 * HOUR))
            completed_by = officer.id
            record, level, signals, summary = self._record(rng, facts, overdue=overdue, serious=serious)
            updated = completed_at
            timeline.add(
                completed_at,
                "note",
                officer.id,
                self.recorded % {"kind": self.kind_labels[kind], "summary": summary},
                f'{{"followup": {followup_id}, "risk_level": "{level}", "risk_signals": {words(signals)}}}',
            )
            if status in (F.APPROVED, F.RETURNED):
                reviewed_at = min(completed_at + rng.randrange(2 * HOUR, 3 * DAY), now - rng.randrange(60, HOUR))
                reviewed_at = max(reviewed_at, completed_at + 60)
                reviewed_by = rng.choice(facts.desk.risk_officers).id
                review_note = rng.choice(RETURN_NOTES) if status == F.RETURNED else ""
                updated = reviewed_at
            if warrants_warning(risk_level=level, risk_signals=signals):
                self._warning(rng, facts, followup_id, level, signals, summary, completed_at, cured_on=cured_on)
            if (
                status == F.APPROVED
                and facts.borrower_user_id is not None
                and rng.random() < SURVEY_SHARE
                and completed_at + 2 * DAY < now
            ):
                channel = "visit" if "\tvisit\t" in record else "phone"
                self._survey(rng, facts, followup_id, channel, completed_at + rng.randrange(HOUR, 2 * DAY))
        if status in (F.PLANNED, F.RETURNED) and due < today - LATE_DAYS:
            # The 08:35 sweep escalated it to the branch managers once it was more than three days late.
            escalated_at = max(at(due + LATE_DAYS + 1, 8 * HOUR + 35 * 60), (reviewed_at or created) + 60)
            if escalated_at <= now:
                updated = max(updated, escalated_at)
            else:
                escalated_at = None
        self.followups.add(
            f"{followup_id}\t{facts.id}\t{NULL}\t{kind}\t{sequence}\t{days.iso_or_null(episode_start)}\t{desk.id}\t"
            f"{officer.id}\t{days.iso(due)}\t{days.iso(due)}\t{status}\t0\t{record}\t{completed_by}\t"
            f"{days.moment_or_null(completed_at)}\t{reviewed_by}\t{days.moment_or_null(reviewed_at)}\t"
            f"{text(review_note)}\t{days.moment_or_null(escalated_at)}\t{days.moment(created)}\t{days.moment(updated)}\n"
        )

    def _record(self, rng: random.Random, facts: LoanFacts, *, overdue: bool, serious: bool):
        """The record's columns from `subject` to `attendees`, and its level, signals and summary."""
        signals: list[str] = []
        if serious:
            ability = rng.choice((RepaymentAbility.DECLINING, RepaymentAbility.SEVERE))
            willingness = rng.choice((Willingness.HESITANT, Willingness.REFUSES))
            level = RiskLevel.HIGH
            signals = [rng.choice(RISK_SIGNALS).value]
            summary, steps = rng.choice(RISK_SUMMARIES), rng.choice(RISK_STEPS)
        elif overdue:
            ability = rng.choice((RepaymentAbility.STABLE, RepaymentAbility.DECLINING))
            willingness = Willingness.GOOD if rng.random() < 0.8 else Willingness.HESITANT
            level = RiskLevel.MEDIUM
            summary, steps = rng.choice(OVERDUE_SUMMARIES), "约定还款日期并在到期前提醒。"
        else:
            ability = RepaymentAbility.STABLE if rng.random() < 0.85 else RepaymentAbility.IMPROVED
            willingness = Willingness.GOOD
            level = RiskLevel.LOW
            summary, steps = rng.choice(ROUTINE_SUMMARIES), rng.choice(ROUTINE_STEPS)
        visit = not overdue and rng.random() < 0.2
        channel = Channel.VISIT if visit else Channel.PHONE
        location = rng.choice(VISIT_PLACES) if visit else ""
        attendees = f"{facts.officer.name}、{facts.borrower_name}" if visit else ""
        record = (
            f"{Subject.BORROWER}\t{text(facts.borrower_name)}\t{channel}\t{NULL}\t{{}}\t{flag(True)}\t{ability}\t"
            f"{willingness}\t{words(signals)}\t{level}\t{text(summary)}\t{text(steps)}\t{location}\t{text(attendees)}"
        )
        return record, level, signals, summary

    def _warning(self, rng, facts: LoanFacts, followup_id, level, signals, summary, opened_at, *, cured_on) -> None:
        days, now = self.days, self.now
        due_at = int(acknowledge_due(datetime.fromtimestamp(opened_at, SHANGHAI)).timestamp())
        risk_officer = rng.choice(facts.desk.risk_officers)
        age = now - opened_at
        still_overdue = facts.outcome.status == LoanStatus.OVERDUE and cured_on is None
        if age < DAY:
            status = "open"
        elif still_overdue:
            status = "open" if rng.random() < 0.1 else "acknowledged" if rng.random() < 0.7 else "resolved"
            # Every state shows in every book: the biggest branch's first warnings on loans still overdue are one
            # left open past its acknowledgement time, one acknowledged and one resolved.
            shown = self.shown.setdefault(facts.desk.position, set())
            if facts.desk.biggest and status in shown:
                status = next(
                    (wanted for wanted in ("open", "acknowledged", "resolved") if wanted not in shown), status
                )
            shown.add(status)
        else:
            status = "resolved"
        acknowledged_by = resolved_by = NULL
        acknowledged_at = resolved_at = None
        resolution = ""
        if status != "open":
            acknowledged_by = risk_officer.id
            acknowledged_at = min(opened_at + rng.randrange(HOUR, 20 * HOUR), now - 60)
        if status == "resolved":
            resolved_by = risk_officer.id
            resolved_at = min(acknowledged_at + rng.randrange(DAY, 10 * DAY), now - 30)
            resolved_at = max(resolved_at, acknowledged_at + 1)
            resolution = rng.choice(RESOLUTIONS)
        self.warnings.add(
            f"{self.warnings.new_id()}\t{facts.id}\t{followup_id}\t{facts.desk.id}\t{level}\t{words(signals)}\t"
            f"{text(summary)}\t{status}\t{days.moment(opened_at)}\t{days.moment(due_at)}\t{acknowledged_by}\t"
            f"{days.moment_or_null(acknowledged_at)}\t{resolved_by}\t{days.moment_or_null(resolved_at)}\t"
            f"{text(resolution)}\n"
        )

    def _survey(self, rng, facts: LoanFacts, followup_id: int, channel: str, moment: int) -> None:
        self.surveys.add(
            f"{self.surveys.new_id()}\t{facts.borrower_id}\t{NULL}\t{followup_id}\t{facts.officer.id}\t"
            f"{facts.desk.id}\t{channel}\t{_rating(rng)}\t\t{self.days.moment(min(moment, self.now - 60))}\n"
        )


def _rating(rng: random.Random) -> int:
    point, total = rng.random(), 0.0
    for rating, weight in RATINGS:
        total += weight
        if point < total:
            return rating
    return 5
