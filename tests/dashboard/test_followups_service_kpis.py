"""Follow-up, service and workload KPIs (issue 8) against a hand-built fixture whose answers are counted by hand.

The world: one loan made through the services (李明, Beijing, officer 张伟), and three more copied from it row by row
(application, contract, loan: seconds cheaper than the services, and the KPIs read only the loan's columns): 王芳's in
Shanghai, 李娜's in Beijing under a second product, and a paid-off one of 张伟's. Follow-ups, warnings, inquiries,
surveys and outbox rows are written directly with known dates. The period is March 2026; "today" is Wednesday
18 March 2026 (its week: Monday 16 to Sunday 22 March), Asia/Shanghai.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from applications.models import Application, Borrower
from core.dates import SHANGHAI
from core.schedules import ScheduleMethod
from dashboard.kpis import followups as followup_kpis
from dashboard.kpis import service as service_kpis
from dashboard.kpis import workload as workload_kpis
from dashboard.scope import Scope
from followups.models import FollowUp, Inquiry, RiskWarning, SatisfactionSurvey
from notifications.models import OutboxMessage
from postloan.models import Contract, Loan
from tests.applications.factories import make_product
from tests.postloan.factories import disbursed_loan, on

MARCH_FROM, MARCH_TO = date(2026, 3, 1), date(2026, 3, 31)
TODAY = date(2026, 3, 18)


def sh(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def kpi_staff(branches, make_user):
    """The people of the hand counts (their own names, not the shared `staff` fixture's): 张伟 and 李娜, officers in
    Beijing; 王芳, officer in Shanghai; a manager in each branch and at head office; Beijing's reviewer and approver
    for the loan made through the services. English messages and in-memory messages come from conftest.py."""
    bj, sh_branch, hq = branches["BJ"], branches["SH"], branches["HQ"]
    return {
        "officer": make_user("dk_officer", Role.OFFICER, branch=bj, display_name="张伟"),
        "officer2": make_user("dk_officer2", Role.OFFICER, branch=bj, display_name="李娜"),
        "reviewer": make_user("dk_reviewer", Role.REVIEWER, branch=bj),
        "approver": make_user("dk_approver", Role.APPROVER, branch=bj, approval_limit=Decimal("500000.00")),
        "manager": make_user("dk_manager", Role.MANAGER, branch=bj),
        "other_officer": make_user("dk_officer_sh", Role.OFFICER, branch=sh_branch, display_name="王芳"),
        "other_manager": make_user("dk_manager_sh", Role.MANAGER, branch=sh_branch),
        "hq_manager": make_user("dk_manager_hq", Role.MANAGER, branch=hq),
    }


def copy_loan(loan: Loan, *, number: str, branch, officer, product=None, **fields) -> Loan:
    """A copy of `loan` (its application and contract copied too) under another number, branch and officer."""
    application = Application.objects.get(pk=loan.contract.application_id)
    borrower = Borrower.objects.get(pk=application.borrower_id)
    application.pk = application.id = None
    application._state.adding = True
    application.number, application.branch, application.officer = f"A{number}", branch, officer
    application.product = product or application.product
    application.save()
    contract = Contract.objects.get(pk=loan.contract_id)
    contract.pk = contract.id = None
    contract._state.adding = True
    contract.number, contract.application, contract.branch, contract.officer = (
        f"C{number}",
        application,
        branch,
        officer,
    )
    contract.save()
    copy = Loan.objects.get(pk=loan.pk)
    copy.pk = copy.id = None
    copy._state.adding = True
    copy.number, copy.contract, copy.borrower, copy.branch, copy.officer = number, contract, borrower, branch, officer
    copy.product_id = application.product_id
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.save()
    return copy


class World:
    """The fixture's rows by name, and helpers to write more of them."""

    def __init__(self, staff, branches, products):
        self.staff, self.branches, self.products = staff, branches, products
        self.numbers = count(1)
        self.followups: dict[int, FollowUp] = {}
        self.inquiries: dict[str, Inquiry] = {}

    def scope(self, user: str, **filters) -> Scope:
        return Scope(self.staff[user], MARCH_FROM, MARCH_TO, **filters)

    def followup(self, key, loan, kind, officer, due_on, status="planned", *, sequence=1, completed_at=None, **more):
        followup = FollowUp.objects.create(
            loan=loan,
            application=more.pop("application", None),
            kind=kind,
            sequence=sequence,
            episode_start=more.pop("episode_start", due_on if kind == "overdue_call" else None),
            branch_id=loan.branch_id if loan else more.pop("branch").pk,
            officer=self.staff[officer],
            due_on=due_on,
            planned_on=due_on,
            status=status,
            completed_at=completed_at,
            completed_by=self.staff[officer] if completed_at else None,
            **more,
        )
        if key is not None:
            self.followups[key] = followup
        return followup

    def warning(self, loan, level, opened_at, acknowledged_at=None, resolved_at=None) -> RiskWarning:
        status = "resolved" if resolved_at else "acknowledged" if acknowledged_at else "open"
        return RiskWarning.objects.create(
            loan=loan,
            branch_id=loan.branch_id,
            level=level,
            summary="经营下滑",
            status=status,
            opened_at=opened_at,
            acknowledge_due_at=opened_at + timedelta(hours=24),
            acknowledged_at=acknowledged_at,
            resolved_at=resolved_at,
        )

    def inquiry(self, key, loan, category, assignee, created_at, due_at, answered_at=None, minutes=None) -> Inquiry:
        inquiry = Inquiry.objects.create(
            number=f"IQ{next(self.numbers):06d}",
            borrower_id=loan.borrower_id,
            loan=loan,
            branch_id=loan.branch_id,
            category=category,
            question="下次还款是哪天？",
            assignee=self.staff[assignee],
            status="answered" if answered_at else "open",
            created_at=created_at,
            target_hours=8,
            due_at=due_at,
            answered_at=answered_at,
            response_minutes=minutes,
        )
        if key is not None:
            self.inquiries[key] = inquiry
        return inquiry

    def survey(self, subject, officer, channel, rating, created_at) -> SatisfactionSurvey:
        link = {"inquiry": subject} if isinstance(subject, Inquiry) else {"followup": subject}
        borrower_id = subject.borrower_id if isinstance(subject, Inquiry) else subject.loan.borrower_id
        return SatisfactionSurvey.objects.create(
            borrower_id=borrower_id,
            officer=self.staff[officer],
            branch_id=subject.branch_id,
            channel=channel,
            rating=rating,
            created_at=created_at,
            **link,
        )

    def reminder(self, loan, status, created_at, channel="sms", template="repayment_reminder") -> OutboxMessage:
        message = OutboxMessage.objects.create(
            idempotency_key=f"test:{next(self.numbers)}",
            channel=channel,
            to_address="13800138000" if channel == "sms" else "li@example.com",
            template=template,
            context={"number": loan.number, "installment_id": 0, "offset": -3},
            status=status,
        )
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=created_at)
        return message

    def application(self, officer, status, branch, product=None):
        user = self.staff[officer]
        return Application.objects.create(
            number=f"AP{next(self.numbers):06d}",
            borrower_id=self.loans["l1"].borrower_id,
            product=product or self.products["main"],
            amount=Decimal("50000.00"),
            term_months=12,
            method="equal_installment",
            annual_rate=Decimal("6.0000"),
            purpose="装修",
            branch=branch,
            officer=user,
            created_by=user,
            status=status,
        )


