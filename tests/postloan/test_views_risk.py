"""Manual classification and restructuring through the pages: who may open each page (403 for the role, 404 for
another branch), a proposal approved by another person and the loan's class on its page, the maker-checker refusal,
rejecting and clearing; a restructuring's htmx preview (both schedules), its two approvals and version 2 on the loan's
page; service refusals as messages; both waiting lists cost the same queries for 2 or 12 rows.

The loan: ¥120,000.00 at 6 % a year, equal installments of ¥10,327.97 over 12 months from 10 Feb 2026; nothing is
due on 20 Jan 2026, the day the pages are used.
"""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from postloan import services
from postloan.models import (
    ClassificationChange,
    ClassificationProposal,
    Installment,
    Loan,
    LoanEvent,
    Restructuring,
    ScheduleVersion,
)

from .factories import disbursed_loan, on
from .test_page_queries import copy_loans

pytestmark = pytest.mark.django_db

TODAY = date(2026, 1, 20)
NEW_FIRST_DUE = "2026-02-10"
FIRST_DUE = date(2026, 2, 10)
REASON = "借款人经营的餐馆已停业，还款来源不稳定。"


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff, method="equal_installment")


@pytest.fixture
def sh_risk(make_user, branches):
    return make_user("pl_risk_sh", Role.RISK_OFFICER, branch=branches["SH"], preferred_language="en")


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def url(name: str, loan, *args) -> str:
    return reverse(name, args=[loan.pk, *args])


def reload(loan) -> Loan:
    return Loan.objects.get(pk=loan.pk)


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def propose(loan, by, proposed_class="substandard") -> ClassificationProposal:
    with on(TODAY):
        return services.classification_propose(loan=loan, by=by, proposed_class=proposed_class, reason=REASON)


def options(**overrides) -> dict:
    return {
        "extend_months": "12",
        "new_method": "",
        "grace_months": "0",
        "new_rate": "",
        "first_due_date": NEW_FIRST_DUE,
        "reason": "店铺装修停业三个月，收入下降",
    } | overrides


def request_restructuring(loan, by) -> Restructuring:
    with on(TODAY):
        return services.restructuring_request(
            loan=loan, by=by, reason="店铺装修停业三个月，收入下降", extend_months=12, first_due_date=FIRST_DUE
        )


# --- who may open what --------------------------------------------------------------------------------------------
def test_each_page_refuses_other_roles_with_403_and_other_branches_with_404(
    client, staff, loan, sh_risk, make_user, branches
):
    proposal = propose(loan, staff["risk"])
    restructuring = request_restructuring(loan, staff["officer"])
    administrator = make_user("pl_admin", Role.ADMIN, branch=branches["BJ"])
    get_pages = {
        url("postloan:classification_propose", loan): ("officer", "sh_risk"),
        url("postloan:classification_decide", loan, proposal.pk): ("risk", "other_manager"),
        url("postloan:classification_clear", loan): ("risk", "other_manager"),
        url("postloan:restructuring_request", loan): ("manager", "other_officer"),
        url("postloan:restructuring_detail", loan, restructuring.pk): ("administrator", "other_officer"),
    }
    people = staff | {"sh_risk": sh_risk, "administrator": administrator}

    with on(TODAY):
        for path, (wrong_role, other_branch) in get_pages.items():
            client.force_login(people[wrong_role])
            assert client.get(path).status_code == 403, path
            client.force_login(people[other_branch])
            assert client.get(path).status_code == 404, path

        client.force_login(staff["manager"])
        assert client.post(url("postloan:restructuring_preview", loan), options()).status_code == 403
        decide = url("postloan:restructuring_decide", loan, restructuring.pk)
        assert client.post(decide, {"decision": "risk_approve"}).status_code == 403
        client.force_login(staff["officer"])
        assert client.post(decide, {"decision": "reject", "note": "x"}).status_code == 403
        client.force_login(staff["other_officer"])
        assert client.post(url("postloan:restructuring_preview", loan), options()).status_code == 404
        client.force_login(sh_risk)
        assert client.post(decide, {"decision": "risk_approve"}).status_code == 404
        assert client.post(url("postloan:restructuring_withdraw", loan, restructuring.pk)).status_code == 404

        for queue, allowed, refused in (
            (reverse("postloan:classification_queue"), ("manager",), ("officer", "risk")),
            (reverse("postloan:restructuring_queue"), ("manager", "risk"), ("officer", "approver")),
        ):
            for who in allowed:
                client.force_login(staff[who])
                assert client.get(queue).status_code == 200, (queue, who)
            for who in refused:
                client.force_login(staff[who])
                assert client.get(queue).status_code == 403, (queue, who)

    assert ClassificationProposal.objects.get().status == "proposed"
    assert Restructuring.objects.get().status == "requested"


