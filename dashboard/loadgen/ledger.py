"""How one loan was repaid up to today, worked out in memory with the rules the services apply, so that the rows
written afterwards agree with what posting the same repayments and running the daily sweep would have produced.

Amounts are whole fen (ints). The rules followed, and where they come from:
- allocation (postloan.allocation): oldest installment first, penalty → interest → principal; a regular payment reaches
  the installments due before it and the current period's one, so each repayment here pays the oldest unpaid
  installment, dated after the previous installment's due date;
- penalty (postloan.services.sweep): each day past due, the installment's unpaid principal as it stands before that
  day's payments × the penalty rate / 360, rounded half up to the fen; a day that rounds to zero writes no row. The
  history kept is the first PENALTY_HISTORY_DAYS days past due of each installment (bounded size; see shape.py);
- overdue episodes and classification (postloan.services.common.past_due_state, classification): an episode starts
  the day after the oldest unpaid installment's due date, ends with the repayment that leaves nothing past due; the
  sweep moves the class to its floor by days past due (1 → special mention, 91 → substandard, 271 → doubtful,
  361 → loss) and back to normal on the day after a cure.
"""

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from postloan.allocation import InstallmentState
from postloan.models import Bucket, Classification, LoanStatus, bucket_for_dpd
from postloan.services.prepayment import OVERPAYMENT_SHORTEN_TERM, prepayment_plan

from . import shape

C = Classification
# The days past due at which the sweep's floor moves a class down, and to what.
CLASS_STEPS = ((1, C.SPECIAL_MENTION), (91, C.SUBSTANDARD), (271, C.DOUBTFUL), (361, C.LOSS))
_PENALTY_DENOMINATOR = 100 * 360 * 10_000  # percent, day count 360, rates held in ten-thousandths of a percent


def daily_penalty(principal_fen: int, rate_units: int) -> int:
    """One day's penalty in fen on `principal_fen` at a rate of `rate_units` / 10,000 percent a year, rounded half up:
    the same as core.money.round_money(principal * rate / 100 / 360) on Decimals."""
    return (2 * principal_fen * rate_units + _PENALTY_DENOMINATOR) // (2 * _PENALTY_DENOMINATOR)


def class_floor(dpd: int) -> str:
    found = C.NORMAL
    for threshold, classification in CLASS_STEPS:
        if dpd >= threshold:
            found = classification
    return found


@dataclass(slots=True)
class Inst:
    """One installment: what falls due (fen), what was accrued and paid, and on which day it was paid in full.
    `index` is its place in its schedule version (number − 1), `key` its place among all the loan's installments."""

    index: int
    due: int  # day ordinal
    principal: int
    interest: int
    penalty: int = 0
    principal_paid: int = 0
    interest_paid: int = 0
    penalty_paid: int = 0
    paid_on: int | None = None
    version: int = 1
    key: int = 0

    @property
    def outstanding(self) -> int:
        return (
            self.principal + self.interest + self.penalty - self.principal_paid - self.interest_paid - self.penalty_paid
        )

    @property
    def status(self) -> str:
        if self.outstanding == 0:
            return "paid"
        if self.principal_paid or self.interest_paid or self.penalty_paid:
            return "partial"
        return "pending"


@dataclass(slots=True)
class Pay:
    """One repayment: (part of) one installment (`inst`, a key), and for a prepayment the principal it repaid of
    later installments of the same version (`extra`: (key, principal) pairs)."""

    day: int
    inst: int
    amount: int
    penalty: int
    interest: int
    principal: int
    settles: bool  # the installment is paid in full by it
    extra: tuple[tuple[int, int], ...] = ()

    @property
    def principal_total(self) -> int:
        return self.principal + sum(part for _key, part in self.extra)


@dataclass(slots=True)
class Episode:
    """Days the loan was past due: from `start` (the first day past due) to the day of the curing repayment."""

    start: int
    cured_on: int | None = None


