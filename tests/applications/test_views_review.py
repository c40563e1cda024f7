"""The reviewers' and approvers' pages: queues, claiming, the two decisions, and every refusal a user can meet."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.roles import Role
from applications import services
from applications.models import (
    Application,
    ApplicationEvent,
    CreditAssessment,
    Material,
    MaterialRequirement,
    Review,
    TransitionError,
)
from tests.conftest import require_service

from .factories import (
    RESIDENT_IDS,
    accept_materials,
    complete,
    in_secondary_review,
    make_application,
    make_borrower,
    make_product,
    pdf,
    submitted,
)

pytestmark = pytest.mark.django_db

REVIEW_QUEUE = reverse("applications:review_queue")
APPROVAL_QUEUE = reverse("applications:approval_queue")
CHECKLIST = ("identity_verified", "income_consistent", "purpose_plausible", "materials_complete", "no_conflicts")


@pytest.fixture(autouse=True)
def _english(staff):
    """Messages are compared in English; the Chinese catalog is the lead's."""
    User.objects.update(preferred_language="en")


def start_url(application) -> str:
    return reverse("applications:review_start", args=[application.pk])


def initial_url(application) -> str:
    return reverse("applications:review_initial", args=[application.pk])


def secondary_url(application) -> str:
    return reverse("applications:review_secondary", args=[application.pk])


def signed_in(client, user):
    client.force_login(user)
    return client


def add_role(user, role: str) -> None:
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.__dict__.pop("_loantrack_roles", None)


def borrower(officer, index: int, name: str):
    return make_borrower(officer, number=RESIDENT_IDS[index], name=name, mobile=f"1380013800{index}")


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


def decide_initial(client, application, decision: str, comment: str = "资料齐全，同意", **extra):
    data = {"decision": decision, "comment": comment, **dict.fromkeys(CHECKLIST, "on"), **extra}
    return client.post(initial_url(application), data)


def decide_secondary(client, application, decision: str, comment: str = "同意", follow: bool = False, **extra):
    data = {
        "decision": decision,
        "comment": comment,
        "approved_amount": str(application.amount),
        "approved_rate": str(application.annual_rate),
        "approved_term_months": str(application.term_months),
        **extra,
    }
    return client.post(secondary_url(application), data, follow=follow)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- the initial review queue ------------------------------------------------------------------------------------
def test_it_lists_submitted_applications_oldest_first_with_counts(client, staff, product):
    officer = staff["officer"]
    start = timezone.now() - timedelta(hours=10)
    made = []
    for index, name in enumerate(("李明", "王芳", "张强")):
        with time_machine.travel(start + timedelta(hours=index), tick=False):
            made.append(submitted(officer, borrower=borrower(officer, index, name)))
    services.application_start_review(application=made[1], by=staff["reviewer"])
    # Not in the queue: a draft, and another branch's submission.
    make_application(officer, borrower=made[0].borrower)
    submitted(staff["other_officer"], borrower=borrower(staff["other_officer"], 3, "赵磊"))

    response = signed_in(client, staff["reviewer2"]).get(REVIEW_QUEUE)

    assert response.status_code == 200
    rows = list(response.context["page_obj"])
    # made[1] left "submitted" last, so it is now the newest in its stage.
    assert [a.number for a in rows] == [made[0].number, made[2].number, made[1].number]
    assert response.context["counts"] == {"total": 3, "waiting": 2, "in_review": 1, "breached": 0}
    html = response.content.decode()
    assert "<h1" in html and "Initial review" in html
    assert 'data-testid="count-waiting">Waiting 2<' in html
    assert 'data-testid="count-in-review">In review 1<' in html
    assert "王芳" in html and "¥100,000.00" in html
    in_review_row = html.split(f'data-testid="queue-row-{made[1].number}"')[1].split("</tr>")[0]
    assert str(staff["reviewer"]) in in_review_row
    assert f"start-review-{made[1].number}" not in html
    assert f"start-review-{made[0].number}" in html


