"""Demo loan book: about twenty loans disbursed over the last ~20 months, built through the post-loan services.

Runs after applications' demo (INSTALLED_APPS order). Each loan starts as a new application that goes through the
applications' workflow (applications.demo's builder), then contract, disbursement and repayments through the
post-loan services, while `time_machine` moves the clock to the day of each step: the services refuse back-dated
operations (a first due date must follow the day the contract is prepared, a disbursement or repayment cannot be
dated in the future, and what a repayment may reach is judged on today), so each step runs on its own day.

The steps of all loans run in one timeline, oldest first. The daily sweep runs on the days it has something to say
(the day after a missed due date, the days a loan crosses 90, 270 and 360 days past due, the day of a late payment,
which then pays the penalty accrued, and every month end, whose snapshots feed the dashboard's roll rates),
not on all ~600 days: it catches up on penalty by itself, and every daily run
costs a fixed number of queries. It runs once more for today at the end. Loans that stopped
paying are anchored on days past due counted back from today, so every aging bucket and class is covered whatever
the day of the run.

Idempotent: a loan is keyed by its application (borrower, purpose); a plan whose application exists is skipped.
The waiting contracts and disbursements are keyed by the approved application they belong to. Deterministic: the
small variations (paying a day or two early, the channel, account numbers) come from a random generator seeded per
plan. A second run on the same day adds nothing; on a later day only the sweep of that day does its usual work.
"""

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import time_machine
from django.conf import settings
from django.db.models import Min
from django.utils import timezone, translation

from accounts.demo import demo_username
from accounts.models import User
from accounts.roles import Role
from applications import demo as application_demo
from applications import services as application_services
from applications.models import Application, ApplicationStatus, Borrower, Product
from core.dates import SHANGHAI, add_months, local_today
from core.money import round_money

from . import services
from .models import Contract, Disbursement, Installment, Loan, Repayment, RepaymentChannel, Restructuring
from .services.sweep import logger as sweep_logger

ROLES = (Role.OFFICER, Role.REVIEWER, Role.APPROVER, Role.RISK_OFFICER, Role.MANAGER)
HOUSE, CAR = application_demo.HOUSE, application_demo.CAR
# Month ends the replay sweeps on, for the roll rates' snapshots (postloan.services.snapshots): every one of the
# book's ~20 months, so each is taken on its day rather than caught up by a later sweep of the replay.
MONTH_ENDS = 24
DemoBorrower = application_demo.DemoBorrower

# fmt: off
# Borrowers of the loans that went bad: new people, so that nobody in the pre-loan demo carries a loss loan.
BORROWERS = (
    DemoBorrower("menglong", "BJ", "孟龙", "110106", date(1990, 3, 21), 57, mobile="13718826451",
                 employer="北京某连锁健身房（私人教练）", income="13000", debts="1500", years=3),
    DemoBorrower("qinyue", "SH", "秦悦", "310107", date(1989, 10, 5), 26, mobile="13764420917",
                 employer="上海某物流有限公司（调度主管）", income="15500", debts="2000", years=5),
    DemoBorrower("duwei", "HQ", "杜伟", "110102", date(1992, 6, 30), 15, mobile="15901378824",
                 employer="北京某房产中介公司（置业顾问）", income="12000", debts="1800", years=2),
    DemoBorrower("weiqiang", "BJ", "魏强", "130104", date(1980, 1, 9), 73, kind="sole_proprietor",
                 mobile="13911428806", employer="北京朝阳区强盛汽车维修部（个体工商户）", income="52000",
                 debts="4000", years=10),
    DemoBorrower("shenjie", "SH", "沈洁", "310110", date(1987, 12, 17), 84, mobile="18616527703",
                 employer="上海某美容连锁机构（店长）", income="16000", debts="2500", years=4),
    DemoBorrower("laiguosheng", "BJ", "赖国胜", "350203", date(1975, 8, 2), 31, kind="sole_proprietor",
                 mobile="13801157732", employer="北京朝阳区国胜茶叶商行（个体工商户）", income="60000",
                 debts="6000", years=12),
    DemoBorrower("haixin", "SH", "上海海鑫装饰工程有限公司", kind="company",
                 uscc_body="91310112MA1H5K8P4", representative="吕海鑫", mobile="13917730264",
                 employer="住宅装饰装修工程", income="320000", debts="40000", years=6),
)
# fmt: on