@dataclass
class Prepayment:
    """A principal prepayment that shortened the term (postloan.services.prepayment): version 2 from its day."""

    day: int
    principal: int  # fen
    old_payment: Decimal
    new_payment: Decimal
    old_maturity: date
    new_maturity: date


@dataclass
class Outcome:
    """The loan today: its installments (`insts`, of the version in force; `all_insts`, every version's), repayments
    (in date order), penalty accruals, overdue episodes and the summary columns that loan_refresh_summary and the
    sweep keep on the loan."""

    insts: list[Inst]
    all_insts: list[Inst]
    pays: list[Pay] = field(default_factory=list)
    accruals: list[tuple[int, int, int, int]] = field(default_factory=list)  # (inst key, day, principal, amount)
    episodes: list[Episode] = field(default_factory=list)
    class_changes: list[tuple[int, str, str, int]] = field(default_factory=list)  # (day, from, to, dpd)
    prepayment: Prepayment | None = None
    status: str = LoanStatus.ACTIVE
    dpd: int = 0
    bucket: str = Bucket.CURRENT
    classification: str = C.NORMAL
    overdue_since: int | None = None
    next_due: int | None = None
    next_due_amount: int = 0
    past_due_amount: int = 0  # what fell due before today and is unpaid, penalty included (Loan.past_due_amount)
    outstanding_principal: int = 0
    paid_off_on: int | None = None

    def version_on(self, day: int) -> list[Inst]:
        """The installments in force on the morning of `day` (a prepayment takes effect after that day's sweep)."""
        if self.prepayment is None or day <= self.prepayment.day:
            return [inst for inst in self.all_insts if inst.version == 1]
        return self.insts