@pytest.fixture
def world(kpi_staff, branches):
    """See the module docstring; each KPI test below lists the rows that make its hand counts."""
    staff = kpi_staff
    product = make_product(methods=list(ScheduleMethod.values), max_dti=None)
    l1 = disbursed_loan(staff)
    # Made after l1, which takes the first product there is.
    other_product = make_product(code="BUSINESS", name_zh="经营贷", name_en="Business loan")
    w = World(staff, branches, {"main": product, "other": other_product})
    # Whatever the disbursement queued (follow-ups, messages) is not part of the hand counts.
    FollowUp.objects.all().delete()
    OutboxMessage.objects.all().delete()
    bj, sh_branch = branches["BJ"], branches["SH"]
    l2 = copy_loan(l1, number="L-SH-1", branch=sh_branch, officer=staff["other_officer"])
    Borrower.objects.filter(pk=l2.borrower_id).update(branch=sh_branch)  # (李明 is the borrower of every copy)
    l3 = copy_loan(l1, number="L-BJ-2", branch=bj, officer=staff["officer2"], product=other_product)
    l4 = copy_loan(
        l1,
        number="L-BJ-3",
        branch=bj,
        officer=staff["officer"],
        status="paid_off",
        paid_off_on=date(2026, 3, 1),
        outstanding_principal=Decimal("0.00"),
    )
    w.loans = {"l1": l1, "l2": l2, "l3": l3, "l4": l4}

    # Follow-ups: (key, loan, kind, officer, due, status, sequence, completed at Shanghai, risk level).
    A, B, S = "officer", "officer2", "other_officer"
    rows = [
        (1, l1, "first", A, date(2026, 3, 5), "approved", 1, sh(3, 5, 23, 30), "low"),  # on time, late evening
        (2, l1, "first", A, date(2026, 3, 5), "completed", 2, sh(3, 6, 7), "medium"),  # late (still 5 March in UTC)
        (3, l1, "first", A, date(2026, 3, 10), "planned", 3, None, ""),
        (4, l1, "first", A, date(2026, 3, 12), "returned", 4, sh(3, 11), "high"),  # open again, not "done"
        (5, l1, "first", A, date(2026, 3, 20), "cancelled", 5, None, ""),
        (6, l1, "first", A, date(2026, 2, 28), "approved", 6, sh(2, 27), "low"),  # before the period
        (7, l1, "second", A, date(2026, 3, 15), "approved", 1, sh(3, 14), "high"),
        (8, l1, "overdue_call", A, date(2026, 3, 3), "approved", 1, sh(3, 2), "high"),
        (10, l1, "extra", B, date(2026, 3, 17), "planned", 1, None, ""),
        (11, l1, "extra", B, date(2026, 3, 18), "planned", 2, None, ""),  # due today: not late
        (12, l3, "quarterly", B, date(2026, 3, 22), "planned", 1, None, ""),  # Sunday of this week, other product
        (13, l1, "quarterly", A, date(2026, 3, 23), "planned", 2, None, ""),  # next week
        (14, l2, "first", S, date(2026, 3, 5), "approved", 1, sh(3, 4), "medium"),
        (15, l2, "pre_maturity", S, date(2026, 3, 1), "planned", 1, None, ""),
        (16, l2, "overdue_call", S, date(2026, 3, 2), "planned", 1, None, ""),
        (17, l1, "first", A, date(2026, 2, 25), "approved", 7, sh(3, 1, 0, 30), ""),  # done 1 March, not assessed
        (18, l1, "first", A, date(2026, 3, 31), "approved", 8, sh(4, 1, 0, 30), "low"),  # done 1 April: late
    ]
    for key, loan, kind, officer, due_on, status, sequence, completed_at, level in rows:
        w.followup(
            key, loan, kind, officer, due_on, status, sequence=sequence, completed_at=completed_at, risk_level=level
        )
    # 9: a verification call on 张伟's application before the loan (no loan, the application's product).
    w.followup(9, None, "verification_call", A, date(2026, 3, 4), application=l1.contract.application, branch=bj)

    # Risk warnings: Beijing on l1, Shanghai on l2.
    w.warning(l1, "high", sh(3, 2, 10), sh(3, 2, 12), sh(3, 5))  # 2 h
    w.warning(l1, "high", sh(3, 3, 9), sh(3, 3, 15))  # 6 h
    w.warning(l1, "medium", sh(3, 10, 8), sh(3, 11, 8))  # 24 h
    w.warning(l1, "high", sh(2, 27, 10), sh(3, 1, 10), sh(3, 2))  # opened in February, 48 h
    w.warning(l1, "medium", sh(3, 17, 10))  # still open
    w.warning(l1, "high", sh(2, 1, 10), sh(2, 1, 11), sh(2, 5))  # all in February
    w.warning(l2, "high", sh(3, 4, 10), sh(3, 4, 11))  # Shanghai, 1 h
    w.warning(l3, "low", sh(2, 20, 10))  # 李娜's loan, open since February

    # Inquiries (asked, due, answered, working minutes).
    w.inquiry("i1", l1, "repayment", A, sh(3, 2, 9), sh(3, 2, 17), sh(3, 2, 10), 60)
    w.inquiry("i2", l1, "repayment", A, sh(3, 3, 9), sh(3, 3, 17), sh(3, 4, 9), 540)  # late
    w.inquiry("i3", l1, "repayment", A, sh(3, 5, 9), sh(3, 5, 17), sh(3, 5, 11), 120)
    w.inquiry("i4", l1, "repayment", A, sh(3, 17, 9), sh(3, 19, 9))  # open, not due yet
    w.inquiry("i5", l1, "complaint", A, sh(3, 10, 9), sh(3, 10, 13))  # open past due
    w.inquiry("i6", l1, "product", A, sh(2, 20, 9), sh(2, 20, 17))  # February
    w.inquiry("i7", l3, "progress", B, sh(3, 12, 9), sh(3, 12, 17), sh(3, 12, 17), 480)  # on the minute
    w.inquiry("i8", l2, "repayment", S, sh(3, 2, 9), sh(3, 2, 17), sh(3, 2, 9, 30), 30)

    # Satisfaction.
    f, i = w.followups, w.inquiries
    w.survey(f[1], A, "phone", 5, sh(3, 6))
    w.survey(f[2], A, "phone", 4, sh(3, 7))
    w.survey(f[7], A, "visit", 2, sh(3, 15))
    w.survey(i["i1"], A, "inquiry", 5, sh(3, 2, 11))
    w.survey(i["i2"], A, "inquiry", 3, sh(3, 4, 12))
    w.survey(i["i7"], B, "inquiry", 4, sh(3, 13))
    w.survey(f[6], A, "phone", 1, sh(2, 28))  # February
    w.survey(f[14], S, "questionnaire", 1, sh(3, 5))

    # Repayment reminders.
    for status, channel, day in [
        ("sent", "sms", 2),
        ("sent", "sms", 3),
        ("sent", "sms", 31),
        ("failed", "sms", 4),
        ("cancelled", "email", 5),
        ("pending", "sms", 18),
    ]:
        w.reminder(l1, status, sh(3, day, 9), channel=channel)
    w.reminder(l1, "sent", sh(2, 27, 9))  # February
    w.reminder(l1, "sent", sh(3, 2, 9), template="application_submitted")  # another template
    w.reminder(l2, "sent", sh(3, 2, 9))
    w.reminder(l2, "sent", sh(3, 3, 9))
    w.reminder(l2, "failed", sh(3, 4, 9))

    # Applications in progress (open statuses), and closed ones that do not count.
    for officer, status, branch in [
        (A, "draft", bj),
        (A, "submitted", bj),
        (A, "rejected", bj),
        (B, "initial_review", bj),
        (B, "disbursed", bj),
        (S, "returned", sh_branch),
    ]:
        w.application(officer, status, branch)
    return w