def test_the_loan_page_offers_each_role_its_own_actions(client, staff, loan):
    page = url("postloan:detail", loan)
    offered = {}
    with on(TODAY):
        for who in ("officer", "risk", "manager", "approver"):
            client.force_login(staff[who])
            content = client.get(page).content.decode()
            offered[who] = [
                action
                for action in ("request-restructuring", "propose-classification", "clear-classification")
                if f'data-testid="{action}"' in content
            ]

    assert offered == {
        "officer": ["request-restructuring"],
        "risk": ["request-restructuring", "propose-classification"],
        "manager": [],
        "approver": [],
    }


# --- manual classification ----------------------------------------------------------------------------------------
def test_a_proposal_approved_by_a_manager_changes_the_class_on_the_loan_page(client, staff, loan):
    client.force_login(staff["risk"])
    with on(TODAY):
        form = client.get(url("postloan:classification_propose", loan))
        offered = [value for value, _label in form.context["form"].fields["proposed_class"].choices]
        response = client.post(
            url("postloan:classification_propose", loan),
            {"proposed_class": "substandard", "reason": REASON},
            follow=True,
        )

    assert offered == ["special_mention", "substandard", "doubtful", "loss"]  # only worse than "normal"
    assert response.redirect_chain[-1][0].endswith("?tab=classification")
    assert "Your proposal to classify the loan as “Substandard” waits for a manager's approval." in messages_of(
        response
    )
    assert 'data-testid="open-proposal"' in response.content.decode()
    assert 'data-testid="approve-proposal"' not in response.content.decode()  # a risk officer cannot approve
    assert reload(loan).classification == "normal"
    proposal = ClassificationProposal.objects.get()

    client.force_login(staff["manager"])
    with on(TODAY):
        page = client.get(url("postloan:detail", loan))
        assert 'data-testid="approve-proposal"' in page.content.decode()
        assert REASON in text(page)
        response = client.post(
            url("postloan:classification_decide", loan, proposal.pk),
            {"decision": "approve", "note": "同意"},
            follow=True,
        )

    assert "The manual classification “Substandard” is approved and in force." in messages_of(response)
    content = response.content.decode()
    assert 'data-classification="substandard"' in content
    assert 'data-testid="open-proposal"' not in content
    assert 'data-testid="clear-classification"' in content  # the manager may now clear it
    history = re.search(r'data-testid="classification-history">(.*?)</ol>', content, re.S).group(1)
    history_text = " ".join(re.sub(r"<[^>]+>", " ", history).split())
    for shown in ("Manual classification", "Normal → Substandard", REASON, "pl_manager", "2026-01-20"):
        assert shown in history_text
    in_force = re.search(r'data-testid="proposal-in-force">(.*?)</section>', content, re.S).group(1)
    assert "pl_risk" in in_force and "pl_manager" in in_force and "同意" in in_force
    loan = reload(loan)
    assert (loan.classification, loan.manual_classification) == ("substandard", "substandard")