@dataclass(frozen=True)
class LoanPlan:
    """One demo loan: the application's terms, and how the borrower has repaid (`story`).

    A performing loan's first installment fell due `months_ago` months before today, on `day`. A loan with `dpd`
    set has its oldest unpaid installment due exactly `dpd` days before today, after `paid` installments paid.
    Stories: on_time, late (two payments late, one partial then completed), paid_off (settled early), restructured,
    reversal (a payment bounced and was paid again), partial (the last one half paid), manual (a manual class in
    force), stopped (nothing paid since).
    """

    branch: str
    borrower: str
    product: str
    amount: str
    term: int
    rate: str
    purpose: str
    story: str
    months_ago: int = 0
    day: int = 15
    dpd: int | None = None
    paid: int = 0
    method: str = "equal_installment"
    guarantor: tuple[str, str, str] | None = None
    collateral: tuple[str, str, str] | None = None
    note: str = ""  # the reason of a restructuring or a manual classification


# fmt: off
PLANS = (
    # --- performing and closed loans (repeat borrowers of the pre-loan demo) -----------------------------------------
    LoanPlan("BJ", "zhangwei", "PERSONAL_CONSUMER", "100000", 24, "6.20", "新房入住家具家电购置", "on_time",
             months_ago=6, day=15),
    LoanPlan("SH", "zhengkai", "AUTO", "150000", 36, "5.60", "购买比亚迪唐DM-i", "on_time", months_ago=5, day=8,
             collateral=(CAR, "比亚迪唐DM-i 2025款，购车价21.9万元", "219000")),
    LoanPlan("HQ", "yuhai", "MORTGAGE", "800000", 60, "4.20", "以住房抵押用于父母养老及医疗支出", "on_time",
             months_ago=7, day=20,
             collateral=(HOUSE, "北京市西城区月坛北街8号院2号楼603室，建筑面积89.5㎡", "7600000")),
    LoanPlan("SH", "pujiangyuan", "SME_OPERATING", "1000000", 24, "5.80", "进口红酒备货（中秋国庆档期）", "on_time",
             months_ago=6, day=25, method="interest_first", guarantor=("许文", "法定代表人", "13801762245")),
    LoanPlan("BJ", "caojianhua", "SME_OPERATING", "300000", 24, "6.90", "门店翻新及冷库设备采购", "on_time",
             months_ago=4, day=10, guarantor=("曹建国", "兄弟", "13691123345")),
    LoanPlan("SH", "hexue", "PERSONAL_CONSUMER", "80000", 12, "6.00", "法律职业培训及境外交流费用", "on_time",
             months_ago=2, day=22),
    LoanPlan("BJ", "yuanzhigang", "SME_OPERATING", "200000", 12, "7.20", "秋季装修旺季建材备货", "paid_off",
             months_ago=9, day=6, method="equal_principal"),
    LoanPlan("BJ", "liuyang", "PERSONAL_CONSUMER", "200000", 36, "5.80", "子女国际学校学费", "late",
             months_ago=11, day=5),
    LoanPlan("SH", "tangjun", "MORTGAGE", "1500000", 60, "4.15", "以房产抵押用于子女出国留学费用", "restructured",
             months_ago=8, day=12,
             collateral=(HOUSE, "上海市浦东新区张杨路1580弄12号1602室，建筑面积120.5㎡", "8900000"),
             note="借款人所在公司裁员降薪，月收入由3.6万元降至2.2万元，申请延长期限12个月并给予3个月只还息宽限期。"),
    LoanPlan("HQ", "dongjie", "PERSONAL_CONSUMER", "120000", 24, "5.50", "婚礼及蜜月旅行费用", "reversal",
             months_ago=6, day=18),
    # --- loans past due (new borrowers), anchored on days past due today -------------------------------------------
    LoanPlan("BJ", "menglong", "PERSONAL_CONSUMER", "60000", 12, "9.00", "健身教练资格认证培训费用", "partial",
             dpd=18, paid=4),
    LoanPlan("SH", "qinyue", "AUTO", "120000", 36, "6.80", "购买吉利银河L7", "manual", dpd=22, paid=5,
             collateral=(CAR, "吉利银河L7 2025款，购车价15.8万元", "158000"),
             note="回访发现借款人已离职且联系不稳定，抵押车辆疑似已转借他人使用，还款能力和意愿明显下降，建议下调为次级。"),
    LoanPlan("HQ", "duwei", "PERSONAL_CONSUMER", "50000", 12, "8.80", "租房押金及家具购置", "stopped",
             dpd=45, paid=4),
    LoanPlan("BJ", "weiqiang", "SME_OPERATING", "400000", 24, "7.50", "汽修设备升级及配件备货", "stopped",
             dpd=75, paid=5, guarantor=("魏明", "父子", "13601152238")),
    LoanPlan("SH", "shenjie", "AUTO", "90000", 36, "7.20", "购买大众朗逸", "stopped", dpd=130, paid=4),
    LoanPlan("BJ", "laiguosheng", "MORTGAGE", "600000", 60, "4.90", "以商铺抵押用于茶叶商行经营周转", "stopped",
             dpd=300, paid=4,
             collateral=(HOUSE, "北京市朝阳区马甸桥东茶城B座一层112号商铺，建筑面积45.0㎡", "1600000")),
    LoanPlan("SH", "haixin", "SME_OPERATING", "500000", 12, "8.50", "承接住宅装修项目材料采购", "stopped",
             dpd=400, paid=3, guarantor=("吕海鑫", "法定代表人", "13917730264")),
)

