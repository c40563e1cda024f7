"""Disbursed loans: the contract and disbursement (each prepared by the officer and confirmed by a colleague), the
loan with its summary columns, schedule version 1 (core.schedules.build_schedule), the installments as repaid so far,
repayments with their allocations, penalty accruals, classification changes and the loan's timeline."""

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from core.crypto import encrypt_text
from core.dates import add_months
from core.masking import mask_bank_account
from core.money import format_yuan
from core.schedules import ScheduleMethod, build_schedule, maturity_date
from postloan.models import (
    Allocation,
    ClassificationChange,
    ClassificationSource,
    Contract,
    Disbursement,
    Installment,
    Loan,
    LoanEvent,
    LoanStatus,
    PenaltyAccrual,
    Repayment,
    ScheduleVersion,
)
from postloan.services.classification import classification_floor
from postloan.services.prepayment import OVERPAYMENT_SHORTEN_TERM
from postloan.services.schedule_versions import months_to_maturity

from . import shape
from .copy import NULL, SWEEP_SECONDS, CopyWriter, Days, at, day_of, money, text, to_date
from .ledger import Inst, Outcome
from .staff import Desk, Person

E = LoanEvent.Kind
_ANY_DAY = date(2000, 1, 1)  # the floor's reason depends on the day only for restructured loans
BANKS = (
    "中国工商银行",
    "中国建设银行",
    "中国农业银行",
    "中国银行",
    "交通银行",
    "招商银行",
    "浦发银行",
    "兴业银行",
    "中信银行",
    "平安银行",
)

CONTRACT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "number",
    "application_id",
    "borrower_id",
    "branch_id",
    "officer_id",
    "amount",
    "annual_rate",
    "term_months",
    "method",
    "first_due_date",
    "repayment_day",
    "maturity_date",
    "penalty_rate",
    "parties",
    "collateral",
    "status",
    "prepared_by_id",
    "prepared_at",
    "confirmed_by_id",
    "confirmed_at",
)
DISBURSEMENT_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "contract_id",
    "amount",
    "disbursed_on",
    "bank_name",
    "account_number",
    "account_masked",
    "bank_reference",
    "status",
    "prepared_by_id",
    "prepared_at",
    "confirmed_by_id",
    "confirmed_at",
)
LOAN_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "number",
    "contract_id",
    "borrower_id",
    "branch_id",
    "officer_id",
    "product_id",
    "principal",
    "annual_rate",
    "penalty_rate",
    "method",
    "term_months",
    "disbursed_on",
    "maturity_date",
    "status",
    "outstanding_principal",
    "next_due_date",
    "next_due_amount",
    "dpd",
    "bucket",
    "classification",
    "manual_classification",
    "restructured",
    "observation_until",
    "credit_balance",
    "penalty_accrued_through",
    "overdue_since",
    "paid_off_on",
    "current_version",
    "allocation_generation",
    "past_due_amount",
)
VERSION_COLUMNS = ("id", "loan_id", "version", "reason", "note", "created_by_id", "created_at")
INSTALLMENT_COLUMNS = (
    "id",
    "loan_id",
    "version_id",
    "number",
    "due_date",
    "principal_due",
    "interest_due",
    "interest_waived",
    "penalty_accrued",
    "principal_paid",
    "interest_paid",
    "penalty_paid",
    "status",
    "paid_on",
)
REPAYMENT_COLUMNS = (
    "id",
    "loan_id",
    "reference",
    "amount",
    "paid_on",
    "channel",
    "kind",
    "posted_by_id",
    "posted_at",
    "is_reversed",
)
ALLOCATION_COLUMNS = (
    "id",
    "loan_id",
    "repayment_id",
    "installment_id",
    "penalty",
    "interest",
    "principal",
    "to_credit",
    "generation",
    "is_active",
    "created_at",
    "superseded_at",
)
ACCRUAL_COLUMNS = (
    "id",
    "loan_id",
    "installment_id",
    "accrual_date",
    "overdue_principal",
    "penalty_rate",
    "amount",
    "created_at",
)
EVENT_COLUMNS = ("id", "loan_id", "kind", "actor_id", "note", "data", "created_at")
CHANGE_COLUMNS = (
    "id",
    "loan_id",
    "from_class",
    "to_class",
    "source",
    "reason",
    "dpd",
    "business_date",
    "by_id",
    "created_at",
)
_CHANNEL_PREFIX = {"bank_transfer": "BT", "auto_debit": "AD", "wechat": "WX", "alipay": "ZFB", "cash": "CS"}