class Simulation:
    """Repays one loan from disbursement to `today` with the behaviour of shape.py; `stop_at` is the index of the
    first installment the borrower never pays (an overdue loan), or None; `prepay_at` the index of the installment
    whose repayment also prepays principal and shortens the term, or None."""

    def __init__(self, rng: random.Random, *, today: int, rate_units: int, history_days: int):
        self.rng = rng
        self.today = today
        self.rate_units = rate_units
        self.history_days = history_days

    def run(
        self,
        insts: list[Inst],
        *,
        disbursed_on: int,
        stop_at: int | None,
        prepay_at: int | None = None,
        method: str = "",
        annual_rate: Decimal | None = None,
    ) -> Outcome:
        rng, today = self.rng, self.today
        for key, inst in enumerate(insts):
            inst.key = key
        outcome = Outcome(insts=insts, all_insts=list(insts))
        last_pay = disbursed_on
        previous_due = None
        stopped = False
        position = 0
        while position < len(insts):
            inst = insts[position]
            later = insts[position + 1] if position + 1 < len(insts) else None
            plan: list[tuple[int, float | None]] = []
            floor_day = max(previous_due + 1 if previous_due is not None else disbursed_on + 1, last_pay)
            prepaid = False
            if stopped:
                pass
            elif stop_at is not None and inst.index >= stop_at:
                stopped = True
                if rng.random() < shape.DEFAULT_PARTIAL_SHARE:
                    day = rng.randint(floor_day, max(floor_day, min(inst.due + 20, today)))
                    if day <= today:
                        plan.append((day, rng.uniform(0.2, 0.6)))
            elif prepay_at is not None and inst.version == 1 and inst.index == prepay_at:
                day = max(inst.due - shape.pick(rng, shape.EARLY_DAYS), floor_day)
                if day <= today:
                    plan.append((day, None))
                    prepaid = True
                else:
                    stopped = True
            else:
                day = self._pay_day(inst, floor_day, later.due if later else None)
                if rng.random() < shape.PARTIAL_SHARE and floor_day < day:
                    first = rng.randint(floor_day, day - 1)
                    if first <= today:
                        plan.append((first, rng.uniform(0.3, 0.7)))
                if day <= today:
                    plan.append((day, None))
                else:
                    stopped = True
            if plan:
                last_pay = plan[-1][0]
            switched = False
            if prepaid:
                switched = self._prepay(outcome, insts, inst, plan[0][0], method, annual_rate)
                insts = outcome.insts
            elif plan or (inst.due < today and inst.outstanding):
                self._settle(inst, plan, outcome)
            previous_due = inst.due
            position = 0 if switched else position + 1
        self._summarise(outcome)
        return outcome

    def _prepay(self, outcome: Outcome, insts: list[Inst], inst: Inst, day: int, method: str, annual_rate) -> bool:
        """Pay `inst` on `day` with 20–60 % of the later principal on top, prepaid to shorten the term: the plan of
        postloan.services.prepayment (the same function the posting uses) makes version 2, in force from here on
        (`outcome.insts`). False when the service would refuse it: then only the installment is paid."""
        rng = self.rng
        states = [
            InstallmentState(
                key=item.key,
                number=item.index + 1,
                due_date=date.fromordinal(item.due),
                penalty=_decimal(item.penalty - item.penalty_paid),
                interest=_decimal(item.interest - item.interest_paid),
                principal=_decimal(item.principal - item.principal_paid),
            )
            for item in insts
        ]
        owed_later = sum(item.principal - item.principal_paid for item in insts if item.index > inst.index)
        extra = int(owed_later * rng.uniform(0.2, 0.6)) // 100_000 * 100_000  # whole thousands of yuan
        plan = None
        if 0 < extra < owed_later:
            try:
                plan = prepayment_plan(
                    option=OVERPAYMENT_SHORTEN_TERM,
                    method=method,
                    annual_rate=annual_rate,
                    installments=states,
                    today=date.fromordinal(day),
                    leftover=_decimal(extra),
                )
            except ValidationError:
                plan = None
        regular = inst.outstanding
        inst.penalty_paid, inst.interest_paid, inst.principal_paid = inst.penalty, inst.interest, inst.principal
        inst.paid_on = day
        if plan is None:
            outcome.pays.append(Pay(day, inst.key, regular, 0, inst.interest, inst.principal, True))
            return False
        by_key = {item.key: item for item in insts}
        lines = []
        for line in plan.lines:
            part = int(line.principal * 100)
            by_key[line.key].principal_paid += part
            lines.append((line.key, part))
        outcome.pays.append(
            Pay(day, inst.key, regular + extra, 0, inst.interest, inst.principal, True, extra=tuple(lines))
        )
        first_key = len(outcome.all_insts)
        version = [
            Inst(
                index=number,
                due=row.due_date.toordinal(),
                principal=int(row.principal * 100),
                interest=int(row.interest * 100),
                version=2,
                key=first_key + number,
            )
            for number, row in enumerate(plan.new_rows)
        ]
        outcome.all_insts.extend(version)
        outcome.insts = version
        outcome.prepayment = Prepayment(
            day=day,
            principal=extra,
            old_payment=plan.old_payment,
            new_payment=plan.new_payment,
            old_maturity=plan.old_maturity,
            new_maturity=plan.new_maturity,
        )
        return True

    def _pay_day(self, inst: Inst, floor_day: int, next_due: int | None) -> int:
        """When an installment the borrower pays in full is paid: a few days early or on the day, or late (never
        so late that the next installment falls due first, and never today or later for one already past due)."""
        rng = self.rng
        if rng.random() < shape.LATE_SHARE:
            cap = shape.LATE_MAX_DAYS if next_due is None else min(shape.LATE_MAX_DAYS, next_due - inst.due - 1)
            if inst.due < self.today:
                cap = min(cap, self.today - 1 - inst.due)
            if cap >= 1:
                return inst.due + 1 + min(int(rng.expovariate(1 / 6)), cap - 1)
        return max(inst.due - shape.pick(rng, shape.EARLY_DAYS), floor_day)

    def _settle(self, inst: Inst, plan: list[tuple[int, float | None]], outcome: Outcome) -> None:
        """Accrue penalty day by day while the installment is past due and apply its payments in date order."""
        accrue_to = min(self.today, inst.due + self.history_days)
        day = inst.due + 1
        for pay_day, share in plan:
            if day <= min(pay_day, accrue_to):
                end = min(pay_day, accrue_to)
                self._accrue(inst, day, end, outcome)
                day = end + 1
            owed_penalty = inst.penalty - inst.penalty_paid
            owed_interest = inst.interest - inst.interest_paid
            owed_principal = inst.principal - inst.principal_paid
            owed = owed_penalty + owed_interest + owed_principal
            if share is None:
                amount = owed
            else:
                # A partial payment is a round sum: whole hundreds of yuan when the installment allows it.
                amount = int(owed * share) // 10_000 * 10_000 or owed // 2
                amount = min(max(amount, 1), owed - 1)
            if amount <= 0:
                continue
            penalty = min(amount, owed_penalty)
            interest = min(amount - penalty, owed_interest)
            principal = amount - penalty - interest
            inst.penalty_paid += penalty
            inst.interest_paid += interest
            inst.principal_paid += principal
            settles = inst.outstanding == 0
            if settles:
                inst.paid_on = pay_day
            outcome.pays.append(Pay(pay_day, inst.key, amount, penalty, interest, principal, settles))
        if day <= accrue_to and inst.outstanding:
            self._accrue(inst, day, accrue_to, outcome)

    def _accrue(self, inst: Inst, first: int, last: int, outcome: Outcome) -> None:
        principal = inst.principal - inst.principal_paid
        amount = daily_penalty(principal, self.rate_units)
        if principal <= 0 or amount <= 0:
            return
        accruals = outcome.accruals
        for day in range(first, last + 1):
            accruals.append((inst.key, day, principal, amount))
        inst.penalty += amount * (last - first + 1)

    def _summarise(self, outcome: Outcome) -> None:
        today = self.today
        insts = outcome.insts
        outcome.pays.sort(key=lambda pay: (pay.day, pay.inst))
        outcome.outstanding_principal = sum(inst.principal - inst.principal_paid for inst in insts)
        unpaid = next((inst for inst in insts if inst.outstanding), None)
        outcome.past_due_amount = sum(inst.outstanding for inst in insts if inst.due < today)
        # Episodes: each installment paid in full after its due date was one; an unpaid past-due one is the current.
        for inst in outcome.all_insts:
            if inst.paid_on is not None and inst.paid_on > inst.due:
                outcome.episodes.append(Episode(start=inst.due + 1, cured_on=inst.paid_on))
        outcome.episodes.sort(key=lambda episode: episode.start)
        if unpaid is None:
            outcome.status = LoanStatus.PAID_OFF
            outcome.paid_off_on = outcome.pays[-1].day
        else:
            outcome.next_due, outcome.next_due_amount = unpaid.due, unpaid.outstanding
            if unpaid.due < today:
                outcome.status = LoanStatus.OVERDUE
                outcome.dpd = today - unpaid.due
                outcome.bucket = bucket_for_dpd(outcome.dpd)
                outcome.overdue_since = unpaid.due + 1
                outcome.episodes.append(Episode(start=unpaid.due + 1))
        self._classify(outcome)

    def _classify(self, outcome: Outcome) -> None:
        """The sweep's classification changes, day by day of each episode, and the class today."""
        current = C.NORMAL
        for episode in outcome.episodes:
            end = episode.cured_on if episode.cured_on is not None else self.today
            for threshold, classification in CLASS_STEPS:
                day = episode.start + threshold - 1
                # The sweep runs at 00:30, before the day's repayments: a loan cured on a day was past due that morning.
                if day > end:
                    break
                outcome.class_changes.append((day, current, classification, threshold))
                current = classification
            if episode.cured_on is not None:
                back = episode.cured_on + 1
                closed = outcome.status == LoanStatus.PAID_OFF and outcome.paid_off_on == episode.cured_on
                if back <= self.today and not closed and current != C.NORMAL:
                    outcome.class_changes.append((back, current, C.NORMAL, 0))
                    current = C.NORMAL
        outcome.classification = current


def _decimal(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)
