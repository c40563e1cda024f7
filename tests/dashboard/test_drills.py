"""Every drill-down link of the dashboard opens exactly the rows behind its figure: for each tab, with the branch,
product or officer filter set (and without), each figure's link is followed and the list's row count must equal the
figure. Looked at on 20 May 2026, period January to May.

The book (6 % a year, 12 months, disbursed 10 January unless told; nothing repaid):
    L1  BJ 王芳   ¥120,000  overdue 1–30 (special mention)
    L2  BJ 刘洋   ¥90,000   overdue 91–180 (substandard)
    L3  BJ 王芳   ¥200,000  current, disbursed 8 April, the second product
    L4  BJ 王芳   ¥30,000   paid off (its last class, special mention, stays on the row)
    S1  SH 吴刚   ¥150,000  overdue 31–60 (special mention)
Follow-ups: the first ones of L1, L2 and S1 planned for 9 February and L3's returned for correction (due 8 May) are
late on 20 May; L1's second (1 June) is not due yet, L4's first is done. Risk
warnings on L1 (open), L2 (acknowledged), S1 (open); inquiries on L1 and L3 in the period, S1's, and one on L1
asked in December (outside the period). Applications: the five loans' (disbursed, submitted 8 January), two drafts
(王芳, 刘洋 on the second product), one submitted by 刘洋 on 2 March and one by 吴刚 on 3 February.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from core.dates import SHANGHAI
from followups.models import FollowUp, Inquiry, RiskWarning
from postloan.models import Loan
from tests.applications.factories import RESIDENT_IDS, make_application, make_borrower, make_product, submitted
from tests.postloan.factories import disbursed_loan, mark_overdue, on

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)
PERIOD = {"date_from": "2026-01-01", "date_to": "2026-05-31"}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def overdue(loan: Loan, *, dpd: int, bucket: str, classification: str) -> None:
    mark_overdue(
        loan,
        today=TODAY,
        dpd=dpd,
        bucket=bucket,
        classification=classification,
        overdue_since=TODAY - timedelta(days=dpd),
    )


def warning(loan: Loan, status: str, opened: date) -> RiskWarning:
    return RiskWarning.objects.create(
        loan=loan,
        branch_id=loan.branch_id,
        level="high",
        summary="经营下滑",
        status=status,
        opened_at=at(opened),
        acknowledge_due_at=at(opened) + timedelta(hours=24),
        acknowledged_at=at(opened, 15) if status == "acknowledged" else None,
    )


def followup(loan: Loan, kind: str, due_on: date, status: str = "planned", officer=None) -> FollowUp:
    return FollowUp.objects.create(
        loan=loan,
        kind=kind,
        branch_id=loan.branch_id,
        officer=officer or loan.officer,
        due_on=due_on,
        planned_on=due_on,
        status=status,
    )


def inquiry(number: int, loan: Loan, assignee, asked: date, category: str = "repayment") -> Inquiry:
    return Inquiry.objects.create(
        number=f"IQ{number:06d}",
        borrower_id=loan.borrower_id,
        loan=loan,
        branch_id=loan.branch_id,
        category=category,
        question="下次还款是哪天？",
        assignee=assignee,
        created_at=at(asked),
        target_hours=8,
        due_at=at(asked) + timedelta(hours=8),
    )


@pytest.fixture
def world(staff, sh_staff, product):
    make_borrower(sh_staff["officer"], number=RESIDENT_IDS[2], name="张华")
    second_officer = {**staff, "officer": staff["officer2"]}
    loans = {
        "L1": disbursed_loan(staff, amount="120000.00"),
        "L2": disbursed_loan(second_officer, amount="90000.00"),
        "L3": disbursed_loan(
            staff,
            amount="200000.00",
            signed_on=date(2026, 4, 6),
            disbursed_on=date(2026, 4, 8),
            first_due_date=date(2026, 5, 10),
        ),
        "L4": disbursed_loan(staff, amount="30000.00"),
        "S1": disbursed_loan(sh_staff, amount="150000.00", identity=RESIDENT_IDS[2]),
    }
    overdue(loans["L1"], dpd=10, bucket="1_30", classification="special_mention")
    overdue(loans["L2"], dpd=99, bucket="91_180", classification="substandard")
    overdue(loans["S1"], dpd=40, bucket="31_60", classification="special_mention")
    Loan.objects.filter(pk=loans["L4"].pk).update(
        status="paid_off",
        paid_off_on=date(2026, 5, 1),
        outstanding_principal=Decimal("0.00"),
        classification="special_mention",
    )
    second_product = make_product("BUSINESS", name_en="Small business loan", name_zh="小微经营贷")
    Application.objects.filter(pk=loans["L3"].contract.application_id).update(product=second_product)
    Loan.objects.filter(pk=loans["L3"].pk).update(product=second_product)  # the loan keeps its application's

    with on(date(2026, 5, 18)):
        make_application(staff["officer"])
        make_application(staff["officer2"], product=second_product)
    with on(date(2026, 3, 2)):
        submitted(staff["officer2"], product=second_product)
    with on(date(2026, 2, 3)):
        submitted(sh_staff["officer"], borrower=make_borrower(sh_staff["officer"], number=RESIDENT_IDS[2]))

    followup(loans["L1"], "first", date(2026, 2, 9))
    followup(loans["L1"], "second", date(2026, 6, 1))  # not due yet
    followup(loans["L2"], "first", date(2026, 2, 9))
    followup(loans["L3"], "first", date(2026, 5, 8), status="returned")  # handed back for correction: still open
    followup(loans["L4"], "first", date(2026, 2, 9), status="approved")  # done
    followup(loans["S1"], "first", date(2026, 2, 9))
    warning(loans["L1"], "open", date(2026, 5, 12))
    warning(loans["L2"], "acknowledged", date(2026, 4, 2))
    warning(loans["S1"], "open", date(2026, 5, 15))
    inquiry(1, loans["L1"], staff["officer"], date(2026, 3, 3), category="complaint")
    inquiry(2, loans["L3"], staff["officer"], date(2026, 4, 20))
    inquiry(3, loans["S1"], sh_staff["officer"], date(2026, 4, 21))
    inquiry(4, loans["L1"], staff["officer"], date(2025, 12, 20))  # before the period
    return {"loans": loans, "second_product": second_product}


def views_of(staff, world, branches) -> list[tuple[str, dict]]:
    """Who looks, with which of the dashboard's filters."""
    return [
        ("hq_manager", {}),
        ("hq_manager", {"branch": branches["BJ"].pk}),
        ("hq_manager", {"branch": branches["SH"].pk, "officer": staff["other_officer"].pk}),
        ("manager", {}),
        ("manager", {"officer": staff["officer2"].pk}),
        ("manager", {"product": world["second_product"].pk}),
        ("other_manager", {}),
    ]