def test_it_shows_form_errors_in_the_users_language_and_proposes_nothing(client, staff, loan):
    client.force_login(staff["risk"])
    with on(TODAY):
        response = client.post(url("postloan:classification_propose", loan), {"proposed_class": "normal"})
        assert response.status_code == 400
        page = text(response)
        assert "Select a valid choice. normal is not one of the available choices." in page
        assert "This field is required." in page

        User.objects.filter(pk=staff["risk"].pk).update(preferred_language="zh-hans")
        response = client.post(url("postloan:classification_propose", loan), {"proposed_class": "loss"})
    assert response.status_code == 400
    assert "这个字段是必填项。" in response.content.decode()
    assert not ClassificationProposal.objects.exists()


def test_the_proposer_cannot_approve_their_own_proposal(client, staff, loan, make_user, branches):
    two_hats = make_user("pl_risk_manager", Role.RISK_OFFICER, Role.MANAGER, branch=branches["BJ"])
    User.objects.filter(pk=two_hats.pk).update(preferred_language="en")
    proposal = propose(loan, two_hats)
    client.force_login(two_hats)

    with on(TODAY):
        page = client.get(url("postloan:classification_decide", loan, proposal.pk))
        response = client.post(
            url("postloan:classification_decide", loan, proposal.pk), {"decision": "approve"}, follow=True
        )

    assert 'data-testid="own-proposal"' in page.content.decode()
    assert 'data-testid="approve-proposal"' not in page.content.decode()
    assert "You prepared this yourself; another colleague must review or confirm it." in messages_of(response)
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    assert reload(loan).classification == "normal"
    assert not ClassificationChange.objects.exists()


def test_a_manager_rejects_a_proposal_with_a_reason(client, staff, loan):
    proposal = propose(loan, staff["risk"])
    client.force_login(staff["manager"])
    decide = url("postloan:classification_decide", loan, proposal.pk)

    with on(TODAY):
        refused = client.post(decide, {"decision": "reject", "note": "  "})
        response = client.post(decide, {"decision": "reject", "note": "逾期尚未发生，证据不足。"}, follow=True)

    assert refused.status_code == 400
    assert "Say why the proposal is rejected." in text(refused)
    assert "The proposal is rejected; the loan's classification does not change." in messages_of(response)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_note) == (
        "rejected",
        staff["manager"],
        "逾期尚未发生，证据不足。",
    )
    assert 'data-classification="normal"' in response.content.decode()
    # The loan is free for another proposal.
    client.force_login(staff["risk"])
    with on(TODAY):
        assert 'data-testid="propose-classification"' in client.get(url("postloan:detail", loan)).content.decode()


def test_a_manager_clears_the_manual_classification_and_the_loan_goes_to_its_floor(client, staff, loan):
    proposal = propose(loan, staff["risk"])
    with on(TODAY):
        services.classification_approve(proposal=proposal, by=staff["manager"])
    client.force_login(staff["manager"])

    with on(TODAY):
        form = client.get(url("postloan:classification_clear", loan))
        refused = client.post(url("postloan:classification_clear", loan), {"reason": ""})
        response = client.post(
            url("postloan:classification_clear", loan), {"reason": "餐馆已重新开业，连续正常还款。"}, follow=True
        )
        again = client.get(url("postloan:classification_clear", loan), follow=True)

    assert REASON in text(form) and "Substandard" in text(form)
    assert refused.status_code == 400 and reload(loan).manual_classification == ""  # nothing changed yet…
    assert "The manual classification is cleared; the loan is now “Normal”." in messages_of(response)
    content = response.content.decode()
    assert 'data-classification="normal"' in content and 'data-testid="proposal-in-force"' not in content
    assert "Manual classification cleared" in text(response)
    assert "No manual classification is in force on this loan." in messages_of(again)
    assert list(ClassificationChange.objects.order_by("pk").values_list("source", "to_class")) == [
        ("manual", "substandard"),
        ("cleared", "normal"),
    ]