def test_it_flags_an_application_waiting_past_its_review_target(client, staff, product):
    application = submitted(staff["officer"])
    client = signed_in(client, staff["reviewer"])

    before = client.get(REVIEW_QUEUE)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        after = signed_in(client, staff["reviewer"]).get(REVIEW_QUEUE)  # a session lasts a working day

    assert 'data-testid="sla-breached"' not in before.content.decode()
    assert before.context["counts"]["breached"] == 0
    row = after.content.decode().split(f'data-testid="queue-row-{application.number}"')[1].split("</tr>")[0]
    assert 'data-testid="sla-breached"' in row
    assert after.context["counts"]["breached"] == 1


def test_it_says_what_happens_next_when_the_queue_is_empty(client, staff):
    response = signed_in(client, staff["reviewer"]).get(REVIEW_QUEUE)

    assert response.status_code == 200
    assert "Nothing waiting for initial review. Submitted applications appear here oldest first." in (
        response.content.decode()
    )


def test_it_paginates_the_queue_by_25(client, staff, product):
    officer = staff["officer"]
    person = borrower(officer, 0, "李明")
    first = submitted(officer, borrower=person)
    for _ in range(25):
        application = services.application_create(
            by=officer,
            borrower=person,
            product=product,
            amount=Decimal("50000"),
            term_months=12,
            method="equal_installment",
            annual_rate=Decimal("5"),
            purpose="装修",
            channel="walk_in",
        )
        Application.objects.filter(pk=application.pk).update(status="submitted")

    page_one = signed_in(client, staff["reviewer"]).get(REVIEW_QUEUE)
    page_two = client.get(REVIEW_QUEUE, {"page": 2})

    assert len(page_one.context["page_obj"]) == 25
    assert page_one.context["page_obj"][0].pk == first.pk
    assert len(page_two.context["page_obj"]) == 1
    assert "Page 2 of 2" in page_two.content.decode()


@pytest.mark.parametrize("url", [REVIEW_QUEUE, APPROVAL_QUEUE])
def test_its_queues_cost_the_same_queries_whatever_the_rows(client, staff, product, url):
    officer, reviewer = staff["officer"], staff["reviewer"]
    viewer = staff["reviewer2"] if url == REVIEW_QUEUE else staff["manager"]
    make = submitted if url == REVIEW_QUEUE else lambda o, **kw: in_secondary_review(o, reviewer, **kw)
    make(officer, borrower=borrower(officer, 0, "李明"))
    client = signed_in(client, viewer)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(url).status_code == 200
    for index, name in ((1, "王芳"), (2, "张强"), (3, "刘洋")):
        make(staff["officer2"], borrower=borrower(staff["officer2"], index, name))
    with CaptureQueriesContext(connection) as four_rows:
        response = client.get(url)

    assert len(response.context["page_obj"]) == 4
    assert len(four_rows) == len(one_row)


def test_it_keeps_the_queues_to_their_roles(client, staff):
    assert signed_in(client, staff["officer"]).get(REVIEW_QUEUE).status_code == 403
    assert signed_in(client, staff["reviewer"]).get(APPROVAL_QUEUE).status_code == 403
    assert signed_in(client, staff["approver"]).get(REVIEW_QUEUE).status_code == 403
    client.logout()
    assert client.get(REVIEW_QUEUE)["Location"].startswith("/login/")


