"""Manual classification: a risk officer proposes a worse class, a manager who is not the proposer approves it, the
sweep keeps the loan at least there until a manager clears it.

The loan: ¥120,000.00 at 6 %, equal principal over 12 months, due on the 10th from 10 Feb 2026.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from accounts.roles import Role
from postloan import services
from postloan.models import ClassificationChange, ClassificationProposal, Loan, LoanEvent, TransitionError
from postloan.services import sweep_daily
from tests.conftest import require_service

from .factories import disbursed_loan, on, post

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


def propose(loan, staff, proposed_class="substandard", reason="借款人经营的餐馆已停业，还款来源不稳定。"):
    with on(TODAY):
        return services.classification_propose(
            loan=loan, by=staff["risk"], proposed_class=proposed_class, reason=reason
        )


def approve(proposal, by, note=""):
    with on(TODAY):
        return services.classification_approve(proposal=proposal, by=by, note=note)


def reload(loan) -> Loan:
    return Loan.objects.get(pk=loan.pk)


def test_it_sets_the_approved_class_at_once_and_records_who_and_why(loan, staff):
    proposal = propose(loan, staff)

    approved = approve(proposal, staff["manager"], note="同意")

    assert (approved.status, approved.decided_by, approved.decision_note) == ("approved", staff["manager"], "同意")
    assert (reload(loan).classification, reload(loan).manual_classification) == ("substandard", "substandard")
    change = ClassificationChange.objects.get(loan=loan)
    assert (change.from_class, change.to_class, change.source, change.by, change.business_date) == (
        "normal",
        "substandard",
        "manual",
        staff["manager"],
        TODAY,
    )
    assert change.reason == "借款人经营的餐馆已停业，还款来源不稳定。"
    event = LoanEvent.objects.get(loan=loan, kind="classification")
    assert (event.actor, event.data["to_class"], event.data["proposal"]) == (
        staff["manager"],
        "substandard",
        proposal.pk,
    )


def test_it_takes_the_worse_of_the_manual_class_and_the_floor(loan, staff):
    sweep_daily(business_date=date(2026, 5, 12))  # 91 days past due: substandard
    proposal = propose(reload(loan), staff, proposed_class="doubtful")
    approve(proposal, staff["manager"])
    assert reload(loan).classification == "doubtful"

    # The sweep does not undo it at 91 days past due; at 271 the floor is doubtful too, at 361 loss wins.
    sweep_daily(business_date=date(2026, 5, 13))
    assert reload(loan).classification == "doubtful"
    sweep_daily(business_date=date(2027, 2, 6))
    assert reload(loan).classification == "loss"


def test_the_sweep_keeps_the_manual_class_until_it_is_cleared(loan, staff):
    approve(propose(loan, staff), staff["manager"])
    sweep_daily(business_date=date(2026, 3, 15))  # installment 2 (10 Mar) is unpaid; 1 is too: 33 days past due
    assert reload(loan).classification == "substandard"  # the floor is special mention: the manual class holds

    with on(date(2026, 3, 16)):
        post(reload(loan), "21245.00", paid_on=date(2026, 3, 16), reference="ALL-DUE", by=staff["officer"])
    sweep_daily(business_date=date(2026, 3, 16))
    loan = reload(loan)
    assert (loan.status, loan.dpd, loan.classification) == ("active", 0, "substandard")  # cured, still manual

    with on(date(2026, 3, 17)):
        cleared = services.classification_clear(loan=loan, by=staff["manager"], reason="餐馆已重新开业，连续正常还款。")
    assert (cleared.status, cleared.cleared_by, cleared.clear_reason) == (
        "cleared",
        staff["manager"],
        "餐馆已重新开业，连续正常还款。",
    )
    loan = reload(loan)
    assert (loan.classification, loan.manual_classification) == ("normal", "")
    change = ClassificationChange.objects.filter(loan=loan).latest("pk")
    assert (change.from_class, change.to_class, change.source, change.by, change.reason) == (
        "substandard",
        "normal",
        "cleared",
        staff["manager"],
        "餐馆已重新开业，连续正常还款。",
    )
    assert sweep_daily(business_date=date(2026, 3, 17)).classification_changes == 0


def test_it_refuses_a_class_that_is_not_worse(loan, staff):
    for proposed_class in ("normal", "no_such_class"):
        with pytest.raises(ValidationError) as refused:
            propose(loan, staff, proposed_class=proposed_class)
        assert "proposed_class" in refused.value.message_dict
    approve(propose(loan, staff, proposed_class="special_mention"), staff["manager"])

    with pytest.raises(ValidationError) as refused:
        propose(loan, staff, proposed_class="special_mention")

    assert refused.value.message_dict["proposed_class"] == [
        "A manual classification can only be worse than the loan's current one (“Special mention”)."
    ]
    assert ClassificationProposal.objects.count() == 1


def test_it_needs_a_reason(loan, staff):
    with pytest.raises(ValidationError) as refused:
        propose(loan, staff, reason="   ")
    assert "reason" in refused.value.message_dict
    assert not ClassificationProposal.objects.exists()


def test_it_keeps_one_open_proposal_per_loan(loan, staff, make_user, branches):
    propose(loan, staff)
    colleague = make_user("pl_risk2", Role.RISK_OFFICER, branch=branches["BJ"])

    with pytest.raises(TransitionError) as refused:
        services.classification_propose(loan=loan, by=colleague, proposed_class="doubtful", reason="另一个理由")

    assert str(refused.value) == (
        "A manual classification of this loan as “Substandard”, proposed by pl_risk, is already waiting for approval; "
        "it must be approved or rejected first."
    )
    assert ClassificationProposal.objects.count() == 1


def test_only_a_risk_officer_of_the_branch_proposes(loan, staff, make_user, branches):
    outsider = make_user("pl_risk_sh", Role.RISK_OFFICER, branch=branches["SH"])
    for user in (staff["officer"], staff["manager"], outsider):
        with pytest.raises(PermissionDenied):
            services.classification_propose(loan=loan, by=user, proposed_class="doubtful", reason="理由")
    assert not ClassificationProposal.objects.exists()


def test_no_one_approves_their_own_proposal(loan, staff, make_user, branches):
    both = make_user("pl_risk_manager", Role.RISK_OFFICER, Role.MANAGER, branch=branches["BJ"])
    proposal = services.classification_propose(loan=loan, by=both, proposed_class="doubtful", reason="理由")

    with pytest.raises(PermissionDenied) as refused:
        services.classification_approve(proposal=proposal, by=both)
    with pytest.raises(PermissionDenied):
        services.classification_reject(proposal=proposal, by=both, note="撤回")

    assert "another colleague" in str(refused.value)
    for user in (staff["risk"], staff["officer"], staff["other_manager"]):  # no approval role, or another branch
        with pytest.raises(PermissionDenied):
            services.classification_approve(proposal=proposal, by=user)
    assert ClassificationProposal.objects.get(pk=proposal.pk).status == "proposed"
    assert (reload(loan).classification, ClassificationChange.objects.count()) == ("normal", 0)


def test_a_rejected_proposal_changes_nothing_and_frees_the_loan(loan, staff):
    proposal = propose(loan, staff)
    with pytest.raises(ValidationError):
        services.classification_reject(proposal=proposal, by=staff["manager"], note="")

    rejected = services.classification_reject(proposal=proposal, by=staff["manager"], note="证据不足")

    assert (rejected.status, rejected.decided_by, rejected.decision_note) == ("rejected", staff["manager"], "证据不足")
    assert (reload(loan).classification, ClassificationChange.objects.count()) == ("normal", 0)
    with pytest.raises(TransitionError):
        approve(proposal, staff["manager"])
    assert propose(loan, staff, reason="补充了法院立案材料。").status == "proposed"


def test_a_later_manual_class_replaces_the_one_in_force(loan, staff):
    first = propose(loan, staff, proposed_class="special_mention")
    approve(first, staff["manager"])
    second = propose(loan, staff, proposed_class="doubtful", reason="借款人涉诉。")

    approve(second, staff["hq_manager"])

    first.refresh_from_db()
    assert (first.status, first.cleared_by) == ("cleared", staff["hq_manager"])
    assert (reload(loan).classification, reload(loan).manual_classification) == ("doubtful", "doubtful")
    assert list(ClassificationChange.objects.order_by("pk").values_list("from_class", "to_class")) == [
        ("normal", "special_mention"),
        ("special_mention", "doubtful"),
    ]


def test_clearing_needs_a_manual_class_in_force_and_a_manager(loan, staff):
    with pytest.raises(TransitionError):
        services.classification_clear(loan=loan, by=staff["manager"], reason="无")
    approve(propose(loan, staff), staff["manager"])
    with pytest.raises(PermissionDenied):
        services.classification_clear(loan=loan, by=staff["risk"], reason="无")
    with pytest.raises(ValidationError):
        services.classification_clear(loan=loan, by=staff["manager"], reason="")
    assert reload(loan).manual_classification == "substandard"


@pytest.mark.django_db(transaction=True)
def test_of_two_managers_approving_at_once_one_succeeds(staff, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = disbursed_loan(staff)
    proposal = propose(loan, staff)
    barrier = threading.Barrier(2)

    def decide(manager):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                return services.classification_approve(proposal=proposal, by=manager)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(decide, [staff["manager"], staff["hq_manager"]]))

    succeeded = [result for result in results if isinstance(result, ClassificationProposal)]
    refused = [result for result in results if isinstance(result, TransitionError)]
    assert (len(succeeded), len(refused)) == (1, 1)
    assert "no longer waiting" in str(refused[0]) or "Someone else" in str(refused[0])
    assert ClassificationChange.objects.filter(loan=loan).count() == 1
    assert LoanEvent.objects.filter(loan=loan, kind="classification").count() == 1
    assert ClassificationProposal.objects.get(pk=proposal.pk).decided_by_id == succeeded[0].decided_by_id