def test_the_approval_list_shows_proposals_oldest_first_with_the_same_queries_for_2_or_12(client, staff, loan):
    copy_loans(loan, 11)
    loans = list(Loan.objects.order_by("pk"))
    for index, each in enumerate(loans[:2]):
        with on(TODAY, hour=9 + index):
            services.classification_propose(loan=each, by=staff["risk"], proposed_class="doubtful", reason=REASON)
    client.force_login(staff["manager"])
    queue = reverse("postloan:classification_queue")

    with on(TODAY, hour=12):
        response = client.get(queue)
        few = count_queries(client, queue)
        for each in loans[2:]:
            services.classification_propose(loan=each, by=staff["risk"], proposed_class="loss", reason=REASON)
        many = count_queries(client, queue)

    assert [proposal.loan.number for proposal in response.context["page_obj"]] == [each.number for each in loans[:2]]
    assert "(2)" in text(response) and "Normal → Doubtful" in text(response)
    assert few == many
    assert many <= 10
    client.force_login(staff["other_manager"])
    assert client.get(queue).context["page_obj"].paginator.count == 0


# --- restructuring ------------------------------------------------------------------------------------------------
def test_it_previews_both_schedules_as_an_htmx_fragment_and_writes_nothing(client, staff, loan):
    client.force_login(staff["officer"])
    with on(TODAY):
        form = client.get(url("postloan:restructuring_request", loan))
        response = client.post(
            url("postloan:restructuring_preview", loan), options(reason=""), headers={"HX-Request": "true"}
        )

    assert f'hx-post="{url("postloan:restructuring_preview", loan)}"' in form.content.decode()
    assert 'value="2026-02-10"' in form.content.decode()  # the next due date, as a start
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    old = re.search(r'data-testid="old-schedule">(.*?)</table>', content, re.S).group(1)
    new = re.search(r'data-testid="new-schedule">(.*?)</table>', content, re.S).group(1)
    assert old.count("<tr>") - 1 == 12 and new.count("<tr>") - 1 == 24  # rows less the heading
    assert "2027-01-10" in old and "2028-01-10" in new
    assert "¥10,327.97" in old
    comparison = text(response)
    assert "Maturity 2027-01-10 2028-01-10" in comparison
    assert "¥120,000.00 of principal still owed" in comparison
    assert 'data-testid="submit-restructuring"' in content
    assert not Restructuring.objects.exists()
    assert ScheduleVersion.objects.filter(loan=loan).count() == 1


def test_it_explains_why_options_cannot_be_previewed(client, staff, loan):
    client.force_login(staff["officer"])
    with on(TODAY):
        higher = client.post(url("postloan:restructuring_preview", loan), options(new_rate="7.5"))
        nothing = client.post(url("postloan:restructuring_preview", loan), options(extend_months="0"))
        past = client.post(url("postloan:restructuring_preview", loan), options(first_due_date="2026-01-20"))

    assert "A restructuring may only lower the rate; the new rate cannot be above the current 6.00%." in text(higher)
    assert "Choose at least one change" in text(nothing)
    assert "The first due date of the new schedule must be after today." in text(past)
    for response in (higher, nothing, past):
        assert 'data-testid="preview-errors"' in response.content.decode()
        assert 'data-testid="submit-restructuring"' not in response.content.decode()


def test_it_shows_the_preview_on_a_full_page_without_htmx_and_refuses_a_request_without_a_reason(client, staff, loan):
    client.force_login(staff["officer"])
    with on(TODAY):
        preview = client.post(url("postloan:restructuring_request", loan), options(reason="", preview="1"))
        refused = client.post(url("postloan:restructuring_request", loan), options(reason="", confirm="1"))

    assert preview.status_code == 200
    assert "<html" in preview.content.decode() and 'data-testid="restructuring-preview"' in preview.content.decode()
    assert refused.status_code == 400 and "This field is required." in text(refused)
    assert not Restructuring.objects.exists()