def tab(client, name: str, filters: dict):
    url = reverse("dashboard:home") if name == "pipeline" else reverse("dashboard:tab", args=[name])
    response = client.get(url, PERIOD | filters)
    assert response.status_code == 200
    return response.context


def listed(client, url: str) -> int:
    """How many rows the list behind a drill-down link holds (all pages)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].paginator.count


def check(client, pairs: list[tuple[str, int, str]], seen: dict) -> None:
    for label, figure, url in pairs:
        assert url, label
        assert listed(client, url) == figure, (label, url)
        seen[label] = seen.get(label, 0) + figure


@pytest.fixture
def looking(client, staff, world, branches):
    """Run a check for every viewer and filter set, on the day; returns what the figures added up to."""

    def run(tab_name: str, pairs_of) -> dict:
        seen: dict = {}
        with on(TODAY):
            for user, filters in views_of(staff, world, branches):
                client.force_login(staff[user])
                check(client, pairs_of(tab(client, tab_name, filters)), seen)
        return seen

    return run


def test_the_pipelines_drill_downs_open_exactly_the_applications_counted(looking):
    def pairs(context):
        found = [(f"status {row['status']}", row["count"], row["drill"]) for row in context["statuses"]["rows"]]
        found.append(("submitted in the period", context["funnel"]["submitted"], context["funnel"]["drill"]))
        chart = next(chart for chart in context["charts"] if chart.id == "chart-funnel")
        assert chart.drills[0] == context["funnel"]["drill"]
        return found

    seen = looking("pipeline", pairs)
    # The figures were not all zero: the check compared real rows.
    assert seen["status disbursed"] > 0 and seen["status draft"] > 0 and seen["submitted in the period"] > 0


def test_the_portfolios_drill_downs_open_exactly_the_loans_counted(looking):
    def pairs(context):
        outstanding, overdue_ = context["outstanding"], context["overdue"]
        found = [("open loans", outstanding["count"], outstanding["drill"])]
        found += [(f"status {row['status']}", row["count"], row["drill"]) for row in outstanding["by_status"]]
        found.append(("overdue", overdue_["count"], overdue_["drill"]))
        found += [(f"bucket {row['bucket']}", row["count"], row["drill"]) for row in overdue_["buckets"]]
        found += [
            (f"class {row['classification']}", row["count"], row["drill"]) for row in context["classes"]["categories"]
        ]
        found.append(("npl", context["npl"]["npl_count"], context["npl"]["drill"]))
        found.append(("disbursed", context["disbursed"]["count"], context["disbursed"]["drill"]))
        found += [(f"month {row['month']}", row["count"], row["drill"]) for row in context["disbursed"]["months"]]
        return found

    seen = looking("portfolio", pairs)
    assert seen["class special_mention"] > 0 and seen["npl"] > 0 and seen["bucket 31_60"] > 0
    assert seen["month 2026-04-01"] > 0


def test_the_overdue_figure_and_its_list_agree_on_the_amount_too(client, staff, world, branches):
    with on(TODAY):
        client.force_login(staff["hq_manager"])
        overdue_ = tab(client, "portfolio", {"branch": branches["BJ"].pk})["overdue"]
        page = client.get(overdue_["drill"]).context

    assert (
        (page["total_loans"], page["total_amount"])
        == (overdue_["count"], overdue_["amount"])
        == (
            2,
            # L1: 4 × 10,000 + 600 + 550 + 500 + 450 = 42,100; L2: 4 × 7,500 + 450 + 412.50 + 375 + 337.50 = 31,575
            Decimal("73675.00"),
        )
    )


def test_the_follow_ups_drill_downs_open_exactly_the_rows_counted(looking):
    def pairs(context):
        late, warnings = context["late"], context["warnings"]
        found = [("late", late["total"], late["drill"])]
        found += [(f"late of {row['officer_id']}", row["late"], row["drill"]) for row in late["rows"]]
        found.append(("open warnings", warnings["still_open"], warnings["open_drill"]))
        return found

    seen = looking("followups", pairs)
    assert seen["late"] > 0 and seen["open warnings"] > 0


def test_the_service_drill_downs_open_exactly_the_inquiries_counted(looking):
    def pairs(context):
        inquiries = context["inquiries"]
        found = [("asked", inquiries["total"]["count"], inquiries["drill"])]
        found.append(("late", inquiries["total"]["breached"], inquiries["breach_drill"]))
        found += [(f"asked {row['category']}", row["count"], row["drill"]) for row in inquiries["rows"]]
        found += [(f"late {row['category']}", row["breached"], row["breach_drill"]) for row in inquiries["rows"]]
        return found

    seen = looking("service", pairs)
    assert seen["asked"] > 0 and seen["asked complaint"] > 0 and seen["late"] > 0


def test_the_workload_drill_downs_open_exactly_each_officers_loans(looking):
    def pairs(context):
        return [
            (f"loans of {row['officer_id']}", row["loans"], row["loans_drill"]) for row in context["workload"]["rows"]
        ]

    seen = looking("workload", pairs)
    assert sum(seen.values()) > 0


# --- the lists' new filters -------------------------------------------------------------------------------------------
def rows(client, name: str, **params) -> list[str]:
    """The numbers (loan, application, inquiry) or ids (follow-up, warning) a list shows for these filters, after
    checking that the page answered normally."""
    response = client.get(reverse(name), params)
    assert response.status_code == 200, (name, params)
    found = []
    for row in response.context["page_obj"].object_list:
        found.append(getattr(row, "number", None) or row.pk)
    return sorted(found, key=str)


def numbers(*loans: Loan) -> list[str]:
    return sorted(loan.number for loan in loans)


def test_the_loan_list_filters_by_product_open_status_npl_and_disbursement_dates(client, staff, world):
    loans = world["loans"]
    with on(TODAY):
        client.force_login(staff["manager"])
        assert rows(client, "postloan:list", status="open") == numbers(loans["L1"], loans["L2"], loans["L3"])
        assert rows(client, "postloan:list", product=world["second_product"].pk) == numbers(loans["L3"])
        assert rows(client, "postloan:list", status="open", classification="npl") == numbers(loans["L2"])
        assert rows(client, "postloan:list", disbursed_from="2026-04-01", disbursed_to="2026-04-30") == numbers(
            loans["L3"]
        )
        assert rows(client, "postloan:list", disbursed_to="2026-04-07") == numbers(
            loans["L1"], loans["L2"], loans["L4"]
        )


def test_the_overdue_list_filters_by_branch_product_and_officer(client, staff, world, branches):
    loans = world["loans"]
    with on(TODAY):
        client.force_login(staff["hq_manager"])
        assert rows(client, "postloan:overdue") == numbers(loans["L1"], loans["L2"], loans["S1"])
        assert rows(client, "postloan:overdue", branch=branches["SH"].pk) == numbers(loans["S1"])
        assert rows(client, "postloan:overdue", officer=staff["officer2"].pk) == numbers(loans["L2"])
        assert rows(client, "postloan:overdue", product=world["second_product"].pk) == []
        page = client.get(reverse("postloan:overdue"), {"branch": branches["BJ"].pk}).context
        # The bucket cards and the total count the same loans as the list.
        assert (page["total_loans"], [row["bucket"] for row in page["summary"]]) == (2, ["1_30", "91_180"])


def test_the_application_list_filters_by_branch_officer_and_submission_dates(client, staff, world, branches):
    with on(TODAY):
        client.force_login(staff["hq_manager"])
        sh = rows(client, "applications:list", branch=branches["SH"].pk)
        assert len(sh) == 2  # S1's and the one 吴刚 submitted on 3 February
        march = Application.objects.get(submitted_at__date=date(2026, 3, 2))
        assert rows(client, "applications:list", submitted_from="2026-03-01", submitted_to="2026-03-31") == [
            march.number
        ]
        client.force_login(staff["manager"])
        of_officer2 = rows(client, "applications:list", officer=staff["officer2"].pk)
        assert len(of_officer2) == 3  # L2's, a draft and the March submission
        assert march.number in of_officer2


def test_the_team_warnings_and_inbox_filter_by_officer_product_and_period(client, staff, world, branches):
    loans = world["loans"]
    with on(TODAY):
        client.force_login(staff["manager"])
        late = FollowUp.objects.filter(due_on__lt=TODAY, status__in=("planned", "returned"), branch=branches["BJ"])
        assert rows(client, "followups:team") == sorted(late.values_list("pk", flat=True), key=str)
        assert rows(client, "followups:team", product=world["second_product"].pk) == [
            FollowUp.objects.get(loan=loans["L3"]).pk  # returned for correction, and late
        ]
        assert rows(client, "followups:warnings", officer=staff["officer2"].pk) == [
            RiskWarning.objects.get(loan=loans["L2"]).pk
        ]
        assert rows(client, "followups:inquiries", status="all", product=world["second_product"].pk) == ["IQ000002"]
        assert rows(client, "followups:inquiries", status="all", asked_from="2026-01-01") == ["IQ000001", "IQ000002"]
        assert rows(client, "followups:inquiries", status="all", asked_to="2025-12-31") == ["IQ000004"]


@pytest.mark.parametrize(
    "name, extra",
    [
        ("postloan:list", {}),
        ("postloan:overdue", {}),
        ("applications:list", {}),
        ("followups:team", {}),
        ("followups:warnings", {}),
        ("followups:inquiries", {"status": "all"}),
    ],
)
def test_a_branch_manager_asking_for_another_branch_sees_only_their_own(client, staff, world, branches, name, extra):
    with on(TODAY):
        client.force_login(staff["manager"])
        own = rows(client, name, **extra)
        assert own  # Beijing has rows on every list
        # Shanghai's branch, officer or both: the branch is not offered to a branch manager and Shanghai's officer is
        # not a choice, so the page shows Beijing's rows, never an error and never Shanghai's.
        for asking in (
            {"branch": branches["SH"].pk},
            {"officer": staff["other_officer"].pk},
            {"branch": branches["SH"].pk, "officer": staff["other_officer"].pk},
        ):
            assert rows(client, name, **extra, **asking) == own, asking
        page = client.get(reverse(name), {**extra, "branch": branches["SH"].pk}).content.decode()
        assert 'id="id_branch"' not in page  # no branch filter offered
        client.force_login(staff["hq_manager"])
        assert 'id="id_branch"' in client.get(reverse(name), extra).content.decode()


def test_the_filtered_lists_cost_the_same_queries_with_more_loans(client, staff, world, branches):
    filters = {"branch": branches["BJ"].pk, "officer": staff["officer"].pk}
    # The factories lend under the first product by code, the second one here.
    product = {"product": world["second_product"].pk}
    pages = [
        (reverse("postloan:list"), filters | product | {"status": "open", "disbursed_from": "2026-01-01"}),
        (reverse("postloan:overdue"), filters | {"product": ""}),
        (reverse("applications:list"), filters | product | {"submitted_from": "2026-01-01"}),
    ]

    def queries() -> list[int]:
        counts = []
        for url, params in pages:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url, params).status_code == 200
            counts.append(len(captured))
        return counts

    with on(TODAY):
        client.force_login(staff["hq_manager"])
        queries()  # sessions and the viewer are loaded once
        before = queries()
    for amount in ("40000.00", "50000.00", "70000.00"):
        overdue(disbursed_loan(staff, amount=amount), dpd=10, bucket="1_30", classification="special_mention")
    with on(TODAY):
        after = queries()
        assert client.get(*pages[1]).context["page_obj"].paginator.count == 4  # L1 and the three new loans
        assert client.get(*pages[0]).context["page_obj"].paginator.count == 4  # L3 and the three new loans

    assert after == before