def by_key(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


def figures(row: dict, *names: str) -> tuple:
    return tuple(row[name] for name in names)


COMPLETION = ("planned", "on_time", "late", "open", "on_time_pct")


# --- follow-ups -----------------------------------------------------------------------------------------------------
def test_completion_by_kind_counts_by_hand_for_the_beijing_manager(world):
    """Due in March, not cancelled: first 1 (on time at 23:30 Shanghai), 2 (late: 07:00 on the 6th, still the 5th in
    UTC), 3 and 4 (open; 4 was returned), 18 (done on 1 April, late); second 7; quarterly 12, 13; overdue call 8;
    extra 10, 11; verification call 9 (an application's). Not: 5 (cancelled), 6 and 17 (due in February), 14–16
    (Shanghai)."""
    result = followup_kpis.completion_by_kind(world.scope("manager"))
    rows = by_key(result["rows"], "kind")
    assert list(rows) == [
        "first",
        "second",
        "pre_maturity",
        "quarterly",
        "overdue_call",
        "extra",
        "verification_call",
        "consultation",
    ]
    assert figures(rows["first"], *COMPLETION) == (5, 1, 2, 2, Decimal("20.0"))
    assert figures(rows["second"], *COMPLETION) == (1, 1, 0, 0, Decimal("100.0"))
    assert figures(rows["pre_maturity"], *COMPLETION) == (0, 0, 0, 0, None)
    assert figures(rows["quarterly"], *COMPLETION) == (2, 0, 0, 2, Decimal("0.0"))
    assert figures(rows["overdue_call"], *COMPLETION) == (1, 1, 0, 0, Decimal("100.0"))
    assert figures(rows["extra"], *COMPLETION) == (2, 0, 0, 2, Decimal("0.0"))
    assert figures(rows["verification_call"], *COMPLETION) == (1, 0, 0, 1, Decimal("0.0"))
    assert figures(result["total"], *COMPLETION) == (12, 3, 2, 7, Decimal("25.0"))
    assert str(rows["first"]["label"]) == "First follow-up (D+30)"
    assert result["drill"] == "/followups/team/"


def test_completion_by_kind_head_office_all_one_branch_officer_and_product(world):
    """Head office adds Shanghai's 14 (first, on time), 15 (pre-maturity, open), 16 (overdue call, open)."""
    every = followup_kpis.completion_by_kind(world.scope("hq_manager"))
    assert figures(every["total"], *COMPLETION) == (15, 4, 2, 9, Decimal("26.7"))
    rows = by_key(every["rows"], "kind")
    assert figures(rows["first"], *COMPLETION) == (6, 2, 2, 2, Decimal("33.3"))
    assert figures(rows["overdue_call"], *COMPLETION) == (2, 1, 0, 1, Decimal("50.0"))

    shanghai = followup_kpis.completion_by_kind(world.scope("hq_manager", branch_id=world.branches["SH"].pk))
    assert figures(shanghai["total"], *COMPLETION) == (3, 1, 0, 2, Decimal("33.3"))
    # A branch manager cannot pick another branch: the filter is ignored, Beijing's figures come back.
    asked_for_shanghai = followup_kpis.completion_by_kind(world.scope("manager", branch_id=world.branches["SH"].pk))
    assert figures(asked_for_shanghai["total"], *COMPLETION) == (12, 3, 2, 7, Decimal("25.0"))
    # Shanghai's manager sees only Shanghai.
    assert figures(followup_kpis.completion_by_kind(world.scope("other_manager"))["total"], *COMPLETION) == (
        3,
        1,
        0,
        2,
        Decimal("33.3"),
    )
    # 李娜's follow-ups: 10, 11 and 12.
    officer = world.staff["officer2"].pk
    assert figures(
        followup_kpis.completion_by_kind(world.scope("manager", officer_id=officer))["total"], *COMPLETION
    ) == (
        3,
        0,
        0,
        3,
        Decimal("0.0"),
    )
    # The main product: 12 (on 李娜's business loan) drops out; 9 stays through its application's product.
    main = followup_kpis.completion_by_kind(world.scope("manager", product_id=world.products["main"].pk))
    assert main["total"]["planned"] == 11
    assert by_key(main["rows"], "kind")["verification_call"]["planned"] == 1
    other = followup_kpis.completion_by_kind(world.scope("manager", product_id=world.products["other"].pk))
    assert figures(other["total"], "planned", "open") == (1, 1)


def test_late_by_officer_most_late_first(world):
    """Open (planned or returned) and due before Wednesday 18 March: 张伟 3, 4, 9 (oldest 4 March); 李娜 10 (11 is due
    today); 王芳 15, 16 in Shanghai."""
    with on(TODAY):
        beijing = followup_kpis.late_by_officer(world.scope("manager"))
        every = followup_kpis.late_by_officer(world.scope("hq_manager"))
    assert [figures(row, "officer", "late", "oldest_due", "days_late") for row in beijing["rows"]] == [
        ("张伟", 3, date(2026, 3, 4), 14),
        ("李娜", 1, date(2026, 3, 17), 1),
    ]
    assert beijing["total"] == 4
    assert [figures(row, "officer", "late") for row in every["rows"]] == [("张伟", 3), ("王芳", 2), ("李娜", 1)]
    assert every["total"] == 6


def test_warnings_by_level_with_median_hours_to_acknowledge(world):
    """Beijing, March: high opened 2 (2nd, 3rd), acknowledged 3 (2 h, 6 h, and 48 h for the one opened in February),
    resolved 2; medium opened 2, acknowledged 1 (24 h); median over all four: (6 + 24) / 2 = 15.0 h."""
    result = followup_kpis.warnings(world.scope("manager"))
    rows = by_key(result["rows"], "level")
    names = ("opened", "acknowledged", "resolved", "median_hours_to_acknowledge")
    assert figures(rows["high"], *names) == (2, 3, 2, Decimal("6.0"))
    assert figures(rows["medium"], *names) == (2, 1, 0, Decimal("24.0"))
    assert figures(rows["low"], *names) == (0, 0, 0, None)
    assert figures(result["total"], *names) == (4, 4, 2, Decimal("15.0"))
    assert result["still_open"] == 2  # today: the medium one of 17 March and 李娜's low one of February
    assert result["open_drill"] == "/followups/warnings/?status=open"

    every = followup_kpis.warnings(world.scope("hq_manager"))
    # Shanghai's 1 h joins the high ones: 1, 2, 6, 48 → 4.0; overall 1, 2, 6, 24, 48 → 6.0.
    assert figures(by_key(every["rows"], "level")["high"], *names) == (3, 4, 2, Decimal("4.0"))
    assert figures(every["total"], *names) == (5, 5, 2, Decimal("6.0"))


def test_risk_levels_of_completed_followups(world):
    """Done (waiting for review or approved) between 1 March 00:00 and 1 April 00:00 Shanghai: 1 low, 2 medium, 7 and
    8 high, 17 without a level (done at 00:30 on 1 March). Not 18 (00:30 on 1 April), 6 (February), 4 (returned)."""
    result = followup_kpis.risk_levels(world.scope("manager"))
    rows = by_key(result["rows"], "level")
    assert [figures(rows[level], "count", "pct") for level in ("low", "medium", "high")] == [
        (1, Decimal("20.0")),
        (1, Decimal("20.0")),
        (2, Decimal("40.0")),
    ]
    assert (result["not_assessed"], result["total"]) == (1, 5)
    every = followup_kpis.risk_levels(world.scope("hq_manager"))
    assert [row["count"] for row in every["rows"]] == [1, 2, 2]
    assert every["total"] == 6


# --- service --------------------------------------------------------------------------------------------------------
INQUIRY = ("count", "answered", "in_time", "breached", "median_response_hours", "in_time_pct", "breach_pct")


def test_inquiries_by_category_response_time_and_breaches(world, client):
    """Beijing, asked in March: repayment i1 (60 min, in time), i2 (540 min, late), i3 (120 min), i4 (open, due
    tomorrow); complaint i5 (open past due); progress i7 (answered on the due minute: in time). Not i6 (February)."""
    with on(TODAY):
        result = service_kpis.inquiries(world.scope("manager"))
        every = service_kpis.inquiries(world.scope("hq_manager"))
    rows = by_key(result["rows"], "category")
    assert figures(rows["repayment"], *INQUIRY) == (4, 3, 2, 1, Decimal("2.0"), Decimal("66.7"), Decimal("25.0"))
    assert figures(rows["complaint"], *INQUIRY) == (1, 0, 0, 1, None, None, Decimal("100.0"))
    assert figures(rows["progress"], *INQUIRY) == (1, 1, 1, 0, Decimal("8.0"), Decimal("100.0"), Decimal("0.0"))
    assert figures(rows["product"], *INQUIRY) == (0, 0, 0, 0, None, None, None)
    # Median of 60, 540, 120, 480 minutes: (120 + 480) / 2 = 300 min = 5.0 h.
    assert figures(result["total"], *INQUIRY) == (6, 4, 3, 2, Decimal("5.0"), Decimal("75.0"), Decimal("33.3"))
    # Head office adds Shanghai's i8 (30 min): repayment median of 30, 60, 120, 540 = 90 min.
    assert figures(by_key(every["rows"], "category")["repayment"], *INQUIRY) == (
        5,
        4,
        3,
        1,
        Decimal("1.5"),
        Decimal("75.0"),
        Decimal("20.0"),
    )

    # The drill-down is the inbox filtered to the category, every status, asked in the period: the complaint is on
    # it, i1 is not.
    assert rows["complaint"]["drill"] == (
        "/followups/inquiries/?category=complaint&status=all&asked_from=2026-03-01&asked_to=2026-03-31"
    )
    client.force_login(world.staff["manager"])
    with on(TODAY):
        page = client.get(rows["complaint"]["drill"]).content.decode()
    assert world.inquiries["i5"].number in page
    assert world.inquiries["i1"].number not in page


def test_satisfaction_average_and_distribution_by_officer_and_channel(world):
    """Beijing, March: 张伟 5, 4 (phone), 2 (visit), 5, 3 (inquiry); 李娜 4 (inquiry). 23 / 6 = 3.83 → 3.8."""
    result = service_kpis.satisfaction(world.scope("manager"))
    assert (result["count"], result["average"]) == (6, Decimal("3.8"))
    assert [figures(row, "count", "pct") for row in result["distribution"]] == [
        (0, Decimal("0.0")),
        (1, Decimal("16.7")),
        (1, Decimal("16.7")),
        (2, Decimal("33.3")),
        (2, Decimal("33.3")),
    ]
    officers = by_key(result["by_officer"], "officer")
    assert figures(officers["张伟"], "count", "average") == (5, Decimal("3.8"))
    assert figures(officers["李娜"], "count", "average") == (1, Decimal("4.0"))
    assert "王芳" not in officers
    channels = by_key(result["by_channel"], "channel")
    assert figures(channels["phone"], "count", "average") == (2, Decimal("4.5"))
    assert figures(channels["visit"], "count", "average") == (1, Decimal("2.0"))
    assert figures(channels["inquiry"], "count", "average") == (3, Decimal("4.0"))
    assert figures(channels["questionnaire"], "count", "average") == (0, None)

    every = service_kpis.satisfaction(world.scope("hq_manager"))
    assert (every["count"], every["average"]) == (7, Decimal("3.4"))  # 24 / 7 = 3.43
    assert by_key(every["by_channel"], "channel")["questionnaire"]["average"] == Decimal("1.0")


def test_reminders_sent_failed_cancelled_scoped_through_the_loan(world):
    """March reminders of l1 (Beijing): sent 3, failed 1, cancelled 1 (email), pending 1; l2 (Shanghai): sent 2,
    failed 1. Not: February's, nor another template's."""
    beijing = service_kpis.reminders(world.scope("manager"))
    names = ("sent", "failed", "cancelled", "waiting", "total", "failed_pct")
    assert figures(beijing, *names) == (3, 1, 1, 1, 6, Decimal("16.7"))
    channels = by_key(beijing["by_channel"], "channel")
    assert figures(channels["sms"], "sent", "failed", "cancelled", "waiting") == (3, 1, 0, 1)
    assert figures(channels["email"], "sent", "failed", "cancelled", "waiting") == (0, 0, 1, 0)
    assert figures(service_kpis.reminders(world.scope("other_manager")), *names) == (2, 1, 0, 0, 3, Decimal("33.3"))
    assert figures(service_kpis.reminders(world.scope("hq_manager")), *names) == (5, 2, 1, 1, 9, Decimal("22.2"))
    shanghai = service_kpis.reminders(world.scope("hq_manager", branch_id=world.branches["SH"].pk))
    assert figures(shanghai, *names) == (2, 1, 0, 0, 3, Decimal("33.3"))
    assert (
        by_key(beijing["rows"], "status")["failed"]["drill"]
        == "/notifications/outbox/?status=failed&q=repayment_reminder"
    )


# --- workload -------------------------------------------------------------------------------------------------------
WORKLOAD = ("applications", "loans", "followups_this_week", "open_warnings")


def test_officer_workload(world, client):
    """On Wednesday 18 March: 张伟 — applications draft + submitted (not the rejected one), loan l1 (not the paid-off
    l4), follow-ups due 16–22 March still open: none (13 is next week), warnings open or acknowledged on l1: the 6 h,
    24 h and 17 March ones; 李娜 — initial review (not the disbursed one), l3, 11 and 12 (Sunday; 10 was due on
    Tuesday, the 17th: also this week), the low warning on l3; 王芳 — returned application, l2, none due this week
    (15 and 16 are older), the 1 h warning."""
    with on(TODAY):
        beijing = workload_kpis.officer_workload(world.scope("manager"))
        every = workload_kpis.officer_workload(world.scope("hq_manager"))
    rows = by_key(beijing["rows"], "officer")
    assert list(rows) == ["张伟", "李娜"]
    assert figures(rows["张伟"], *WORKLOAD) == (2, 1, 0, 3)
    assert figures(rows["李娜"], *WORKLOAD) == (1, 1, 3, 1)
    assert (beijing["week_start"], beijing["week_end"]) == (date(2026, 3, 16), date(2026, 3, 22))
    assert figures(by_key(every["rows"], "officer")["王芳"], *WORKLOAD) == (1, 1, 0, 1)
    assert every["total"] == {"applications": 4, "loans": 3, "followups_this_week": 3, "open_warnings": 5}

    # The loans behind 李娜's figure: her list on the loans page.
    client.force_login(world.staff["manager"])
    page = client.get(rows["李娜"]["loans_drill"]).content.decode()
    assert "L-BJ-2" in page
    assert world.loans["l1"].number not in page


# --- speed ----------------------------------------------------------------------------------------------------------
KPIS = {
    "completion_by_kind": followup_kpis.completion_by_kind,
    "late_by_officer": followup_kpis.late_by_officer,
    "warnings": followup_kpis.warnings,
    "risk_levels": followup_kpis.risk_levels,
    "inquiries": service_kpis.inquiries,
    "satisfaction": service_kpis.satisfaction,
    "reminders": service_kpis.reminders,
    "officer_workload": workload_kpis.officer_workload,
}


def _query_counts(scope: Scope) -> dict[str, int]:
    counts = {}
    for name, kpi in KPIS.items():
        with CaptureQueriesContext(connection) as queries:
            kpi(scope)
        counts[name] = len(queries)
    return counts


def _grow(world: World, times: int) -> None:
    """`times` more of every kind of row, in both branches."""
    l1, l2 = world.loans["l1"], world.loans["l2"]
    for n in range(times):
        for loan, officer in ((l1, "officer2"), (l2, "other_officer")):
            followup = world.followup(
                None,
                loan,
                "extra",
                officer,
                date(2026, 3, 1 + n % 28),
                "approved",
                sequence=100 + n,
                completed_at=sh(3, 1 + n % 28),
                risk_level="medium",
            )
            world.warning(loan, "high", sh(3, 1 + n % 28), sh(3, 1 + n % 28, 12))
            inquiry = world.inquiry(None, loan, "other", officer, sh(3, 2), sh(3, 2, 17), sh(3, 2, 12), 180 + n)
            world.survey(followup, officer, "phone", 1 + n % 5, sh(3, 3))
            world.survey(inquiry, officer, "inquiry", 1 + n % 5, sh(3, 3))
            world.reminder(loan, "sent", sh(3, 3))
            world.application(officer, "submitted", loan.branch)


@pytest.mark.parametrize("user", ["manager", "hq_manager"])
def test_each_kpi_runs_a_constant_number_of_queries(world, user):
    """The same number of queries with the fixture as with 30 more rows of every kind per branch."""
    scope = world.scope(user)
    with on(TODAY):
        _query_counts(scope)  # the viewer's branch is loaded once, as a request would
        small = _query_counts(scope)
        _grow(world, 30)
        large = _query_counts(scope)
    assert small == large
    assert small == {
        "completion_by_kind": 1,
        "late_by_officer": 1,
        "warnings": 4,
        "risk_levels": 1,
        "inquiries": 3,
        "satisfaction": 1,
        "reminders": 1,
        "officer_workload": 6,  # the officer group's id first (accounts.permissions.holders_of)
    }
    assert followup_kpis.risk_levels(scope)["total"] > 30