# Approved applications of the pre-loan demo taken a step further, so the approvers' Confirmations page has work:
# (borrower, purpose, how far: "contract" prepared, or "disbursement" recorded, each waiting for a colleague).
WAITING = (
    ("zhoumin", "家电及家具购置", "contract"),
    ("hanbing", "购买理想L7", "contract"),
    ("wuhao", "购买特斯拉Model Y长续航版", "disbursement"),
)
# fmt: on

BANKS = {"BJ": "中国工商银行北京望京支行", "SH": "招商银行上海陆家嘴支行", "HQ": "中国建设银行北京金融街支行"}
CHANNELS = (
    RepaymentChannel.BANK_TRANSFER,
    RepaymentChannel.AUTO_DEBIT,
    RepaymentChannel.AUTO_DEBIT,
    RepaymentChannel.WECHAT,
    RepaymentChannel.ALIPAY,
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _on_day(value: date, day: int) -> date:
    return add_months(value, 0, day=day)


@dataclass(order=True)
class _Step:
    when: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


class _LoanBuilder:
    """Turns one plan into dated steps: the application, contract, disbursement, repayments and the story's events."""

    def __init__(self, plan: LoanPlan, *, index: int, people: dict, borrower: Borrower, product: Product, today):
        self.plan, self.index, self.people, self.borrower, self.product = plan, index, people, borrower, product
        self.today = today
        self.rng = random.Random(f"postloan-demo-{plan.borrower}-{plan.purpose}")
        self.loan: Loan | None = None
        self.contract: Contract | None = None
        # Days the daily sweep must run: the day after a missed due date (the overdue episode starts), the days
        # the class floor changes, and the day of a late payment (so that it pays the penalty accrued).
        self.sweep_days: set[date] = set()
        self.steps: list[_Step] = []
        self._payments = 0
        if plan.dpd is not None:
            unpaid_due = today - timedelta(days=plan.dpd)
            if unpaid_due.day > 28:  # keep the repayment day in every month; a few more days past due
                unpaid_due = unpaid_due.replace(day=28)
            self.first_due = add_months(unpaid_due, -plan.paid)
        else:
            self.first_due = _on_day(add_months(today, -plan.months_ago), plan.day)
        self.disbursed_on = add_months(self.first_due, -1)
        self.prepared_on = self.disbursed_on - timedelta(days=3)
        self.approved_at = _at(self.prepared_on - timedelta(days=2), 15)
        # The due dates of the contract's schedule (version 1): monthly on the first due date's day.
        last = 1 if plan.method == "bullet" else plan.term
        self.due_dates = [add_months(self.first_due, n, day=self.first_due.day) for n in range(last)]

    # the steps ----------------------------------------------------------------------------------------------------
    def add(self, when: datetime, run: Callable[[], None]) -> None:
        self.steps.append(_Step(when, len(self.steps), run))

    def build(self) -> list[_Step]:
        self.add(self.approved_at, self.approve)
        self.add(_at(self.prepared_on, 10), self.prepare_contract)
        self.add(_at(self.prepared_on, 15, 30), self.confirm_contract)
        self.add(_at(self.disbursed_on, 9, 30), self.disburse)
        getattr(self, f"story_{self.plan.story}")()
        # Nothing happens today or later: the clock of the run itself is "now".
        self.steps = [step for step in self.steps if step.when.date() < self.today]
        return self.steps

    def approve(self) -> None:
        plan = self.plan
        application_plan = application_demo.Plan(
            plan.branch,
            plan.borrower,
            plan.product,
            plan.amount,
            plan.term,
            plan.rate,
            plan.purpose,
            "approved",
            0,
            method=plan.method,
            guarantor=plan.guarantor,
            collateral=plan.collateral,
        )
        builder = application_demo._Builder(
            application_plan, people=self.people, borrower=self.borrower, product=self.product, index=self.index
        )
        # The builder's steps, each on its own hour before the approval (no rewinding of rows afterwards needed).
        steps = builder.steps()
        approved_after = steps[-1][0]
        for hours, step in steps:
            with time_machine.travel(self.approved_at - timedelta(hours=approved_after - hours), tick=False):
                step()
        self.application = builder.application

    def prepare_contract(self) -> None:
        self.contract = services.contract_prepare(
            application=self.application, by=self.people[Role.OFFICER], first_due_date=self.first_due
        )

    def confirm_contract(self) -> None:
        services.contract_confirm(contract=self.contract, by=self.people[Role.APPROVER])

    def disburse(self) -> None:
        account = "6222" + "".join(str(self.rng.randrange(10)) for _ in range(15))
        disbursement = services.disbursement_prepare(
            contract=Contract.objects.get(pk=self.contract.pk),
            by=self.people[Role.OFFICER],
            disbursed_on=self.disbursed_on,
            bank_name=BANKS[self.plan.branch],
            account_number=account,
            bank_reference=f"FK{self.disbursed_on:%Y%m%d}{self.index:04d}",
        )
        with time_machine.travel(_at(self.disbursed_on, 11), tick=False):
            self.loan = services.disbursement_confirm(disbursement=disbursement, by=self.people[Role.MANAGER])

    def pay(self, paid_on: date, due: date, *, share: Decimal = Decimal(1), hour: int = 10) -> None:
        """Pay on `paid_on` what is owed on the installments due up to `due` (or a share of it, in whole hundreds)."""
        if paid_on > due:
            self.sweep_days |= {due + timedelta(days=1), paid_on}
        self._payments += 1
        number = self._payments
        channel = self.rng.choice(CHANNELS)

        def run() -> None:
            # A fresh row: a restructuring since the disbursement has moved the loan to a new schedule version.
            loan = Loan.objects.get(pk=self.loan.pk)
            owed = sum((item.outstanding for item in loan.current_installments() if item.due_date <= due), Decimal(0))
            amount = owed if share == 1 else (owed * share / 100).quantize(Decimal(1), rounding=ROUND_DOWN) * 100
            if amount <= 0:
                return
            services.repayment_post(
                loan=loan,
                amount=round_money(amount),
                paid_on=paid_on,
                reference=self.reference(paid_on, number),
                channel=channel,
                by=self.people[Role.OFFICER],
            )

        self.add(_at(paid_on, hour, self.rng.randrange(60)), run)

    def reference(self, paid_on: date, number: int) -> str:
        return f"HK{paid_on:%Y%m%d}{self.index:04d}{number:03d}"

    def pay_on_time(self, due_dates) -> None:
        for due in due_dates:
            self.pay(due - timedelta(days=self.rng.choice((0, 0, 0, 1, 2))), due)

    def due_before(self, day: date) -> list[date]:
        return [due for due in self.due_dates if due < day]

    def stop_paying(self, unpaid_due: date) -> None:
        """Sweep on the days this missed installment makes the loan overdue, then 90, 270 and 360 days past due."""
        self.sweep_days |= {unpaid_due + timedelta(days=days) for days in (1, 91, 271, 361)}

    # the stories --------------------------------------------------------------------------------------------------
    def story_on_time(self) -> None:
        self.pay_on_time(self.due_before(self.today))

    def story_paid_off(self) -> None:
        """Five installments on time, then the borrower settles early (a payoff, interest after that day waived)."""
        dues = self.due_dates[:5]
        self.pay_on_time(dues)
        settled_on = dues[-1] + timedelta(days=12)
        reference = self.reference(settled_on, 99)

        def settle() -> None:
            services.payoff_post(
                loan=self.loan,
                on_date=settled_on,
                reference=reference,
                channel=RepaymentChannel.BANK_TRANSFER,
                by=self.people[Role.OFFICER],
            )

        self.add(_at(settled_on, 14), settle)

    def story_late(self) -> None:
        dues = self.due_before(self.today)
        late = {dues[2]: 12, dues[6]: 23}
        partial = dues[9] if len(dues) > 9 else None
        for due in dues:
            if due in late:
                self.pay(due + timedelta(days=late[due]), due)
            elif due == partial:
                self.pay(due, due, share=Decimal("0.6"))
                self.pay(due + timedelta(days=9), due)
            else:
                self.pay_on_time([due])

    def story_partial(self) -> None:
        self.pay_on_time(self.due_dates[: self.plan.paid])
        unpaid = self.due_dates[self.plan.paid]
        self.pay(unpaid, unpaid, share=Decimal("0.5"))
        self.stop_paying(unpaid)

    def story_stopped(self) -> None:
        self.pay_on_time(self.due_dates[: self.plan.paid])
        self.stop_paying(self.due_dates[self.plan.paid])

    def story_manual(self) -> None:
        self.story_stopped()
        proposal: dict = {}

        def propose() -> None:
            proposal["made"] = services.classification_propose(
                loan=self.loan,
                by=self.people[Role.RISK_OFFICER],
                proposed_class="substandard",
                reason=self.plan.note,
            )

        def approve() -> None:
            services.classification_approve(
                proposal=proposal["made"], by=self.people[Role.MANAGER], note="同意，请客户经理加强催收并核实车辆下落。"
            )

        day = self.today - timedelta(days=6)
        self.add(_at(day, 16), propose)
        self.add(_at(day + timedelta(days=1), 10), approve)

    def story_reversal(self) -> None:
        dues = self.due_before(self.today)
        bounced = max(due for due in dues if due <= self.today - timedelta(days=20))
        self.pay_on_time(due for due in dues if due < bounced)
        self.pay(bounced, bounced)
        reference = self.reference(bounced, self._payments)

        def reverse() -> None:
            services.repayment_reverse(
                repayment=Repayment.objects.get(reference=reference),
                by=self.people[Role.MANAGER],
                reason="银行退票：借款人还款账户余额不足，该笔转账被退回。",
            )

        self.add(_at(bounced + timedelta(days=3), 14), reverse)
        self.sweep_days.add(bounced + timedelta(days=4))  # the installment is unpaid again: overdue since its due date
        self.pay(bounced + timedelta(days=7), bounced)
        self.pay_on_time(due for due in dues if due > bounced)

    def story_restructured(self) -> None:
        dues = self.due_before(self.today)
        last_paid = max(due for due in dues if due <= self.today - timedelta(days=40))
        self.pay_on_time(due for due in dues if due <= last_paid)
        requested_on = last_paid + timedelta(days=4)
        new_first_due = add_months(last_paid, 1, day=self.first_due.day)
        request: dict = {}

        def ask() -> None:
            request["made"] = services.restructuring_request(
                loan=self.loan,
                by=self.people[Role.OFFICER],
                reason=self.plan.note,
                extend_months=12,
                grace_months=3,
                first_due_date=new_first_due,
                source_note="借款人来电申请，附收入证明及公司降薪通知",
            )

        def risk_approve() -> None:
            services.restructuring_risk_approve(
                restructuring=request["made"],
                by=self.people[Role.RISK_OFFICER],
                note="收入下降属实，抵押物足值，同意调整。",
            )

        def approve() -> None:
            services.restructuring_approve(
                restructuring=Restructuring.objects.get(pk=request["made"].pk), by=self.people[Role.MANAGER]
            )

        self.add(_at(requested_on, 11), ask)
        self.add(_at(requested_on + timedelta(days=1), 15), risk_approve)
        self.add(_at(requested_on + timedelta(days=2), 10), approve)
        new_dues = [add_months(new_first_due, n, day=new_first_due.day) for n in range(3)]
        self.pay_on_time(due for due in new_dues if due < self.today)


# --- the run ----------------------------------------------------------------------------------------------------
def _staff() -> dict[str, dict[str, User]]:
    users = {user.username: user for user in User.objects.filter(branch__isnull=False)}
    return {code: {role: users[demo_username(role, code)] for role in ROLES} for code in ("HQ", "BJ", "SH")}


def _borrowers(people: dict[str, dict[str, User]]) -> dict[str, Borrower]:
    """The plans' borrowers: the pre-loan demo's by identity, and ours, created once (borrower_create is idempotent)."""
    wanted = {plan.borrower for plan in PLANS}
    found = {}
    for person in (*application_demo.BORROWERS, *BORROWERS):
        if person.key not in wanted:
            continue
        identity_type, number = application_demo._identity(person)
        pool = application_demo.SH_ADDRESSES if person.branch == "SH" else application_demo.BJ_ADDRESSES
        found[person.key], _created = application_services.borrower_create(
            by=people[person.branch][Role.OFFICER],
            identity_type=identity_type,
            identity_number=number,
            kind=person.kind,
            name=person.name,
            legal_representative=person.representative,
            birth_date=person.born,
            mobile=person.mobile,
            email="",
            address=pool[len(found) % len(pool)],
            employer=person.employer,
            monthly_income=Decimal(person.income),
            monthly_debt_payments=Decimal(person.debts),
            years_at_job=person.years,
        )
    return found


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """Keep the replayed days' sweeps out of the console: one log line per past sweep says nothing to the user."""
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _month_ends_before(today: date, count: int) -> list[date]:
    """The last `count` month ends before today, newest first."""
    ends, month_end = [], today.replace(day=1) - timedelta(days=1)
    while len(ends) < count:
        ends.append(month_end)
        month_end = month_end.replace(day=1) - timedelta(days=1)
    return ends


def _run(steps: list[_Step], sweep_days: set[date]) -> None:
    """Run every step on its own day, oldest first; the daily sweep runs at 00:30 on each of `sweep_days`."""
    for day in sweep_days:
        steps.append(_Step(_at(day, 0, 30), -1, lambda day=day: services.sweep_daily(business_date=day)))
    for step in sorted(steps):
        with time_machine.travel(step.when, tick=False):
            step.run()


def _waiting(people: dict[str, dict[str, User]]) -> int:
    """Contracts and disbursements of the pre-loan demo's approvals, waiting for a colleague's confirmation."""
    made = 0
    now = timezone.now()
    for key, purpose, stage in WAITING:
        person = next(person for person in application_demo.BORROWERS if person.key == key)
        application = (
            Application.objects.filter(borrower__name=person.name, purpose=purpose)
            .select_related("borrower", "product")
            .first()
        )
        if application is None or application.approved_at is None:
            continue
        staff = people[person.branch]
        contract = Contract.objects.filter(application=application).first()
        # Prepared the morning after the approval, signed that afternoon, money out two days later.
        prepared_at = min(application.approved_at + timedelta(hours=18), now - timedelta(hours=3))
        if contract is None and application.status == ApplicationStatus.APPROVED:
            with time_machine.travel(prepared_at, tick=False):
                contract = services.contract_prepare(
                    application=application,
                    by=staff[Role.OFFICER],
                    first_due_date=add_months(local_today(), 1),
                )
            made += 1
        if stage != "disbursement" or contract is None or Disbursement.objects.filter(contract=contract).exists():
            continue
        with time_machine.travel(prepared_at + timedelta(hours=5), tick=False):
            services.contract_confirm(contract=contract, by=staff[Role.APPROVER])
        with time_machine.travel(min(prepared_at + timedelta(days=2), now - timedelta(hours=1)), tick=False):
            services.disbursement_prepare(
                contract=Contract.objects.get(pk=contract.pk),
                by=staff[Role.OFFICER],
                disbursed_on=local_today(),
                bank_name=BANKS[person.branch],
                account_number="6214 8301 2345 6789",
                bank_reference=f"FK{local_today():%Y%m%d}W{contract.pk:04d}",
            )
        made += 1
    return made


def seed(*, stdout) -> None:
    # Texts the services store as shown (timeline notes, classification reasons) are in the site's default language.
    with translation.override(settings.LANGUAGE_CODE):
        _seed(stdout=stdout)


def _seed(*, stdout) -> None:
    started = time.monotonic()
    today = local_today()
    people = _staff()
    borrowers = _borrowers(people)
    products = {product.code: product for product in Product.objects.all()}
    existing = set(Application.objects.filter(borrower__in=borrowers.values()).values_list("borrower_id", "purpose"))
    builders = [
        _LoanBuilder(
            plan,
            index=100 + index,
            people=people[plan.branch],
            borrower=borrowers[plan.borrower],
            product=products[plan.product],
            today=today,
        )
        for index, plan in enumerate(PLANS)
        if (borrowers[plan.borrower].pk, plan.purpose) not in existing
    ]
    steps = [step for builder in builders for step in builder.build()]
    sweep_days = {day for builder in builders for day in builder.sweep_days if day < today}
    if builders:
        # The sweep also runs on each month end, so that the dashboard's roll rates have every month (a later seed
        # adds no loans, hence no past month end with today's state).
        sweep_days |= set(_month_ends_before(today, MONTH_ENDS))
    with _quiet(sweep_logger):
        _run(steps, sweep_days)
    # Today's sweep: every bucket and class as of today (idempotent, so a second run changes nothing).
    services.sweep_daily(business_date=today)
    waiting = _waiting(people)
    # A borrower came in shortly before their first application.
    firsts = (
        Application.objects.filter(borrower__in=borrowers.values())
        .values("borrower_id")
        .annotate(first=Min("created_at"))
    )
    for row in firsts:
        Borrower.objects.filter(pk=row["borrower_id"], created_at__gt=row["first"] - timedelta(hours=1)).update(
            created_at=row["first"] - timedelta(hours=1)
        )
    stdout.write(
        f"postloan: {len(builders)} new loans of {len(PLANS)} ({Loan.objects.count()} in all, "
        f"{Installment.objects.count()} installments, {Repayment.objects.count()} repayments), "
        f"{waiting} new items waiting for confirmation, in {time.monotonic() - started:.1f} s."
    )