# --- the approval queue -----------------------------------------------------------------------------------------
def test_it_shows_an_approver_only_what_their_limit_covers_and_a_manager_everything(client, staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    small = in_secondary_review(officer, reviewer, borrower=borrower(officer, 0, "李明"), amount="100000.00")
    large = in_secondary_review(
        officer, reviewer, borrower=borrower(officer, 1, "王芳"), amount="300000.00", term_months=36
    )

    as_approver = signed_in(client, staff["approver"]).get(APPROVAL_QUEUE)
    as_manager = signed_in(client, staff["manager"]).get(APPROVAL_QUEUE)

    assert [a.pk for a in as_approver.context["page_obj"]] == [small.pk]
    assert "¥200,000.00" in as_approver.content.decode()  # the approver's own limit, in the note
    assert [a.pk for a in as_manager.context["page_obj"]] == [small.pk, large.pk]
    html = as_manager.content.decode()
    small_row = html.split(f'data-testid="queue-row-{small.number}"')[1].split("</tr>")[0]
    large_row = html.split(f'data-testid="queue-row-{large.number}"')[1].split("</tr>")[0]
    assert 'data-testid="above-limits"' not in small_row
    assert 'data-testid="above-limits"' in large_row
    assert "above approvers' limits" in large_row


def test_it_counts_head_office_approvers_when_deciding_what_is_above_every_limit(
    client, staff, product, make_user, branches
):
    large = in_secondary_review(staff["officer"], staff["reviewer"], amount="300000.00", term_months=36)
    make_user("approver_hq", Role.APPROVER, branch=branches["HQ"], approval_limit=Decimal("500000.00"))

    html = signed_in(client, staff["manager"]).get(APPROVAL_QUEUE).content.decode()

    assert f'data-testid="queue-row-{large.number}"' in html
    assert 'data-testid="above-limits"' not in html


# --- claiming an application ------------------------------------------------------------------------------------
def test_it_lets_a_reviewer_take_a_submitted_application(client, staff, product):
    application = submitted(staff["officer"])

    response = signed_in(client, staff["reviewer"]).post(start_url(application))

    assert response.status_code == 302
    assert response["Location"] == initial_url(application)
    application = reload(application)
    assert application.status == "initial_review"
    assert application.initial_reviewer == staff["reviewer"]
    assert client.get(start_url(application)).status_code == 405


def test_it_tells_the_second_reviewer_that_someone_else_took_it(client, staff, product):
    application = submitted(staff["officer"])
    services.application_start_review(application=application, by=staff["reviewer"])

    response = signed_in(client, staff["reviewer2"]).post(start_url(application), follow=True)

    assert response.redirect_chain == [(REVIEW_QUEUE, 302)]
    assert any("“In initial review”" in message for message in messages_of(response))
    assert reload(application).initial_reviewer == staff["reviewer"]


# --- the initial review page ------------------------------------------------------------------------------------
def test_it_shows_the_application_materials_and_timeline_beside_the_decision_form(client, staff, product):
    application = submitted(staff["officer"], purpose="婚礼及婚宴费用")
    services.application_start_review(application=application, by=staff["reviewer"])

    response = signed_in(client, staff["reviewer"]).get(initial_url(application))

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("李明", "婚礼及婚宴费用", "¥100,000.00", "4.35%", str(staff["officer"]), "Grade"):
        assert text in html, text
    check_url = reverse("applications:material_check", args=[application.pk, application.materials.first().pk])
    assert f'action="{check_url}"' in html
    assert f'name="next" value="{initial_url(application)}"' in html
    assert html.count('data-testid="material-accept"') == 2
    assert 'name="identity_verified"' in html and 'value="reject"' in html
    assert 'data-testid="timeline"' in html


def test_it_shows_hard_stops_in_red(client, staff, product):
    officer = staff["officer"]
    application = make_application(officer)
    for material in application.materials.all():
        services.material_upload(material=material, by=officer, upload=pdf())
    services.disclosure_acknowledge(application=application, by=officer)
    services.assessment_save(
        application=application, by=officer, income_stability="stable", credit_flags=["current_overdue"]
    )
    services.application_submit(application=reload(application), by=officer)

    html = signed_in(client, staff["reviewer"]).get(initial_url(application)).content.decode()

    hard_stops = html.split('data-testid="hard-stops"')[1].split("</div>")[0]
    assert "currently overdue with another lender" in hard_stops
    assert 'class="alert alert-danger' in html.split('data-testid="hard-stops"')[0][-200:]


def test_it_flags_hard_stops_in_the_approval_queue(client, staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    clean = in_secondary_review(officer, reviewer)
    flagged = in_secondary_review(officer, reviewer, borrower=borrower(officer, 3, "赵六"))
    # A hard stop found after submission (e.g. a block-list entry added since): the stored result is what counts.
    CreditAssessment.objects.filter(application=flagged).update(
        hard_stops=[{"zh-hans": "该借款人目前在其他机构逾期。", "en": "The borrower is currently overdue."}]
    )

    html = signed_in(client, staff["approver"]).get(APPROVAL_QUEUE).content.decode()

    flagged_row = html.split(f'data-testid="queue-row-{flagged.number}"')[1].split("</tr>")[0]
    clean_row = html.split(f'data-testid="queue-row-{clean.number}"')[1].split("</tr>")[0]
    assert 'data-testid="hard-stop-flag"' in flagged_row
    assert "hard stops: a manager approves" in flagged_row
    assert 'data-testid="hard-stop-flag"' not in clean_row


@pytest.mark.parametrize("view", ["initial", "secondary"])
def test_its_review_pages_cost_the_same_queries_whatever_the_materials_and_events(client, staff, product, view):
    officer = staff["officer"]
    small = make_application(officer, borrower=borrower(officer, 0, "李明"))
    bigger_checklist = make_product("BIGGER")
    for index in range(3):
        MaterialRequirement.objects.create(
            product=bigger_checklist, code=f"extra_{index}", name_zh=f"材料{index}", name_en=f"Item {index}"
        )
    large = make_application(officer, borrower=borrower(officer, 1, "王芳"), product=bigger_checklist)
    for index in range(4):
        services.material_add(application=large, by=officer, name=f"补充材料{index}", is_required=True)
        services.application_add_note(application=large, by=officer, text=f"备注{index}")
    services.party_add(application=large, by=officer, role="guarantor", name="张三", mobile="13900139000")
    for application in (small, large):
        services.application_submit(application=complete(application, officer), by=officer)
        if view == "secondary":
            accept_materials(reload(application), staff["reviewer"])
            services.application_review_initial(
                application=reload(application), by=staff["reviewer"], decision="pass", comment="资料齐全"
            )
    viewer = staff["reviewer2"] if view == "initial" else staff["approver"]
    url = initial_url if view == "initial" else secondary_url
    client = signed_in(client, viewer)
    client.get(url(small))  # the session and the user's roles, once

    with CaptureQueriesContext(connection) as few:
        assert client.get(url(small)).status_code == 200
    with CaptureQueriesContext(connection) as many:
        response = client.get(url(large))

    assert response.status_code == 200
    assert len(response.context["materials"]) == 9
    assert len(many) == len(few)


def test_the_accept_button_checks_the_material_and_comes_back_to_the_review(client, staff, product):
    application = submitted(staff["officer"])
    material = application.materials.first()

    response = signed_in(client, staff["reviewer"]).post(
        reverse("applications:material_check", args=[application.pk, material.pk]),
        {"decision": "accept", "next": initial_url(application)},
    )

    assert response.status_code == 302
    assert response["Location"] == initial_url(application)
    material.refresh_from_db()
    assert material.status == Material.Status.ACCEPTED


def test_it_passes_an_application_with_the_checklist_to_secondary_review(client, staff, product):
    application = submitted(staff["officer"])
    services.application_start_review(application=application, by=staff["reviewer"])
    accept_materials(application, staff["reviewer"])

    response = decide_initial(
        signed_in(client, staff["reviewer"]), application, "pass", identity_verified="on", no_conflicts=""
    )

    assert response.status_code == 302
    assert response["Location"] == REVIEW_QUEUE
    assert reload(application).status == "secondary_review"
    review = Review.objects.get(application=application)
    assert review.decision == "pass"
    assert review.comment == "资料齐全，同意"
    assert set(review.checklist) == set(CHECKLIST)
    assert review.checklist["identity_verified"] is True


def test_it_refuses_to_pass_while_materials_are_unchecked(client, staff, product):
    application = submitted(staff["officer"])

    response = decide_initial(signed_in(client, staff["reviewer"]), application, "pass")

    assert response.status_code == 200
    assert "Accept or reject every uploaded material before passing the application." in response.content.decode()
    assert reload(application).status == "submitted"
    assert not Review.objects.exists()


def test_it_returns_an_application_to_the_officer(client, staff, product):
    application = submitted(staff["officer"])

    response = decide_initial(signed_in(client, staff["reviewer"]), application, "return", "请补充收入证明")

    assert response.status_code == 302
    application = reload(application)
    assert application.status == "returned"
    assert application.events.filter(to_status="returned", note="请补充收入证明").exists()


def test_it_needs_a_reason_code_and_a_comment_to_reject(client, staff, product):
    application = submitted(staff["officer"])
    client = signed_in(client, staff["reviewer"])

    without_codes = decide_initial(client, application, "reject", "征信不良")
    without_comment = decide_initial(client, application, "reject", "", rejection_codes=["poor_credit"])
    rejected = decide_initial(client, application, "reject", "征信不良", rejection_codes=["poor_credit", "high_debt"])

    assert without_codes.status_code == 200
    assert "Choose at least one reason for the rejection." in without_codes.content.decode()
    assert without_comment.status_code == 200
    assert without_comment.context["form"].errors["comment"]
    assert rejected.status_code == 302
    application = reload(application)
    assert application.status == "rejected"
    assert application.rejection_codes == ["poor_credit", "high_debt"]


def test_it_refuses_the_officer_who_took_the_application_in_even_with_the_reviewer_role(client, staff, product):
    officer = staff["officer"]
    add_role(officer, Role.REVIEWER)
    application = submitted(officer)
    client = signed_in(client, officer)

    started = client.post(start_url(application))
    decided = decide_initial(client, application, "return", "自己审自己")

    assert started.status_code == 403
    assert "You took this application in; another colleague must review it." in started.content.decode()
    assert decided.status_code == 403
    assert "You took this application in; another colleague must review it." in decided.content.decode()
    assert 'name="comment"' in decided.content.decode()  # the page, with what they typed
    assert reload(application).status == "submitted"


def test_it_hides_other_branches_applications(client, staff, product):
    application = submitted(staff["officer"])
    client = signed_in(client, staff["other_reviewer"])

    assert client.get(initial_url(application)).status_code == 404
    assert client.post(start_url(application)).status_code == 404
    assert decide_initial(client, application, "return", "越权").status_code == 404
    assert reload(application).status == "submitted"


def test_it_shows_a_decided_application_without_the_form(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])

    html = signed_in(client, staff["reviewer2"]).get(initial_url(application)).content.decode()

    assert 'data-testid="not-decidable"' in html
    assert 'name="decision"' not in html


# --- the secondary review page ----------------------------------------------------------------------------------
def test_it_shows_the_initial_review_and_the_approvers_limit(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="300000.00", term_months=36)

    html = signed_in(client, staff["approver"]).get(secondary_url(application)).content.decode()

    initial = html.split('data-testid="initial-review"')[1].split("</section>")[0]
    assert "资料齐全" in initial and str(staff["reviewer"]) in initial
    assert "Your approval limit: ¥200,000.00." in html
    assert "A manager must approve this" in html
    assert 'name="approved_amount" value="300000.00"' in html
    assert 'name="approved_rate" value="4.35"' in html


def test_it_approves_with_the_terms_the_approver_sets(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])

    response = decide_secondary(
        signed_in(client, staff["approver"]),
        application,
        "approve",
        approved_amount="90000",
        approved_rate="5.1",
        approved_term_months="24",
        conditions="放款前提供工资流水原件",
    )

    assert response.status_code == 302
    assert response["Location"] == APPROVAL_QUEUE
    application = reload(application)
    assert application.status == "approved"
    assert application.approved_by == staff["approver"]
    assert (application.approved_amount, application.approved_rate, application.approved_term_months) == (
        Decimal("90000.00"),
        Decimal("5.1000"),
        24,
    )
    assert application.conditions == "放款前提供工资流水原件"