def test_a_request_goes_through_both_approvals_and_the_loan_shows_version_2(client, staff, loan):
    client.force_login(staff["officer"])
    with on(TODAY):
        response = client.post(url("postloan:restructuring_request", loan), options(confirm="1"), follow=True)
    restructuring = Restructuring.objects.get()
    detail = url("postloan:restructuring_detail", loan, restructuring.pk)
    assert response.redirect_chain[-1][0].endswith(detail)
    assert "The restructuring request is filed. A risk officer approves it first, then a manager." in messages_of(
        response
    )
    assert 'data-testid="withdraw-restructuring"' in response.content.decode()
    assert 'data-testid="risk-approve"' not in response.content.decode()
    assert "Waiting for the risk officer" in text(response)
    assert 'data-testid="new-schedule"' in response.content.decode()  # recomputed now

    client.force_login(staff["risk"])
    with on(TODAY):
        page = client.get(detail)
        assert 'data-testid="risk-approve"' in page.content.decode()
        assert "Requested by pl_officer" in text(page)
        response = client.post(
            url("postloan:restructuring_decide", loan, restructuring.pk),
            {"decision": "risk_approve", "note": "经营可恢复"},
            follow=True,
        )
    assert "You approved the restructuring request; it now waits for a manager." in messages_of(response)
    assert "Approved by the risk officer pl_risk" in text(response)
    assert 'data-testid="restructuring-decision"' not in response.content.decode()

    client.force_login(staff["manager"])
    with on(TODAY):
        page = client.get(detail)
        assert 'data-testid="final-approve"' in page.content.decode()
        response = client.post(
            url("postloan:restructuring_decide", loan, restructuring.pk),
            {"decision": "approve", "note": "同意"},
            follow=True,
        )
        versions = client.get(url("postloan:detail", loan) + "?tab=versions")

    assert response.redirect_chain[-1][0].endswith(url("postloan:detail", loan))
    assert "The restructuring is approved: schedule version 2 is in force." in messages_of(response)
    content = response.content.decode()
    assert 'data-testid="restructured"' in content
    assert "schedule version 2 in force" in text(response)
    assert len(re.findall(r'data-testid="installment-\d+"', content)) == 24
    assert 'data-testid="installment-24"' in content and "2028-01-10" in content
    listed = re.search(r'data-testid="schedule-versions">(.*?)</ul>', versions.content.decode(), re.S).group(1)
    assert "Version 2" in listed and "in force" in listed
    assert listed.count("<li") == 2
    assert re.search(r'data-testid="version-count">2<', content)  # the tab's badge, on the schedule tab
    assert "Approved" in text(versions)  # the request, listed under the versions
    loan = reload(loan)
    assert (loan.current_version, loan.maturity_date) == (2, date(2028, 1, 10))
    assert Installment.objects.filter(loan=loan, version__version=2).count() == 24


def test_refusals_of_the_services_are_shown_as_messages_and_change_nothing(client, staff, loan, make_user, branches):
    restructuring = request_restructuring(loan, staff["risk"])
    decide = url("postloan:restructuring_decide", loan, restructuring.pk)
    detail = url("postloan:restructuring_detail", loan, restructuring.pk)

    client.force_login(staff["risk"])  # the requester
    with on(TODAY):
        page = client.get(detail)
        mine = client.post(decide, {"decision": "risk_approve"}, follow=True)
    assert 'data-testid="risk-approve"' not in page.content.decode()
    assert "You requested this restructuring yourself; another risk officer must approve it." in messages_of(mine)

    client.force_login(staff["manager"])  # too early: the risk officer has not approved it
    with on(TODAY):
        early = client.post(decide, {"decision": "approve"}, follow=True)
    assert "This restructuring request is “Waiting for the risk officer”; it cannot be decided on now." in (
        messages_of(early)
    )

    client.force_login(staff["officer"])  # a second request while one is open
    with on(TODAY):
        second = client.get(url("postloan:restructuring_request", loan), follow=True)
    assert "A restructuring request is already waiting for this loan." in messages_of(second)
    assert second.redirect_chain[-1][0].endswith(detail)

    restructuring.refresh_from_db()
    assert (restructuring.status, restructuring.risk_approved_by) == ("requested", None)
    assert reload(loan).current_version == 1