@dataclass
class LoanFacts:
    """What the follow-ups, reminders and inquiries of a loan need to know about it."""

    id: int
    number: str
    application_id: int
    borrower_id: int
    borrower_name: str
    borrower_mobile: str
    borrower_email: str
    borrower_user_id: int | None
    borrower_language: str
    desk: Desk
    officer: Person
    product_id: int
    term_months: int  # the term and maturity in force
    disbursed_on: int
    maturity: int
    disbursed_at: int
    outcome: Outcome
    installment_ids: list[int]
    bank: str
    account_masked: str
    first_term: int  # the contract's term and maturity (before a prepayment shortened them)
    first_maturity: int


class Timeline:
    """A loan's events, collected from every module and written in time order (the page orders by time, then id).

    `data` is the event's JSON, already written out: the shapes are few and fixed (those of the services'
    loan_event calls) and their values plain ASCII, so formatting them by hand is safe and much faster than json."""

    def __init__(self):
        self.items: list[tuple[int, int, str, int | None, str, str]] = []

    def add(self, moment: int, kind: str, actor: int | None, note: str, data: str) -> None:
        self.items.append((moment, len(self.items), kind, actor, note, data))


class Loans:
    def __init__(self, writer: CopyWriter, days: Days, numbers, *, today: int, now: int):
        self.days = days
        self.numbers = numbers
        self.today = today
        self.now = now
        self.contracts = writer.table(Contract, CONTRACT_COLUMNS)
        self.disbursements = writer.table(Disbursement, DISBURSEMENT_COLUMNS)
        self.loans = writer.table(Loan, LOAN_COLUMNS)
        self.versions = writer.table(ScheduleVersion, VERSION_COLUMNS)
        self.installments = writer.table(Installment, INSTALLMENT_COLUMNS)
        self.repayments = writer.table(Repayment, REPAYMENT_COLUMNS)
        self.allocations = writer.table(Allocation, ALLOCATION_COLUMNS)
        self.accruals = writer.table(PenaltyAccrual, ACCRUAL_COLUMNS)
        self.events = writer.table(LoanEvent, EVENT_COLUMNS)
        self.changes = writer.table(ClassificationChange, CHANGE_COLUMNS)
        with translation.override(settings.LANGUAGE_CODE):
            # The sweep runs in the worker, in the site's language; these are the reasons it writes on each step.
            self.prepayment_note = gettext(
                "%(principal)s of principal prepaid: the loan now matures on %(new)s instead of %(old)s."
            )
            self.reasons = {
                dpd: str(
                    classification_floor(
                        dpd=dpd, restructured=False, observation_until=None, on=date(2000, 1, 1)
                    ).reason
                )
                for dpd in (0, 1, 91, 271, 361)
            }

    # --- schedule ---------------------------------------------------------------------------------------------------
    @staticmethod
    def schedule(*, principal: int, rate: Decimal, term: int, method: str, first_due: date) -> list[Inst]:
        """The installments of schedule version 1, from core.schedules.build_schedule (amounts in fen)."""
        amounts = _schedule_amounts(principal, rate, term, method)
        dues = _due_days(first_due, term, method)
        return [
            Inst(index=position, due=due, principal=part, interest=interest)
            for position, ((part, interest), due) in enumerate(zip(amounts, dues, strict=True))
        ]

    # --- the contract and the disbursement --------------------------------------------------------------------------
    def contract(
        self,
        *,
        application_id: int,
        borrower_id: int,
        desk: Desk,
        officer: Person,
        principal: int,
        rate: Decimal,
        penalty_rate: Decimal,
        term: int,
        method: str,
        first_due: date,
        maturity: date,
        prepared_at: int,
        confirmed_by: Person | None,
        confirmed_at: int | None,
    ) -> tuple[int, str]:
        """A contract, signed when `confirmed_by` is given, else waiting for confirmation; returns (id, number)."""
        days = self.days
        contract_id = self.contracts.new_id()
        number = self.numbers.next("HT", to_date(day_of(prepared_at)).year, desk)
        signed = confirmed_by is not None
        self.contracts.add(
            f"{contract_id}\t{days.moment(prepared_at)}\t{days.moment(confirmed_at or prepared_at)}\t{number}\t"
            f"{application_id}\t{borrower_id}\t{desk.id}\t{officer.id}\t{money(principal)}\t{rate}\t{term}\t"
            f"{method}\t{first_due.isoformat()}\t{first_due.day}\t{maturity.isoformat()}\t{penalty_rate}\t[]\t[]\t"
            f"{'signed' if signed else 'prepared'}\t{officer.id}\t{days.moment(prepared_at)}\t"
            f"{confirmed_by.id if signed else NULL}\t{days.moment_or_null(confirmed_at)}\n"
        )
        return contract_id, number

    def disbursement(
        self,
        rng: random.Random,
        *,
        contract_id: int,
        serial: str,
        principal: int,
        disbursed_on: int,
        officer: Person,
        prepared_at: int,
        confirmed_by: Person | None,
        confirmed_at: int | None,
    ) -> tuple[str, str, str]:
        """The transfer to the borrower's account; returns (bank, masked account, bank reference)."""
        days = self.days
        disbursement_id = self.disbursements.new_id()
        bank = f"{rng.choice(BANKS)}{rng.choice(('', '营业部', '分行'))}"
        account = f"62{rng.randrange(10**16, 10**17)}"
        masked = mask_bank_account(account)
        reference = f"DB{to_date(disbursed_on):%Y%m%d}{serial}"
        confirmed = confirmed_by is not None
        self.disbursements.add(
            f"{disbursement_id}\t{days.moment(prepared_at)}\t{days.moment(confirmed_at or prepared_at)}\t"
            f"{contract_id}\t{money(principal)}\t{days.iso(disbursed_on)}\t{bank}\t{encrypt_text(account)}\t"
            f"{masked}\t{reference}\t{'confirmed' if confirmed else 'prepared'}\t{officer.id}\t"
            f"{days.moment(prepared_at)}\t{confirmed_by.id if confirmed else NULL}\t"
            f"{days.moment_or_null(confirmed_at)}\n"
        )
        return bank, masked, reference

    # --- the loan ---------------------------------------------------------------------------------------------------
    def loan(
        self,
        rng: random.Random,
        *,
        number: str,
        serial: str,
        contract_id: int,
        application_id: int,
        borrower,
        desk: Desk,
        officer: Person,
        checker: Person,
        product_id: int,
        principal: int,
        rate: Decimal,
        penalty_rate: Decimal,
        term: int,
        method: str,
        disbursed_on: int,
        disbursed_at: int,
        bank: str,
        masked: str,
        bank_reference: str,
        outcome: Outcome,
        timeline: Timeline,
    ) -> LoanFacts:
        days = self.days
        loan_id = self.loans.new_id()
        everything = outcome.all_insts
        version_ids = {1: self.versions.new_id()}
        if outcome.prepayment is not None:
            version_ids[2] = self.versions.new_id()
        installment_ids = [self.installments.new_id() for _inst in everything]
        timeline.add(
            disbursed_at,
            E.DISBURSED,
            checker.id,
            "",
            f'{{"amount": "{money(principal)}", "disbursed_on": "{days.iso(disbursed_on)}", '
            f'"bank_reference": "{bank_reference}", "prepared_by": {officer.id}}}',
        )
        penalty_text = str(penalty_rate)

        # Repayments, each with its one allocation row, and their place on the timeline: the repayment that settles
        # a late installment cures the loan (loan_refresh_summary), the last one pays it off.
        repayments, allocations = self.repayments, self.allocations
        channel = shape.pick(rng, shape.REPAYMENT_CHANNELS)
        final = len(outcome.pays) - 1 if outcome.status == LoanStatus.PAID_OFF else -1
        last_change = disbursed_at
        for position, pay in enumerate(outcome.pays):
            if rng.random() < 0.1:
                channel = shape.pick(rng, shape.REPAYMENT_CHANNELS)
            repayment_id = repayments.new_id()
            posted = at(pay.day, rng.randrange(9 * 3600, 18 * 3600))
            if posted > self.now:
                posted = max(at(pay.day, SWEEP_SECONDS + 60), self.now - rng.randrange(60, 600))
            reference = f"{_CHANNEL_PREFIX[channel]}{to_date(pay.day):%Y%m%d}{serial}{position:03d}"
            posted_text = days.moment(posted)
            repayments.add(
                f"{repayment_id}\t{loan_id}\t{reference}\t{money(pay.amount)}\t{days.iso(pay.day)}\t{channel}\t"
                f"regular\t{officer.id}\t{posted_text}\tf\n"
            )
            allocations.add(
                f"{allocations.new_id()}\t{loan_id}\t{repayment_id}\t{installment_ids[pay.inst]}\t"
                f"{money(pay.penalty)}\t{money(pay.interest)}\t{money(pay.principal)}\t0.00\t1\tt\t{posted_text}\t"
                f"{NULL}\n"
            )
            for key, part in pay.extra:
                # The prepaid principal, on the later installments of the schedule it replaces.
                allocations.add(
                    f"{allocations.new_id()}\t{loan_id}\t{repayment_id}\t{installment_ids[key]}\t0.00\t0.00\t"
                    f"{money(part)}\t0.00\t1\tt\t{posted_text}\t{NULL}\n"
                )
            prepaid = f', "prepaid": "{money(pay.principal_total - pay.principal)}"' if pay.extra else ""
            timeline.add(
                posted,
                E.REPAYMENT,
                officer.id,
                "",
                f'{{"repayment": {repayment_id}, "reference": "{reference}", "amount": "{money(pay.amount)}", '
                f'"paid_on": "{days.iso(pay.day)}", "penalty": "{money(pay.penalty)}", '
                f'"interest": "{money(pay.interest)}", "principal": "{money(pay.principal_total)}", '
                f'"to_credit": "0.00"{prepaid}}}',
            )
            if pay.extra:
                self._prepayment(loan_id, version_ids[2], outcome, officer, posted, repayment_id, reference, timeline)
            last_change = posted
            late = pay.settles and pay.day > everything[pay.inst].due
            if position == final:
                before = LoanStatus.OVERDUE if late else LoanStatus.ACTIVE
                timeline.add(posted, E.PAID_OFF, officer.id, "", _status_change(before, LoanStatus.PAID_OFF))
            elif late:
                timeline.add(posted, E.CURED, officer.id, "", _status_change(LoanStatus.OVERDUE, LoanStatus.ACTIVE))

        # The sweep's side: overdue episodes, classification changes (with their timeline rows).
        for episode in outcome.episodes:
            start = days.iso(episode.start)
            timeline.add(
                at(episode.start, SWEEP_SECONDS),
                E.OVERDUE,
                None,
                "",
                f'{{"overdue_since": "{start}", "dpd": 1, "business_date": "{start}"}}',
            )
        changes = self.changes
        for day, before, after, dpd in outcome.class_changes:
            moment = at(day, SWEEP_SECONDS + 1)
            reason = self.reasons[dpd]
            changes.add(
                f"{changes.new_id()}\t{loan_id}\t{before}\t{after}\tsweep\t{text(reason)}\t{dpd}\t{days.iso(day)}\t"
                f"{NULL}\t{days.moment(moment)}\n"
            )
            timeline.add(
                moment,
                E.CLASSIFICATION,
                None,
                reason,
                f'{{"source": "{ClassificationSource.SWEEP.value}", "from_class": "{before}", "to_class": "{after}", '
                f'"dpd": {dpd}, "business_date": "{days.iso(day)}"}}',
            )
            last_change = max(last_change, moment)

        # Penalty accruals, one row per installment and day, written by that day's sweep.
        accruals = self.accruals
        amounts = ""
        last = None
        for index, day, overdue_principal, amount in outcome.accruals:
            if (index, overdue_principal) != last:
                last = (index, overdue_principal)
                head = f"\t{loan_id}\t{installment_ids[index]}\t"
                amounts = f"\t{money(overdue_principal)}\t{penalty_text}\t{money(amount)}\t"
            accruals.add(f"{accruals.new_id()}{head}{days.iso(day)}{amounts}{days.sweep_moment(day)}\n")

        # Schedule version 1 (and a prepayment's version 2) and the installments as they stand today.
        version_at = days.moment(disbursed_at)
        self.versions.add(f"{version_ids[1]}\t{loan_id}\t1\tdisbursement\t\t{checker.id}\t{version_at}\n")
        for inst, installment_id in zip(everything, installment_ids, strict=True):
            self.installments.add(
                f"{installment_id}\t{loan_id}\t{version_ids[inst.version]}\t{inst.index + 1}\t{days.iso(inst.due)}\t"
                f"{money(inst.principal)}\t{money(inst.interest)}\t0.00\t{money(inst.penalty)}\t"
                f"{money(inst.principal_paid)}\t{money(inst.interest_paid)}\t{money(inst.penalty_paid)}\t"
                f"{inst.status}\t{days.iso_or_null(inst.paid_on)}\n"
            )

        # The loan: open loans were swept this morning (penalty accrued through today); a closed one was last swept
        # on the morning of its payoff.
        is_open = outcome.status != LoanStatus.PAID_OFF
        accrued_through = self.today if is_open else outcome.paid_off_on
        if is_open:
            last_change = max(last_change, at(self.today, SWEEP_SECONDS))
        maturity = outcome.insts[-1].due
        version = 2 if outcome.prepayment is not None else 1
        first_term = term
        if outcome.prepayment is not None:
            # The term stays "months of repayments from the contract's first due date to maturity".
            term = months_to_maturity(to_date(everything[0].due), to_date(maturity))
        self.loans.add(
            f"{loan_id}\t{days.moment(disbursed_at)}\t{days.moment(last_change)}\t{number}\t{contract_id}\t"
            f"{borrower.id}\t{desk.id}\t{officer.id}\t{product_id}\t{money(principal)}\t{rate}\t{penalty_text}\t{method}\t{term}\t"
            f"{days.iso(disbursed_on)}\t{days.iso(maturity)}\t{outcome.status}\t"
            f"{money(outcome.outstanding_principal)}\t{days.iso_or_null(outcome.next_due)}\t"
            f"{money(outcome.next_due_amount)}\t{outcome.dpd}\t{outcome.bucket}\t{outcome.classification}\t\tf\t"
            f"{NULL}\t0.00\t{days.iso_or_null(accrued_through)}\t{days.iso_or_null(outcome.overdue_since)}\t"
            f"{days.iso_or_null(outcome.paid_off_on)}\t{version}\t1\t{money(outcome.past_due_amount)}\n"
        )
        return LoanFacts(
            id=loan_id,
            number=number,
            application_id=application_id,
            borrower_id=borrower.id,
            borrower_name=borrower.name,
            borrower_mobile=borrower.mobile,
            borrower_email=borrower.email,
            borrower_user_id=borrower.user_id,
            borrower_language=borrower.language,
            desk=desk,
            officer=officer,
            product_id=product_id,
            term_months=term,
            disbursed_on=disbursed_on,
            maturity=maturity,
            disbursed_at=disbursed_at,
            outcome=outcome,
            installment_ids=installment_ids,
            bank=bank,
            account_masked=masked,
            first_term=first_term,
            first_maturity=max(inst.due for inst in everything if inst.version == 1),
        )

    def _prepayment(
        self, loan_id, version_id, outcome: Outcome, officer: Person, posted, repayment_id, reference, timeline
    ):
        """Schedule version 2 of a prepayment that shortened the term, and its line on the timeline, as
        postloan.services.repayments._put_prepayment_in_force writes them."""
        prepayment = outcome.prepayment
        note = self.prepayment_note % {
            "principal": format_yuan(money(prepayment.principal)),
            "old": prepayment.old_maturity.isoformat(),
            "new": prepayment.new_maturity.isoformat(),
        }
        first_due = to_date(outcome.all_insts[0].due)
        old_term = months_to_maturity(first_due, prepayment.old_maturity)
        new_term = months_to_maturity(first_due, prepayment.new_maturity)
        created = posted + 1  # the version starts after the repayment that made it
        self.versions.add(
            f"{version_id}\t{loan_id}\t2\tprepayment\t{text(note)}\t{officer.id}\t{self.days.moment(created)}\n"
        )
        timeline.add(
            created,
            E.NOTE,
            officer.id,
            note,
            f'{{"event": "prepayment", "option": "{OVERPAYMENT_SHORTEN_TERM}", "repayment": {repayment_id}, '
            f'"reference": "{reference}", "principal": "{money(prepayment.principal)}", "version": 2, '
            f'"from_version": 1, "from_maturity": "{prepayment.old_maturity.isoformat()}", '
            f'"maturity": "{prepayment.new_maturity.isoformat()}", "from_term_months": {old_term}, '
            f'"term_months": {new_term}, "old_payment": "{prepayment.old_payment}", '
            f'"new_payment": "{prepayment.new_payment}"}}',
        )

    def write_timeline(self, loan_id: int, timeline: Timeline) -> None:
        days, events = self.days, self.events
        for moment, _order, kind, actor, note, data in sorted(timeline.items, key=lambda item: (item[0], item[1])):
            events.add(
                f"{events.new_id()}\t{loan_id}\t{kind}\t{NULL if actor is None else actor}\t{text(note)}\t"
                f"{data}\t{days.moment(moment)}\n"
            )