def test_it_returns_and_rejects_from_secondary_review(client, staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    returned = in_secondary_review(officer, reviewer, borrower=borrower(officer, 0, "李明"))
    rejected = in_secondary_review(officer, reviewer, borrower=borrower(officer, 1, "王芳"))
    client = signed_in(client, staff["approver"])

    decide_secondary(client, returned, "return", "请补充纳税记录")
    decide_secondary(client, rejected, "reject", "负债过高", rejection_codes=["high_debt"])

    assert reload(returned).status == "returned"
    assert reload(rejected).status == "rejected"
    assert reload(rejected).rejection_codes == ["high_debt"]


def test_it_refuses_an_approval_above_the_approvers_limit_and_lets_a_manager_approve_it(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="300000.00", term_months=36)

    refused = decide_secondary(signed_in(client, staff["approver"]), application, "approve")
    approved = decide_secondary(signed_in(client, staff["manager"]), application, "approve")

    assert refused.status_code == 403
    assert "¥300,000.00 is above your approval limit of ¥200,000.00; a manager must approve it." in (
        refused.content.decode()
    )
    assert approved.status_code == 302
    application = reload(application)
    assert application.status == "approved"
    assert application.approved_by == staff["manager"]


def test_it_refuses_to_approve_more_than_was_requested(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])

    response = decide_secondary(signed_in(client, staff["manager"]), application, "approve", approved_amount="120000")

    assert response.status_code == 200
    assert response.context["form"].errors["approved_amount"] == [
        "The approved amount may be lower than the ¥100,000.00 requested, never higher."
    ]
    assert reload(application).status == "secondary_review"


