"""The application lists and queues: filters, search, branch scope and approval limits."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from applications import selectors, services
from applications.models import Application

from .factories import (
    RESIDENT_IDS,
    accept_materials,
    in_secondary_review,
    make_application,
    make_borrower,
    make_product,
    submitted,
)

pytestmark = pytest.mark.django_db

# 2026-03-01 17:00 UTC is already 2 March, 01:00, in Shanghai.
LATE_EVENING_UTC = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)


def numbers(queryset) -> set[str]:
    return {application.number for application in queryset}


@pytest.fixture
def book(staff, product):
    """Applications of two branches: BJ's in several statuses, products and days, and one of SH's."""
    officer, reviewer = staff["officer"], staff["reviewer"]
    li = make_borrower(officer, number=RESIDENT_IDS[0], name="李明", mobile="13800138000")
    zhang = make_borrower(officer, number=RESIDENT_IDS[1], name="张伟", mobile="13900139000")
    chen = make_borrower(staff["other_officer"], number=RESIDENT_IDS[2], name="陈静", mobile="13500135000")
    business = make_product("BUSINESS", name_zh="经营贷", name_en="Business loan")
    with time_machine.travel(datetime(2026, 2, 27, 2, 0, tzinfo=UTC), tick=False):
        draft = make_application(officer, borrower=li, product=product)
    with time_machine.travel(LATE_EVENING_UTC, tick=False):
        business_draft = make_application(officer, borrower=zhang, product=business)
    with time_machine.travel(datetime(2026, 3, 5, 2, 0, tzinfo=UTC), tick=False):
        waiting = submitted(officer, borrower=zhang, product=product)
        secondary = in_secondary_review(officer, reviewer, borrower=li, product=product, amount="150000.00")
        large = in_secondary_review(
            officer, reviewer, borrower=zhang, product=product, amount="300000.00", term_months=36
        )
        shanghai = make_application(staff["other_officer"], borrower=chen, product=product)
    return {
        "draft": draft,
        "business_draft": business_draft,
        "waiting": waiting,
        "secondary": secondary,
        "large": large,
        "shanghai": shanghai,
        "business": business,
    }


def test_it_lists_the_branchs_applications_newest_first(staff, book):
    listed = list(selectors.application_list(user=staff["officer"]))

    assert [a.number for a in listed] == [
        a.number
        for a in sorted(
            (book[k] for k in ("draft", "business_draft", "waiting", "secondary", "large")),
            key=lambda a: (a.created_at, a.pk),
            reverse=True,
        )
    ]


def test_it_filters_by_status(staff, book):
    listed = selectors.application_list(user=staff["officer"], status="secondary_review")

    assert numbers(listed) == {book["secondary"].number, book["large"].number}


def test_it_filters_by_product(staff, book):
    business = selectors.application_list(user=staff["officer"], product_id=book["business"].pk)
    consumer = selectors.application_list(user=staff["officer"], product_id=book["draft"].product_id)

    assert numbers(business) == {book["business_draft"].number}
    assert numbers(consumer) == {book[k].number for k in ("draft", "waiting", "secondary", "large")}


def test_it_filters_by_shanghai_creation_dates(staff, book):
    on_2_march = selectors.application_list(
        user=staff["officer"], created_from=date(2026, 3, 2), created_to=date(2026, 3, 2)
    )
    until_1_march = selectors.application_list(user=staff["officer"], created_to=date(2026, 3, 1))
    from_3_march = selectors.application_list(user=staff["officer"], created_from=date(2026, 3, 3))

    assert numbers(on_2_march) == {book["business_draft"].number}
    assert numbers(until_1_march) == {book["draft"].number}
    assert numbers(from_3_march) == {book[k].number for k in ("waiting", "secondary", "large")}


def test_it_lists_only_applications_past_their_review_target(staff, book):
    waiting = book["waiting"]
    assert waiting.sla_due_at == datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # 24 hours for initial review

    with time_machine.travel(waiting.sla_due_at - timedelta(minutes=1)):
        assert numbers(selectors.application_list(user=staff["officer"], breached=True)) == set()
    with time_machine.travel(waiting.sla_due_at + timedelta(minutes=1)):
        assert numbers(selectors.application_list(user=staff["officer"], breached=True)) == {waiting.number}
        assert Application.objects.get(pk=waiting.pk).sla_breached is True
    # Secondary review has 48 hours from the pass.
    with time_machine.travel(datetime(2026, 3, 7, 2, 1, tzinfo=UTC)):
        breached = selectors.application_list(user=staff["officer"], breached=True)
        assert numbers(breached) == {waiting.number, book["secondary"].number, book["large"].number}
        assert selectors.sla_breaches_by_stage(user=staff["officer"]) == {"initial": 1, "secondary": 2}


def test_it_stops_counting_a_breach_once_the_decision_is_made(staff, book):
    waiting = book["waiting"]
    accept_materials(waiting, staff["reviewer"])
    services.application_review_initial(application=waiting, by=staff["reviewer"], decision="return", comment="补")

    with time_machine.travel(datetime(2026, 3, 6, 3, 0, tzinfo=UTC)):
        assert waiting.number not in numbers(selectors.application_list(user=staff["officer"], breached=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("number", {"draft"}),
        ("number_lower", {"draft"}),
        ("张", {"business_draft", "waiting", "large"}),
        ("李明", {"draft", "secondary"}),
        ("13900139000", {"business_draft", "waiting", "large"}),
        (RESIDENT_IDS[0], {"draft", "secondary"}),
        (f"  {RESIDENT_IDS[1]} ", {"business_draft", "waiting", "large"}),
        ("110101********0013", set()),  # the masked number finds nothing
        ("1380013", set()),  # a mobile number is matched whole
        (RESIDENT_IDS[2], set()),  # Shanghai's borrower
        ("陈静", set()),
    ],
)
def test_it_searches_by_number_name_mobile_and_full_identity_number(staff, book, query, expected):
    query = {"number": book["draft"].number, "number_lower": book["draft"].number.lower()}.get(query, query)

    listed = selectors.application_list(user=staff["officer"], query=query)

    assert numbers(listed) == {book[k].number for k in expected}


def test_it_never_shows_another_branchs_applications(staff, book):
    bj_numbers = {book[k].number for k in ("draft", "business_draft", "waiting", "secondary", "large")}

    for role in ("officer", "officer2", "reviewer", "approver", "manager", "risk"):
        assert numbers(selectors.application_list(user=staff[role])) == bj_numbers, role
    assert numbers(selectors.application_list(user=staff["other_officer"])) == {book["shanghai"].number}
    assert numbers(selectors.application_list(user=staff["other_reviewer"], query=book["draft"].number)) == set()
    with pytest.raises(Application.DoesNotExist):
        selectors.application_detail(user=staff["officer"], pk=book["shanghai"].pk)


def test_it_shows_head_office_every_branch(staff, book):
    listed = selectors.application_list(user=staff["hq_manager"])

    assert book["shanghai"].number in numbers(listed)
    assert len(numbers(listed)) == 6
    assert selectors.application_detail(user=staff["hq_manager"], pk=book["shanghai"].pk) == book["shanghai"]


def test_it_shows_a_user_without_a_branch_nothing(book, make_user):
    nobody = make_user("floating_officer", "officer")

    assert list(selectors.application_list(user=nobody)) == []


def test_it_lists_only_the_officers_own_applications_when_asked(staff, book):
    services.application_reassign(application=book["draft"], by=staff["manager"], officer=staff["officer2"])

    mine = selectors.application_list(user=staff["officer2"], mine=True)

    assert numbers(mine) == {book["draft"].number}


def test_it_queues_for_an_approver_only_what_is_within_their_limit(staff, book):
    assert numbers(selectors.approval_queue(user=staff["approver"])) == {book["secondary"].number}


def test_it_queues_everything_in_secondary_review_for_a_manager(staff, book):
    assert [a.number for a in selectors.approval_queue(user=staff["manager"])] == [
        book["secondary"].number,
        book["large"].number,
    ]


def test_it_queues_other_branches_for_head_office_managers_only(staff, book):
    officer = staff["other_officer"]
    reviewer = staff["other_reviewer"]
    sh_app = in_secondary_review(officer, reviewer, borrower=book["shanghai"].borrower, product=book["draft"].product)

    assert sh_app.number not in numbers(selectors.approval_queue(user=staff["manager"]))
    assert sh_app.number in numbers(selectors.approval_queue(user=staff["hq_manager"]))


def test_it_queues_initial_reviews_oldest_in_the_stage_first(staff, book):
    officer = staff["officer"]
    with time_machine.travel(datetime(2026, 3, 9, 2, 0, tzinfo=UTC), tick=False):
        newer = submitted(officer, borrower=book["draft"].borrower, product=book["draft"].product)

    assert [a.number for a in selectors.initial_review_queue(user=staff["reviewer"])] == [
        book["waiting"].number,
        newer.number,
    ]
    assert list(selectors.initial_review_queue(user=staff["other_reviewer"])) == []


def test_it_counts_applications_per_status(staff, book):
    counts = selectors.status_counts(user=staff["officer"])

    assert counts == {"draft": 2, "submitted": 1, "secondary_review": 2}


def test_it_finds_borrowers_of_the_branch_only(staff, book):
    assert [b.name for b in selectors.borrower_search(user=staff["officer"], query="13900139000")] == ["张伟"]
    assert [b.name for b in selectors.borrower_search(user=staff["officer"], query=RESIDENT_IDS[0])] == ["李明"]
    assert list(selectors.borrower_search(user=staff["officer"], query="陈静")) == []
    assert list(selectors.borrower_search(user=staff["officer"], query="")) == []
    assert [b.name for b in selectors.borrower_search(user=staff["hq_manager"], query="陈")] == ["陈静"]