@lru_cache(maxsize=20_000)
def _schedule_amounts(principal: int, rate: Decimal, term: int, method: str) -> tuple[tuple[int, int], ...]:
    """(principal, interest) in fen of each row of build_schedule: they do not depend on the dates, and books have
    many loans of the same amount, rate, term and method."""
    rows = build_schedule(
        principal=Decimal(principal) / 100, annual_rate=rate, term_months=term, method=method, first_due_date=_ANY_DAY
    )
    return tuple((int(row.principal * 100), int(row.interest * 100)) for row in rows)


@lru_cache(maxsize=20_000)
def _due_days(first_due: date, term: int, method: str) -> tuple[int, ...]:
    """The rows' due dates as build_schedule sets them (day ordinals); a bullet loan's one row falls at maturity."""
    if method == ScheduleMethod.BULLET:
        return (maturity_date(first_due_date=first_due, term_months=term, method=method).toordinal(),)
    return tuple(add_months(first_due, number, day=first_due.day).toordinal() for number in range(term))


def _status_change(before: str, after: str) -> str:
    return f'{{"from_status": "{before}", "to_status": "{after}"}}'


def first_due_for(disbursed: date) -> date:
    """Repayments fall due monthly from one month after disbursement, on the day of the month it was disbursed."""
    return add_months(disbursed, 1)