def test_it_refuses_the_initial_reviewer_as_approver(client, staff, product):
    reviewer = staff["reviewer"]
    add_role(reviewer, Role.APPROVER)
    User.objects.filter(pk=reviewer.pk).update(approval_limit=Decimal("1000000"))
    application = in_secondary_review(staff["officer"], reviewer)

    response = decide_secondary(signed_in(client, reviewer), application, "approve")

    assert response.status_code == 403
    assert "You made the initial review of this application; another colleague must approve it." in (
        response.content.decode()
    )
    assert reload(application).status == "secondary_review"


def test_it_sends_a_late_approver_back_to_the_queue_with_the_reason(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])
    services.application_review_secondary(
        application=application, by=staff["approver"], decision="approve", comment="ok"
    )

    response = decide_secondary(signed_in(client, staff["approver2"]), application, "approve", follow=True)

    assert response.redirect_chain == [(APPROVAL_QUEUE, 302)]
    assert any("“Approved”" in message for message in messages_of(response))
    assert Review.objects.filter(application=application, stage="secondary").count() == 1


def test_it_hides_the_approval_page_from_another_branch_and_other_roles(client, staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])

    assert signed_in(client, staff["reviewer"]).get(secondary_url(application)).status_code == 403
    other = staff["hq_manager"]  # head office sees every branch
    assert signed_in(client, other).get(secondary_url(application)).status_code == 200
    sh_manager = User.objects.create_user("manager_sh", branch=staff["other_officer"].branch)
    add_role(sh_manager, Role.MANAGER)
    assert signed_in(client, sh_manager).get(secondary_url(application)).status_code == 404


# --- two approvers at the same moment ---------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_simultaneous_approvals_through(staff, product):
    if connection.vendor != "postgresql":
        require_service(False, "the row-lock race needs PostgreSQL (set DATABASE_URL); SQLite serialises writers")
    application = in_secondary_review(staff["officer"], staff["reviewer"])
    approvers = [staff["approver"], staff["approver2"]]
    barrier = threading.Barrier(len(approvers))
    outcomes: dict[str, object] = {}

    def approve(user) -> None:
        try:
            with translation.override("en"):
                mine = Application.objects.select_related("product", "borrower").get(pk=application.pk)
                barrier.wait(timeout=10)
                services.application_review_secondary(application=mine, by=user, decision="approve", comment="同意")
            outcomes[user.username] = "approved"
        except TransitionError as error:
            outcomes[user.username] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(str, outcomes.values())).count("approved") == 1
    errors = [outcome for outcome in outcomes.values() if isinstance(outcome, TransitionError)]
    assert len(errors) == 1
    assert "Someone else has just changed this application" in str(errors[0])
    application = reload(application)
    assert application.status == "approved"
    assert Review.objects.filter(application=application, stage="secondary").count() == 1
    assert ApplicationEvent.objects.filter(application=application, to_status="approved").count() == 1
