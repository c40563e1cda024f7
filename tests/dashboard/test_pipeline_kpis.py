"""Pipeline KPIs against a hand-built January 2026 of Beijing and Shanghai applications.

Every application is moved through the real services (submit, start review, pass, return, reject, approve, contract,
disbursement) with the clock frozen on the hours below, so the timeline events, their `sla_breached` flags and the
rejection codes are the ones the application really writes. Review targets: 24 h initial, 48 h secondary.

Beijing (officer 王芳; reviewers 陈静 = reviewer, 杨磊 = reviewer2; approvers 赵强 = approver, 黄敏 = approver2):

    A1  submit 5 Jan 09:00, pass 5 Jan 13:00 (4 h), approve 6 Jan 13:00 (24 h), contract 7 Jan 13:00 (24 h),
        disburse 9 Jan 13:00 (48 h)
    A2  submit 5 Jan 09:00, pass 6 Jan 11:00 (26 h, late), approve 7 Jan 11:00 (24 h)
    A3  submit 6 Jan 09:00, pass 6 Jan 11:00 (2 h), approve 9 Jan 11:00 (72 h, late)
    A4  submit 7 Jan 09:00, taken 10:00, pass 7 Jan 15:00 (6 h from submission), approve 8 Jan 09:00 (18 h)
    A5  submit 8 Jan 09:00, pass 8 Jan 17:00 (8 h), approve 9 Jan 09:00 (16 h)
    A6  (officer 刘洋) submit 12 Jan 09:00, pass 12 Jan 19:00 (10 h), approve 13 Jan 09:00 (14 h)
    A7  submit 29 Dec 09:00, pass 29 Dec 10:00 (December), approve 2 Jan 10:00 (96 h, late; approver2)
    R1  submit 14 Jan 09:00, rejected at initial review 14 Jan 12:00 (3 h): high_debt, poor_credit
    R2  submit 15 Jan 09:00, pass 10:00 (1 h), rejected at secondary review 16 Jan 10:00 (24 h): high_debt
    R3  submit 20 Jan 09:00, rejected at initial review 22 Jan 09:00 (48 h, late): policy
    P1  submit 26 Jan 09:00, pass 26 Jan 12:00 (3 h), approve 2 Feb 09:00 (after the period)
    T1  submit 21 Jan 09:00, returned 21 Jan 14:00 (5 h)
    T2  submit 3 Jan 09:00, returned 3 Jan 11:00 (2 h), submitted again 4 Jan 09:00, pass 4 Jan 10:00 (1 h)
    S1  (the second product) submit 28 Jan 09:00, waiting
    D1  draft
R1, R2, R3, P1 are reviewed by reviewer2, the rest by reviewer. Shanghai: SA submitted 5 Jan 09:00, passed 10:00,
approved 6 Jan 10:00; SR submitted 6 Jan 09:00, rejected 15:00: other.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications import services
from applications.models import Application
from core.dates import SHANGHAI
from dashboard.kpis import pipeline
from dashboard.kpis.stats import grouped_duration_percentiles, hours, percent, percentile
from postloan import services as postloan_services
from tests.applications.factories import (
    RESIDENT_IDS,
    accept_materials,
    complete,
    make_application,
    make_borrower,
    make_product,
)

pytestmark = pytest.mark.django_db

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


def at(month: int, day: int, hour: int) -> datetime:
    return datetime(2025 if month == 12 else 2026, month, day, hour, tzinfo=SHANGHAI)


class Desk:
    """Moves applications through the services on frozen hours, as the people of one branch."""

    def __init__(self, staff: dict, product, borrower):
        self.staff, self.product, self.borrower = staff, product, borrower

    def _at(self, when):
        return time_machine.travel(at(*when), tick=False)

    @staticmethod
    def _fresh(application: Application) -> Application:
        return Application.objects.get(pk=application.pk)

    def draft(self, *, officer="officer", product=None) -> Application:
        return make_application(self.staff[officer], borrower=self.borrower, product=product or self.product)

    def submit(self, when, *, officer="officer", product=None, application=None) -> Application:
        with self._at(when):
            if application is None:
                application = complete(self.draft(officer=officer, product=product), self.staff[officer])
            services.application_submit(application=self._fresh(application), by=self.staff[officer])
        return self._fresh(application)

    def start(self, application, when, reviewer):
        with self._at(when):
            services.application_start_review(application=self._fresh(application), by=self.staff[reviewer])

    def initial(self, application, when, reviewer, decision, codes=None):
        with self._at(when):
            if decision == "pass":
                accept_materials(application, self.staff[reviewer])
            services.application_review_initial(
                application=self._fresh(application),
                by=self.staff[reviewer],
                decision=decision,
                comment="初审意见",
                rejection_codes=codes,
            )

    def secondary(self, application, when, approver, decision, codes=None):
        with self._at(when):
            services.application_review_secondary(
                application=self._fresh(application),
                by=self.staff[approver],
                decision=decision,
                comment="复核意见",
                rejection_codes=codes,
            )

    def contract_and_disburse(self, application, signed, disbursed):
        with self._at(signed):
            contract = postloan_services.contract_prepare(
                application=self._fresh(application), by=self.staff["officer"], first_due_date=date(2026, 2, 9)
            )
            postloan_services.contract_confirm(contract=contract, by=self.staff["manager"])
        with self._at(disbursed):
            disbursement = postloan_services.disbursement_prepare(
                contract=contract,
                by=self.staff["officer"],
                disbursed_on=at(*disbursed).date(),
                bank_name="中国工商银行",
                account_number="6222 0212 3456 7890 123",
                bank_reference=f"DISB-{contract.number}",
            )
            postloan_services.disbursement_confirm(disbursement=disbursement, by=self.staff["manager"])


@pytest.fixture
def book(staff, sh_staff, product):
    """The applications of the module docstring, by name."""
    second_product = make_product("BUSINESS", name_en="Small business loan", name_zh="小微经营贷")
    bj = Desk(staff, product, make_borrower(staff["officer"], number=RESIDENT_IDS[0]))
    sh = Desk(sh_staff, product, make_borrower(sh_staff["officer"], number=RESIDENT_IDS[2], name="张华"))
    apps = {}

    def approved(name, submitted, passed, approved_at, *, reviewer="reviewer", approver="approver", officer="officer"):
        apps[name] = bj.submit(submitted, officer=officer)
        bj.initial(apps[name], passed, reviewer, "pass")
        bj.secondary(apps[name], approved_at, approver, "approve")

    approved("A1", (1, 5, 9), (1, 5, 13), (1, 6, 13))
    bj.contract_and_disburse(apps["A1"], (1, 7, 13), (1, 9, 13))
    approved("A2", (1, 5, 9), (1, 6, 11), (1, 7, 11))
    approved("A3", (1, 6, 9), (1, 6, 11), (1, 9, 11))
    apps["A4"] = bj.submit((1, 7, 9))
    bj.start(apps["A4"], (1, 7, 10), "reviewer")
    bj.initial(apps["A4"], (1, 7, 15), "reviewer", "pass")
    bj.secondary(apps["A4"], (1, 8, 9), "approver", "approve")
    approved("A5", (1, 8, 9), (1, 8, 17), (1, 9, 9))
    approved("A6", (1, 12, 9), (1, 12, 19), (1, 13, 9), officer="officer2")
    approved("A7", (12, 29, 9), (12, 29, 10), (1, 2, 10), reviewer="reviewer2", approver="approver2")

    apps["R1"] = bj.submit((1, 14, 9))
    bj.initial(apps["R1"], (1, 14, 12), "reviewer2", "reject", ["high_debt", "poor_credit"])
    apps["R2"] = bj.submit((1, 15, 9))
    bj.initial(apps["R2"], (1, 15, 10), "reviewer2", "pass")
    bj.secondary(apps["R2"], (1, 16, 10), "approver", "reject", ["high_debt"])
    apps["R3"] = bj.submit((1, 20, 9))
    bj.initial(apps["R3"], (1, 22, 9), "reviewer2", "reject", ["policy"])

    approved("P1", (1, 26, 9), (1, 26, 12), (2, 2, 9), reviewer="reviewer2")
    apps["T1"] = bj.submit((1, 21, 9))
    bj.initial(apps["T1"], (1, 21, 14), "reviewer", "return")
    apps["T2"] = bj.submit((1, 3, 9))
    bj.initial(apps["T2"], (1, 3, 11), "reviewer", "return")
    bj.submit((1, 4, 9), application=apps["T2"])
    bj.initial(apps["T2"], (1, 4, 10), "reviewer", "pass")
    apps["S1"] = bj.submit((1, 28, 9), product=second_product)
    apps["D1"] = bj.draft()

    apps["SA"] = sh.submit((1, 5, 9))
    sh.initial(apps["SA"], (1, 5, 10), "reviewer", "pass")
    sh.secondary(apps["SA"], (1, 6, 10), "approver", "approve")
    apps["SR"] = sh.submit((1, 6, 9))
    sh.initial(apps["SR"], (1, 6, 15), "reviewer", "reject", ["other"])
    return {"apps": apps, "second_product": second_product, "bj": bj}


def by_key(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


# --- the percentile helper ------------------------------------------------------------------------------------------
def test_percentile_interpolates_as_percentile_cont():
    values = [1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 26, 48]
    assert percentile(values, 0.5) == 4
    assert percentile(values, 0.9) == Decimal("22.8")  # position 10.8: 10 + 0.8 × (26 − 10)
    assert percentile([14, 16, 18, 24, 24, 24, 72, 96], 0.9) == Decimal("79.2")
    assert percentile([timedelta(hours=1), None, timedelta(hours=2)], 0.5) == timedelta(minutes=90)
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    with pytest.raises(ValueError):
        percentile([1], 1.5)


def test_percent_and_hours_round_half_up_to_one_decimal():
    assert percent(3, 10) == Decimal("30.0")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(5, 0) is None
    assert hours(timedelta(minutes=75)) == Decimal("1.3")  # 1.25 h rounds half up
    assert hours(None) is None


# --- the KPIs -------------------------------------------------------------------------------------------------------
def test_status_counts_are_todays_statuses_with_a_link_to_each_list(book, staff, make_scope):
    result = pipeline.status_counts(make_scope(staff["manager"], *JANUARY))

    counts = {row["status"]: row["count"] for row in result["rows"] if row["count"]}
    assert counts == {
        "disbursed": 1,
        "approved": 7,  # A2–A7 and P1 (approved in February, still counted: a snapshot of today)
        "rejected": 3,
        "returned": 1,
        "secondary_review": 1,
        "submitted": 1,
        "draft": 1,
    }
    assert result["total"] == 15
    rows = by_key(result["rows"], "status")
    assert rows["approved"]["label"] == "Approved"
    assert rows["approved"]["drill"] == "/applications/?show=branch&status=approved"


def test_status_counts_narrow_to_a_product_and_an_officer(book, staff, make_scope):
    product = book["second_product"]
    by_product = pipeline.status_counts(make_scope(staff["manager"], *JANUARY, product_id=product.pk))
    assert by_product["total"] == 1
    assert by_key(by_product["rows"], "status")["submitted"]["count"] == 1
    assert by_key(by_product["rows"], "status")["submitted"]["drill"] == (
        f"/applications/?show=branch&status=submitted&product={product.pk}"
    )

    by_officer = pipeline.status_counts(make_scope(staff["manager"], *JANUARY, officer_id=staff["officer2"].pk))
    assert by_officer["total"] == 1
    assert by_key(by_officer["rows"], "status")["approved"]["count"] == 1


def test_funnel_follows_januarys_submissions_to_their_outcome(book, staff, make_scope):
    result = pipeline.funnel(make_scope(staff["manager"], *JANUARY))

    rows = by_key(result["rows"], "step")
    # 13 submitted in January (A7 was submitted in December; D1 never); T2 counts once, by its latest submission.
    assert result["submitted"] == 13
    assert (rows["submitted"]["count"], rows["submitted"]["percent"]) == (13, Decimal("100.0"))
    # passed: A1–A6, R2, P1, T2; approved: A1–A6 and P1 (in February); disbursed: A1.
    assert (rows["passed"]["count"], rows["passed"]["percent"]) == (9, Decimal("69.2"))
    assert (rows["approved"]["count"], rows["approved"]["percent"]) == (7, Decimal("53.8"))
    assert (rows["disbursed"]["count"], rows["disbursed"]["percent"]) == (1, Decimal("7.7"))
    assert [row["label"] for row in result["rows"]] == [
        "Submitted applications",
        "Passed initial review",
        "Approved",
        "Disbursed",
    ]


def test_funnel_of_a_period_without_submissions_has_no_percentages(book, staff, make_scope):
    result = pipeline.funnel(make_scope(staff["manager"], date(2026, 3, 1), date(2026, 3, 31)))
    assert [(row["count"], row["percent"]) for row in result["rows"]] == [(0, None)] * 4


def test_three_of_ten_decisions_rejected_is_a_30_percent_rejection_rate(book, staff, make_scope):
    result = pipeline.decisions(make_scope(staff["manager"], *JANUARY))

    # decided in January: approved A1–A7 (A7 submitted in December, P1 approved in February is out), rejected R1–R3
    assert (result["decided"], result["approved"], result["rejected"]) == (10, 7, 3)
    assert result["approval_rate"] == Decimal("70.0")
    assert result["rejection_rate"] == Decimal("30.0")
    assert [(row["code"], row["count"], row["percent"]) for row in result["top_reasons"]] == [
        ("high_debt", 2, Decimal("66.7")),
        ("poor_credit", 1, Decimal("33.3")),
        ("policy", 1, Decimal("33.3")),
    ]
    assert result["top_reasons"][0]["label"] == "Debt-to-income too high"
    assert result["rejected_drill"] == "/applications/?show=branch&status=rejected"


def test_stage_times_are_median_and_p90_hours_of_the_periods_exits(book, staff, make_scope):
    result = by_key(pipeline.stage_times(make_scope(staff["manager"], *JANUARY))["rows"], "stage")

    # initial review, 13 exits in January: 1 1 2 2 3 3 4 5 6 8 10 26 48 h (T2's pass counts from its resubmission,
    # A4's from its submission, not from when the reviewer took it; A7's pass was in December)
    assert (result["initial"]["count"], result["initial"]["median_hours"], result["initial"]["p90_hours"]) == (
        13,
        Decimal("4.0"),
        Decimal("22.8"),
    )
    # secondary review, 8 exits: 14 16 18 24 24 24 72 96 h (P1's approval is in February)
    assert (result["secondary"]["count"], result["secondary"]["median_hours"], result["secondary"]["p90_hours"]) == (
        8,
        Decimal("24.0"),
        Decimal("79.2"),
    )
    assert (result["contract"]["count"], result["contract"]["median_hours"]) == (1, Decimal("24.0"))
    assert (result["disbursement"]["count"], result["disbursement"]["p90_hours"]) == (1, Decimal("48.0"))
    assert result["initial"]["label"] == "Initial review"


def test_stage_times_of_an_empty_period_are_none(book, staff, make_scope):
    rows = pipeline.stage_times(make_scope(staff["manager"], date(2026, 3, 1), date(2026, 3, 31)))["rows"]
    assert [(row["count"], row["median_hours"], row["p90_hours"]) for row in rows] == [(0, None, None)] * 4


def test_percentiles_in_sql_and_in_python_agree(book, staff, make_scope):
    exits = pipeline._stage_exits(make_scope(staff["hq_manager"], date(2025, 12, 1), date(2026, 2, 28)))
    in_python = grouped_duration_percentiles(
        exits, group="stage", duration="duration", fractions=(0.5, 0.9), in_sql=False
    )
    assert in_python["initial"][0] == 16  # 13 in January, A7's in December, SA and SR in Shanghai
    if connection.vendor == "postgresql":
        in_sql = grouped_duration_percentiles(exits, group="stage", duration="duration", fractions=(0.5, 0.9))
        assert in_sql == in_python


def test_sla_breaches_per_stage_and_per_reviewer(book, staff, make_scope):
    result = pipeline.sla_breaches(make_scope(staff["manager"], *JANUARY))

    stages = by_key(result["stages"], "stage")
    # initial: late A2 (26 h) and R3 (48 h) of 13; A4 being taken from the queue is not an exit
    assert (stages["initial"]["exits"], stages["initial"]["breached"], stages["initial"]["percent"]) == (
        13,
        2,
        Decimal("15.4"),
    )
    # secondary: late A3 (72 h) and A7 (96 h) of 8
    assert (stages["secondary"]["exits"], stages["secondary"]["breached"]) == (8, 2)
    assert set(stages) == {"initial", "secondary"}
    assert [(row["name"], row["exits"], row["breached"], row["percent"]) for row in result["reviewers"]] == [
        ("陈静", 9, 1, Decimal("11.1")),  # reviewer: A1–A6, T1, T2 twice; late on A2
        ("赵强", 7, 1, Decimal("14.3")),  # approver: A1–A6, R2; late on A3
        ("杨磊", 4, 1, Decimal("25.0")),  # reviewer2: R1, R2, R3, P1; late on R3
        ("黄敏", 1, 1, Decimal("100.0")),  # approver2: A7
    ]


# --- branch scope -----------------------------------------------------------------------------------------------------
def test_a_branch_manager_never_counts_another_branchs_applications(book, staff, make_scope):
    shanghai = make_scope(staff["other_manager"], *JANUARY)
    assert pipeline.status_counts(shanghai)["total"] == 2
    assert pipeline.funnel(shanghai)["submitted"] == 2
    decided = pipeline.decisions(shanghai)
    assert (decided["approved"], decided["rejected"], decided["rejection_rate"]) == (1, 1, Decimal("50.0"))
    assert [row["code"] for row in decided["top_reasons"]] == ["other"]
    assert by_key(pipeline.stage_times(shanghai)["rows"], "stage")["initial"]["count"] == 2
    assert [row["name"] for row in pipeline.sla_breaches(shanghai)["reviewers"]] == ["徐丽", "db_approver_sh"]

    # a branch manager asking for another branch still gets their own
    beijing_asking_for_shanghai = make_scope(staff["manager"], *JANUARY, branch_id=staff["other_manager"].branch_id)
    assert pipeline.decisions(beijing_asking_for_shanghai)["decided"] == 10


def test_head_office_counts_every_branch_or_the_one_it_picks(book, staff, make_scope):
    everything = make_scope(staff["hq_manager"], *JANUARY)
    assert pipeline.status_counts(everything)["total"] == 17
    assert pipeline.funnel(everything)["submitted"] == 15
    decided = pipeline.decisions(everything)
    assert (decided["decided"], decided["rejected"], decided["rejection_rate"]) == (12, 4, Decimal("33.3"))
    assert by_key(pipeline.sla_breaches(everything)["stages"], "stage")["initial"]["exits"] == 15

    bj_id = staff["manager"].branch_id
    beijing = make_scope(staff["hq_manager"], *JANUARY, branch_id=bj_id)
    picked, own = pipeline.decisions(beijing), pipeline.decisions(make_scope(staff["manager"], *JANUARY))
    # The same figures; head office's drill-downs carry the branch it picked to the list's own branch filter.
    assert {key: value for key, value in picked.items() if not key.endswith("_drill")} == {
        key: value for key, value in own.items() if not key.endswith("_drill")
    }
    assert picked["approved_drill"] == f"/applications/?show=branch&status=approved&branch={bj_id}"
    assert pipeline.stage_times(beijing) == pipeline.stage_times(make_scope(staff["manager"], *JANUARY))
    shanghai = make_scope(staff["hq_manager"], *JANUARY, branch_id=staff["other_manager"].branch_id)
    assert pipeline.funnel(shanghai)["submitted"] == 2


# --- cost -------------------------------------------------------------------------------------------------------------
KPIS = ("status_counts", "funnel", "decisions", "stage_times", "sla_breaches")


def queries_per_kpi(scope) -> dict[str, int]:
    counts = {}
    for name in KPIS:
        with CaptureQueriesContext(connection) as queries:
            getattr(pipeline, name)(scope)
        counts[name] = len(queries)
    return counts


def test_each_kpi_costs_the_same_few_queries_whatever_the_number_of_applications(book, staff, make_scope):
    scope = make_scope(staff["manager"], *JANUARY)
    pipeline.status_counts(scope)  # the manager's branch is loaded once, before counting
    before = queries_per_kpi(scope)

    desk = book["bj"]
    for day in range(10, 20):
        application = desk.submit((1, day, 9))
        desk.initial(application, (1, day, 11), "reviewer", "pass")
        desk.secondary(application, (1, day + 1, 9), "approver", "reject" if day % 2 else "approve", ["other"])
    assert pipeline.decisions(scope)["decided"] == 20

    assert queries_per_kpi(scope) == before
    assert before == dict.fromkeys(KPIS, 1)