def test_a_request_is_rejected_with_a_note_or_withdrawn_by_its_requester(client, staff, loan):
    restructuring = request_restructuring(loan, staff["officer"])
    decide = url("postloan:restructuring_decide", loan, restructuring.pk)
    client.force_login(staff["risk"])

    with on(TODAY):
        refused = client.post(decide, {"decision": "reject", "note": ""})
        rejected = client.post(decide, {"decision": "reject", "note": "收入证明不足"}, follow=True)

    assert refused.status_code == 400
    assert "Say why the restructuring is rejected." in text(refused)
    assert "The restructuring request is rejected; the schedule does not change." in messages_of(rejected)
    assert 'data-testid="rejected-by"' in rejected.content.decode() and "收入证明不足" in text(rejected)
    assert 'data-testid="restructuring-preview"' not in rejected.content.decode()  # a closed request

    second = request_restructuring(loan, staff["officer"])
    client.force_login(staff["officer"])
    with on(TODAY):
        withdrawn = client.post(url("postloan:restructuring_withdraw", loan, second.pk), follow=True)
    assert "The restructuring request is withdrawn." in messages_of(withdrawn)
    assert "Withdrawn" in text(withdrawn)
    assert 'data-testid="withdraw-restructuring"' not in withdrawn.content.decode()
    assert list(Restructuring.objects.order_by("pk").values_list("status", flat=True)) == ["rejected", "withdrawn"]
    assert LoanEvent.objects.filter(loan=loan, data__event="restructuring_withdrawn").count() == 1


def test_the_restructuring_list_shows_each_role_its_step_with_the_same_queries_for_2_or_12(client, staff, loan):
    copy_loans(loan, 23)
    loans = list(Loan.objects.order_by("pk"))
    hours = iter(range(24))

    def file(each, status="requested") -> Restructuring:
        with on(TODAY, hour=next(hours) % 12 + 8):
            restructuring = Restructuring.objects.create(
                loan=each,
                reason="收入下降",
                extend_months=6,
                first_due_date=FIRST_DUE,
                requested_by=staff["officer"],
            )
        if status != "requested":
            Restructuring.objects.filter(pk=restructuring.pk).update(status=status, risk_approved_by=staff["risk"])
        return restructuring

    waiting_for_risk = [file(each) for each in loans[:2]]
    waiting_for_manager = [file(each, "risk_approved") for each in loans[2:4]]
    queue = reverse("postloan:restructuring_queue")

    with on(TODAY, hour=22):
        client.force_login(staff["risk"])
        risk_page = client.get(queue)
        few = {"risk": count_queries(client, queue)}
        client.force_login(staff["manager"])
        manager_page = client.get(queue)
        few["manager"] = count_queries(client, queue)
        for each in loans[4:14]:
            file(each)
        for each in loans[14:24]:
            file(each, "risk_approved")
        many = {"manager": count_queries(client, queue)}
        client.force_login(staff["risk"])
        many["risk"] = count_queries(client, queue)
        full = client.get(queue)

    assert [item.pk for item in risk_page.context["page_obj"]] == [item.pk for item in waiting_for_risk]
    assert [item.pk for item in manager_page.context["page_obj"]] == [item.pk for item in waiting_for_manager]
    assert 'data-testid="restructuring-' in risk_page.content.decode() and "+6 months" in text(risk_page)
    assert text(manager_page).count("risk approval by pl_risk") == 2
    assert text(manager_page).count("Check and decide") == 2
    requested = [item.requested_at for item in full.context["page_obj"]]
    assert len(requested) == 12 and requested == sorted(requested)
    assert few == many
    assert max(many.values()) <= 10
