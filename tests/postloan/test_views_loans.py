"""The loan pages: the list and its filters, the loan's page and its tabs, schedule versions, the print view, the
overdue list; who may see them (403 for a role without the function, 404 for another branch)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from core.dates import local_today
from postloan.models import ClassificationChange, Installment, Loan, PenaltyAccrual
from postloan.selectors import FOLLOWUP_CARD_DAYS
from postloan.views.loans import TAB_PAGE_SIZE
from tests.applications.factories import RESIDENT_IDS
from tests.followups.factories import loan_followup

from .factories import at, disbursed_loan, mark_overdue, on, post

pytestmark = pytest.mark.django_db

LIST_URL = reverse("postloan:list")
OVERDUE_URL = reverse("postloan:overdue")


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


def rows(response) -> list[str]:
    return [loan.number for loan in response.context["page_obj"]]


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def make_overdue(loan: Loan, *, dpd: int, bucket: str) -> None:
    mark_overdue(loan, today=date(2026, 3, 12), overdue_since=date(2026, 2, 11), dpd=dpd, bucket=bucket)


# --- the list -----------------------------------------------------------------------------------------------------
def test_it_lists_an_officers_own_loans_with_their_columns(client, staff, loan):
    client.force_login(staff["officer"])

    with on(date(2026, 1, 20)):
        response = client.get(LIST_URL)

    assert response.status_code == 200
    assert rows(response) == [loan.number]
    page = text(response)
    assert "My loans (1)" in page
    for shown in (loan.number, "李明", "Personal consumer loan", "¥120,000.00", "2026-02-10", "¥10,600.00", "Normal"):
        assert shown in page
    assert "138****8000" in page and "13800138000" not in page


def test_it_shows_a_colleagues_loans_only_when_the_officer_asks_for_the_branch(client, staff, loan):
    client.force_login(staff["officer2"])

    assert rows(client.get(LIST_URL)) == []
    assert rows(client.get(LIST_URL, {"show": "branch"})) == [loan.number]
    assert rows(client.get(LIST_URL, {"officer": staff["officer"].pk})) == [loan.number]


def test_it_shows_a_manager_the_branch_and_never_another_branch(client, staff, loan):
    client.force_login(staff["other_manager"])
    assert rows(client.get(LIST_URL)) == []
    assert "Your branch has no loans yet" in text(client.get(LIST_URL))

    client.force_login(staff["manager"])
    response = client.get(LIST_URL)
    assert rows(response) == [loan.number]
    assert "Loans (1)" in text(response)
    assert "branch" not in response.context["form"].fields


def test_it_lets_head_office_filter_by_branch(client, staff, loan, branches):
    client.force_login(staff["hq_manager"])

    assert rows(client.get(LIST_URL)) == [loan.number]
    assert rows(client.get(LIST_URL, {"branch": branches["BJ"].pk})) == [loan.number]
    assert rows(client.get(LIST_URL, {"branch": branches["SH"].pk})) == []


def test_it_filters_by_status_bucket_classification_due_soon_and_search(client, staff, loan):
    second = disbursed_loan(staff, identity=RESIDENT_IDS[1])
    make_overdue(second, dpd=40, bucket="31_60")
    Loan.objects.filter(pk=second.pk).update(classification="special_mention")
    client.force_login(staff["manager"])

    with on(date(2026, 2, 5)):
        assert rows(client.get(LIST_URL, {"status": "overdue"})) == [second.number]
        assert rows(client.get(LIST_URL, {"bucket": "31_60"})) == [second.number]
        assert rows(client.get(LIST_URL, {"classification": "normal"})) == [loan.number]
        assert set(rows(client.get(LIST_URL, {"due_soon": "on"}))) == {loan.number, second.number}
    with on(date(2026, 1, 20)):
        assert rows(client.get(LIST_URL, {"due_soon": "on"})) == []
    assert rows(client.get(LIST_URL, {"q": loan.number})) == [loan.number]
    assert rows(client.get(LIST_URL, {"q": "13800138000"})) == [second.number, loan.number]
    response = client.get(LIST_URL, {"q": "nobody"})
    assert rows(response) == []
    assert "No loans match these filters." in text(response)
    counts = client.get(LIST_URL).context["status_counts"]
    assert [(value, count) for value, _label, count in counts] == [("active", 1), ("overdue", 1)]
    # The list's count comes from those status counts, for every status filter.
    totals = {
        status: client.get(LIST_URL, {"status": status}).context["page_obj"].paginator.count
        for status in ("", "open", "overdue", "paid_off")
    }
    assert totals == {"": 2, "open": 2, "overdue": 1, "paid_off": 0}


def test_it_refuses_the_list_to_borrowers_and_admins(client, role_users):
    for role in (Role.BORROWER, Role.ADMIN):
        client.force_login(role_users[role])
        assert client.get(LIST_URL).status_code == 403
        assert client.get(OVERDUE_URL).status_code == 403


def test_it_tells_an_officer_without_loans_how_one_starts(client, staff):
    client.force_login(staff["officer"])

    response = client.get(LIST_URL)

    assert "You have no loans yet" in text(response)
    assert "?status=approved" in response.content.decode()


# --- the loan's page ----------------------------------------------------------------------------------------------
def detail_url(loan, tab: str = "") -> str:
    url = reverse("postloan:detail", args=[loan.pk])
    return f"{url}?tab={tab}" if tab else url


def test_it_shows_the_summary_and_schedule_with_badges(client, staff, loan):
    with on(date(2026, 2, 5)):
        post(loan, "5000.00", paid_on=date(2026, 2, 5), reference="BANK-1", by=staff["officer"])
    client.force_login(staff["officer"])

    with on(date(2026, 3, 12)):
        response = client.get(detail_url(loan))

    assert response.status_code == 200
    page = text(response)
    assert "¥120,000.00" in page and "6.00%" in page and "9.00%" in page
    assert "Post a repayment" in page and "Payoff (early settlement)" in page and "Print the schedule" in page
    content = response.content.decode()
    # Installment 1 (due 2026-02-10) is partly paid and past due on 2026-03-12: overdue; 2 is overdue; 3 not due.
    assert re.search(r'data-testid="installment-1".*?data-state="overdue"', content, re.S)
    assert re.search(r'data-testid="installment-3".*?data-state="not_due"', content, re.S)
    totals = re.search(r'data-testid="schedule-totals">(.*?)</tr>', content, re.S).group(1)
    assert "¥120,000.00" in totals and "¥5,000.00" in totals


def test_it_marks_paid_and_partly_paid_installments(client, staff, loan):
    with on(date(2026, 2, 5)):
        post(loan, "10600.00", paid_on=date(2026, 2, 5), reference="BANK-1", by=staff["officer"])
    with on(date(2026, 3, 1)):
        post(loan, "100.00", paid_on=date(2026, 3, 1), reference="BANK-2", by=staff["officer"])
        client.force_login(staff["manager"])
        content = client.get(detail_url(loan)).content.decode()

    assert re.search(r'data-testid="installment-1".*?data-state="paid"', content, re.S)
    assert re.search(r'data-testid="installment-2".*?data-state="partial"', content, re.S)
    # A manager reads the page but does not post.
    assert "Post a repayment" not in content


def test_it_shows_repayments_with_their_allocations_and_reversals(client, staff, loan):
    with on(date(2026, 2, 5)):
        first = post(loan, "600.00", paid_on=date(2026, 2, 5), reference="BANK-1", by=staff["officer"])
        post(loan, "1000.00", paid_on=date(2026, 2, 5), reference="BANK-2", by=staff["officer"])
        from postloan import services

        services.repayment_reverse(repayment=first, by=staff["manager"], reason="退票 bounced")
    client.force_login(staff["risk"])

    response = client.get(detail_url(loan, "repayments"))

    content = response.content.decode()
    block = re.search(r'data-testid="repayment-BANK-1"(.*?)</section>', content, re.S).group(1)
    assert "Reversed" in block and "退票 bounced" in block and "pl_manager" in block
    block = re.search(r'data-testid="repayment-BANK-2"(.*?)</section>', content, re.S).group(1)
    assert "#1" in block and "¥600.00" in block and "¥400.00" in block  # interest first, then principal
    assert 'data-testid="reverse-BANK-2"' in content  # the risk officer may reverse it
    assert 'data-testid="reverse-BANK-1"' not in content  # already reversed


def test_the_repayments_and_the_timeline_come_a_page_at_a_time_newest_first(client, staff, loan):
    from postloan.views.loans import TAB_PAGE_SIZE

    with on(date(2026, 2, 5)):
        for number in range(TAB_PAGE_SIZE + 3):
            post(loan, "10.00", paid_on=date(2026, 2, 5), reference=f"PART-{number:02}", by=staff["officer"])
    client.force_login(staff["manager"])

    def shown(tab: str, page: int) -> list[str]:
        response = client.get(detail_url(loan, tab) + f"&page={page}")
        assert response.status_code == 200
        return re.findall(r'data-testid="repayment-(PART-\d+)"', response.content.decode())

    first, second = shown("repayments", 1), shown("repayments", 2)
    assert first[:2] == ["PART-22", "PART-21"] and len(first) == TAB_PAGE_SIZE
    assert second == ["PART-02", "PART-01", "PART-00"]
    page = client.get(detail_url(loan, "repayments")).content.decode()
    assert "Page 1 of 2" in page and "tab=repayments&amp;page=2" in page
    assert shown("repayments", 99) == second  # past the end: the last page
    timeline = client.get(detail_url(loan, "timeline") + "&page=2").content.decode()
    assert "Page 2 of 2" in timeline and "Disbursed" in timeline  # the oldest event, on the last page


def test_it_shows_classification_history_penalties_versions_and_timeline(client, staff, loan):
    ClassificationChange.objects.create(
        loan=loan,
        from_class="normal",
        to_class="special_mention",
        source="sweep",
        reason="逾期 1 天",
        dpd=1,
        business_date=date(2026, 2, 11),
    )
    first = Installment.objects.get(loan=loan, number=1)
    for day in (11, 12):
        PenaltyAccrual.objects.create(
            loan=loan,
            installment=first,
            accrual_date=date(2026, 2, day),
            overdue_principal=Decimal("10000.00"),
            penalty_rate=Decimal("9.0000"),
            amount=Decimal("2.50"),
        )
    client.force_login(staff["manager"])

    classification = text(client.get(detail_url(loan, "classification")))
    assert "Normal → Special mention" in classification and "逾期 1 天" in classification
    penalties = text(client.get(detail_url(loan, "penalties")))
    assert "#1 · 2026-02-10" in penalties and "2026-02-11 – 2026-02-12" in penalties and "¥5.00" in penalties
    versions = client.get(detail_url(loan, "versions")).content.decode()
    assert reverse("postloan:schedule_version", args=[loan.pk, 1]) in versions
    timeline = text(client.get(detail_url(loan, "timeline")))
    assert "Disbursed" in timeline and "¥120,000.00 disbursed on 2026-01-10" in timeline


# --- follow-ups: those in work above the tabs, all of them on their tab ---------------------------------------------
def followups_card(response) -> str:
    content = response.content.decode()
    return text_of(re.search(r'data-testid="loan-followups"(.*?)</section>', content, re.S).group(1))


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_follow_ups_card_shows_those_in_work_and_links_to_all_of_them(client, staff, loan):
    planned = loan_followup(loan, kind="first", due_on=date(2026, 2, 9))
    returned = loan_followup(loan, due_on=date(2026, 2, 1), status="returned")
    waiting = loan_followup(loan, due_on=date(2026, 1, 20), status="completed", completed_at=at(date(2026, 1, 21)))
    approved = loan_followup(loan, kind="second", due_on=date(2026, 1, 15), status="approved")
    cancelled = loan_followup(loan, due_on=date(2026, 1, 12), status="cancelled")
    client.force_login(staff["officer"])

    response = client.get(detail_url(loan))

    content = response.content.decode()
    for shown in (planned, returned, waiting):
        assert f'data-testid="loan-followup-{shown.pk}"' in content
    for finished in (approved, cancelled):
        assert f'data-testid="loan-followup-{finished.pk}"' not in content
    card = followups_card(response)
    assert "Follow-ups in work (3)" in card
    assert "First follow-up (D+30) · 2026-02-09 · pl_officer Planned" in card
    assert "Returned for correction" in card and "Completed, waiting for review" in card
    assert "Second follow-up (D+90)" not in card and "Approved" not in card
    assert "All follow-ups (5)" in card
    assert 'href="?tab=followups" data-testid="all-followups"' in content


def test_the_follow_ups_card_leaves_planned_ones_due_after_thirty_days_to_the_tab(client, staff, loan):
    today = local_today()
    soon = loan_followup(loan, due_on=today + timedelta(days=FOLLOWUP_CARD_DAYS))
    later = loan_followup(loan, due_on=today + timedelta(days=FOLLOWUP_CARD_DAYS + 1))
    client.force_login(staff["officer"])

    response = client.get(detail_url(loan))

    content = response.content.decode()
    assert f'data-testid="loan-followup-{soon.pk}"' in content
    assert f'data-testid="loan-followup-{later.pk}"' not in content
    card = followups_card(response)
    assert "Follow-ups in work (1)" in card and "All follow-ups (2)" in card


def test_the_follow_ups_card_says_when_none_is_in_work(client, staff, loan):
    client.force_login(staff["officer"])

    card = followups_card(client.get(detail_url(loan)))
    assert "Follow-ups in work (0)" in card and "No follow-up is in work on this loan." in card
    assert "All follow-ups" not in card  # nothing finished either: no tab to point to

    loan_followup(loan, due_on=date(2026, 1, 15), status="approved")
    card = followups_card(client.get(detail_url(loan)))
    assert "No follow-up is in work on this loan." in card and "All follow-ups (1)" in card


def test_the_follow_ups_tab_lists_every_follow_up_latest_due_first_a_page_at_a_time(client, staff, loan):
    # 21 follow-ups, one a day from 1 January, every other one approved; the latest is planned.
    for day in range(TAB_PAGE_SIZE + 1):
        loan_followup(loan, due_on=date(2026, 1, 1 + day), status="planned" if day % 2 == 0 else "approved")
    reviewed = loan.followups.get(due_on=date(2026, 1, 20))
    reviewed.completed_at, reviewed.risk_level = at(date(2026, 1, 22)), "high"
    reviewed.save(update_fields=["completed_at", "risk_level"])
    client.force_login(staff["manager"])

    def rows_of(page: int) -> list[str]:
        response = client.get(detail_url(loan, "followups") + f"&page={page}")
        assert response.status_code == 200
        content = response.content.decode()
        return [text_of(row) for row in re.findall(r'<tr data-testid="followup-\d+">(.*?)</tr>', content, re.S)]

    first, second = rows_of(1), rows_of(2)
    assert len(first) == TAB_PAGE_SIZE and len(second) == 1
    assert first[0] == "Extra follow-up 2026-01-21 pl_officer Planned"
    assert first[1] == "Extra follow-up 2026-01-20 pl_officer Approved 2026-01-22 High"
    assert second == ["Extra follow-up 2026-01-01 pl_officer Planned"]
    page = client.get(detail_url(loan, "followups")).content.decode()
    assert "Page 1 of 2" in page and "tab=followups&amp;page=2" in page
    assert f'href="/followups/{reviewed.pk}/"' in page
    assert re.search(r'href="\?tab=followups"[^>]*>\s*Follow-ups\s*<span[^>]*>21</span>', page)
    # Above the tabs, the 11 planned ones; the card links here.
    assert "Follow-ups in work (11)" in text_of(page) and "All follow-ups (21)" in page


def test_the_follow_ups_tab_lists_the_plan_further_ahead_last_in_calendar_order(client, staff, loan):
    today = local_today()
    approved = loan_followup(loan, due_on=today - timedelta(days=60), status="approved")
    due_soon = loan_followup(loan, due_on=today + timedelta(days=5))
    in_a_year = loan_followup(loan, due_on=today + timedelta(days=365))
    in_half_a_year = loan_followup(loan, due_on=today + timedelta(days=180))
    client.force_login(staff["officer"])

    content = client.get(detail_url(loan, "followups")).content.decode()

    listed = [int(pk) for pk in re.findall(r'<tr data-testid="followup-(\d+)">', content)]
    assert listed == [due_soon.pk, approved.pk, in_half_a_year.pk, in_a_year.pk]


def test_the_follow_ups_tab_says_when_the_loan_has_none(client, staff, loan):
    client.force_login(staff["officer"])

    page = text(client.get(detail_url(loan, "followups")))

    assert "This loan has no follow-ups yet." in page


def test_it_shows_a_schedule_version_and_404s_a_missing_one(client, staff, loan):
    client.force_login(staff["manager"])

    response = client.get(reverse("postloan:schedule_version", args=[loan.pk, 1]))

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="installment-') == 12
    assert client.get(reverse("postloan:schedule_version", args=[loan.pk, 2])).status_code == 404


def test_it_prints_the_schedule_without_the_menu(client, staff, loan):
    client.force_login(staff["officer"])

    response = client.get(reverse("postloan:schedule_print", args=[loan.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "navbar" not in content and "@media print" not in content  # the print rules are in print.css
    assert "postloan/print.css" in content
    assert "李明" in content and content.count('data-testid="installment-') == 12
    totals = re.search(r'data-testid="schedule-totals">(.*?)</tr>', content, re.S).group(1)
    assert "¥120,000.00" in totals


@pytest.mark.parametrize(
    "name", ["postloan:detail", "postloan:schedule_print", "postloan:repayment_post", "postloan:payoff"]
)
def test_it_hides_another_branchs_loan_pages(client, staff, loan, name):
    client.force_login(staff["other_officer"])

    assert client.get(reverse(name, args=[loan.pk])).status_code == 404


def test_it_hides_another_branchs_loan_follow_ups(client, staff, loan):
    loan_followup(loan, due_on=date(2026, 2, 9))
    client.force_login(staff["other_manager"])

    assert client.get(detail_url(loan, "followups")).status_code == 404


def test_it_refuses_the_loans_page_to_a_borrower(client, staff, loan, role_users):
    client.force_login(role_users[Role.BORROWER])

    assert client.get(detail_url(loan)).status_code == 403


# --- overdue ------------------------------------------------------------------------------------------------------
def test_it_groups_overdue_loans_by_bucket_with_counts_and_sums(client, staff, loan):
    older = disbursed_loan(staff, identity=RESIDENT_IDS[1])
    oldest = disbursed_loan(staff, identity=RESIDENT_IDS[2])
    make_overdue(loan, dpd=20, bucket="1_30")
    make_overdue(older, dpd=25, bucket="1_30")
    make_overdue(oldest, dpd=45, bucket="31_60")
    client.force_login(staff["risk"])

    with on(date(2026, 3, 12)):
        response = client.get(OVERDUE_URL)

    assert response.status_code == 200
    # 1–30 first, oldest first within it; then 31–60.
    assert rows(response) == [older.number, loan.number, oldest.number]
    summary = {row["bucket"]: (row["loans"], row["amount"]) for row in response.context["summary"]}
    # Each loan owes installments 1 and 2 (due 2026-02-10 and 2026-03-10): 10,600 + 10,550 of the 120,000 at 6 %.
    assert summary == {"1_30": (2, Decimal("42300.00")), "31_60": (1, Decimal("21150.00"))}
    assert "Overdue loans (3)" in text(response)
    with on(date(2026, 3, 12)):
        assert rows(client.get(OVERDUE_URL, {"bucket": "31_60"})) == [oldest.number]


def test_it_says_what_happens_when_nothing_is_overdue(client, staff, loan):
    client.force_login(staff["officer"])

    response = client.get(OVERDUE_URL)

    assert rows(response) == []
    assert "No loan is overdue." in text(response)
