"""The application state machine: who may move an application from which status, and what each move leaves behind.

Every case of the table starts from a real application built through the services, so a refused move is checked
against the same rows a user would have in front of them.
"""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import translation

from accounts.models import User
from applications import services
from applications.models import Application, ApplicationEvent, Review, TransitionError
from applications.signals import application_status_changed
from notifications.models import OutboxMessage
from tests.conftest import require_service

from .factories import accept_materials, complete, in_secondary_review, make_application, submitted

OK = "ok"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _quiet_sms(settings):
    # Executing on-commit callbacks sends the queued SMS eagerly; keep them in memory, at any hour.
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.NOTIFY_QUIET_START_HOUR = settings.NOTIFY_QUIET_END_HOUR = 0


@pytest.fixture
def status_changes():
    """Every application_status_changed signal received, as (application_id, from_status, to_status)."""
    calls = []

    def receiver(sender, application_id, from_status, to_status, **kwargs):
        calls.append((application_id, from_status, to_status))

    application_status_changed.connect(receiver, dispatch_uid="test_transitions_receiver")
    yield calls
    application_status_changed.disconnect(dispatch_uid="test_transitions_receiver")


# --- building an application in any status ------------------------------------------------------------------------
def reload(application: Application) -> Application:
    return Application.objects.get(pk=application.pk)


def _draft(staff) -> Application:
    officer = staff["officer"]
    return complete(make_application(officer), officer)


def _submitted(staff) -> Application:
    application = submitted(staff["officer"])
    accept_materials(application, staff["reviewer"])
    return reload(application)


def _initial_review(staff) -> Application:
    application = _submitted(staff)
    services.application_start_review(application=application, by=staff["reviewer"])
    return reload(application)


def _secondary_review(staff) -> Application:
    return in_secondary_review(staff["officer"], staff["reviewer"])


def _returned(staff) -> Application:
    application = _submitted(staff)
    services.application_review_initial(
        application=application, by=staff["reviewer"], decision="return", comment="请补充收入证明"
    )
    return reload(application)


def _approved(staff) -> Application:
    application = _secondary_review(staff)
    services.application_review_secondary(
        application=application, by=staff["approver"], decision="approve", comment="同意"
    )
    return reload(application)


def _rejected(staff) -> Application:
    application = _submitted(staff)
    services.application_review_initial(
        application=application,
        by=staff["reviewer"],
        decision="reject",
        comment="收入不足",
        rejection_codes=["insufficient_income"],
    )
    return reload(application)


def _withdrawn(staff) -> Application:
    # Withdrawn early, with materials still missing: a later submit must be refused for its status, not for those.
    application = make_application(staff["officer"])
    services.application_withdraw(application=application, by=staff["officer"], reason="借款人不再需要")
    return reload(application)


def _contracted(staff) -> Application:
    application = _approved(staff)
    application.mark_contracted(by=staff["officer"])
    return reload(application)


BUILDERS: dict[str, Callable] = {
    "draft": _draft,
    "submitted": _submitted,
    "initial_review": _initial_review,
    "secondary_review": _secondary_review,
    "returned": _returned,
    "approved": _approved,
    "rejected": _rejected,
    "withdrawn": _withdrawn,
    "contracted": _contracted,
}


# --- the operations -----------------------------------------------------------------------------------------------
ACTIONS: dict[str, Callable] = {
    "submit": lambda app, by: services.application_submit(application=app, by=by),
    "start_review": lambda app, by: services.application_start_review(application=app, by=by),
    "initial_pass": lambda app, by: services.application_review_initial(
        application=app, by=by, decision="pass", comment="资料齐全"
    ),
    "initial_return": lambda app, by: services.application_review_initial(
        application=app, by=by, decision="return", comment="请补充材料"
    ),
    "initial_reject": lambda app, by: services.application_review_initial(
        application=app, by=by, decision="reject", comment="负债过高", rejection_codes=["high_debt"]
    ),
    "approve": lambda app, by: services.application_review_secondary(
        application=app, by=by, decision="approve", comment="同意"
    ),
    "secondary_return": lambda app, by: services.application_review_secondary(
        application=app, by=by, decision="return", comment="请补充担保"
    ),
    "secondary_reject": lambda app, by: services.application_review_secondary(
        application=app, by=by, decision="reject", comment="征信不良", rejection_codes=["poor_credit"]
    ),
    "withdraw": lambda app, by: services.application_withdraw(application=app, by=by, reason="借款人不再需要"),
}

# The borrower SMS each allowed move queues (None: the borrower is not told).
SMS_TEMPLATE = {
    "submit": "application_received",
    "start_review": "application_in_review",
    "initial_pass": None,
    "initial_return": "application_returned",
    "initial_reject": "application_rejected",
    "approve": "application_approved",
    "secondary_return": "application_returned",
    "secondary_reject": "application_rejected",
    "withdraw": None,
}
REVIEW_ACTIONS = {"initial_pass", "initial_return", "initial_reject", "approve", "secondary_return", "secondary_reject"}

ALLOWED = [
    # (operation, actor, starting status, resulting status)
    ("submit", "officer", "draft", "submitted"),
    ("submit", "officer", "returned", "submitted"),
    ("start_review", "reviewer", "submitted", "initial_review"),
    ("start_review", "reviewer2", "submitted", "initial_review"),
    ("initial_pass", "reviewer", "submitted", "secondary_review"),
    ("initial_pass", "reviewer", "initial_review", "secondary_review"),
    ("initial_return", "reviewer", "submitted", "returned"),
    ("initial_return", "reviewer", "initial_review", "returned"),
    ("initial_reject", "reviewer", "submitted", "rejected"),
    ("initial_reject", "reviewer", "initial_review", "rejected"),
    ("approve", "approver", "secondary_review", "approved"),
    ("approve", "approver2", "secondary_review", "approved"),
    ("approve", "manager", "secondary_review", "approved"),
    ("approve", "hq_manager", "secondary_review", "approved"),
    ("secondary_return", "approver", "secondary_review", "returned"),
    ("secondary_return", "manager", "secondary_review", "returned"),
    ("secondary_reject", "approver", "secondary_review", "rejected"),
    ("secondary_reject", "manager", "secondary_review", "rejected"),
    ("withdraw", "officer", "draft", "withdrawn"),
    ("withdraw", "officer", "submitted", "withdrawn"),
    ("withdraw", "officer", "initial_review", "withdrawn"),
    ("withdraw", "officer", "secondary_review", "withdrawn"),
    ("withdraw", "officer", "returned", "withdrawn"),
]

REFUSED = [
    # (operation, actor, starting status, the error the user gets)
    ("submit", "officer2", "draft", PermissionDenied),  # same branch, not assigned
    ("submit", "other_officer", "draft", PermissionDenied),
    ("submit", "reviewer", "draft", PermissionDenied),
    ("submit", "manager", "draft", PermissionDenied),
    ("submit", "officer", "submitted", TransitionError),
    ("submit", "officer", "initial_review", TransitionError),
    ("submit", "officer", "secondary_review", TransitionError),
    ("submit", "officer", "approved", TransitionError),
    ("submit", "officer", "rejected", TransitionError),
    ("submit", "officer", "withdrawn", TransitionError),
    ("submit", "officer", "contracted", TransitionError),
    ("start_review", "approver", "submitted", PermissionDenied),
    ("start_review", "officer", "submitted", PermissionDenied),
    ("start_review", "manager", "submitted", PermissionDenied),
    ("start_review", "other_reviewer", "submitted", PermissionDenied),  # another branch
    ("start_review", "reviewer", "draft", TransitionError),
    ("start_review", "reviewer", "initial_review", TransitionError),
    ("start_review", "reviewer", "secondary_review", TransitionError),
    ("start_review", "reviewer", "returned", TransitionError),
    ("start_review", "reviewer", "approved", TransitionError),
    ("initial_pass", "approver", "initial_review", PermissionDenied),
    ("initial_pass", "officer", "initial_review", PermissionDenied),
    ("initial_pass", "manager", "initial_review", PermissionDenied),
    ("initial_pass", "other_reviewer", "submitted", PermissionDenied),
    ("initial_pass", "reviewer", "draft", TransitionError),
    ("initial_pass", "reviewer", "returned", TransitionError),
    ("initial_pass", "reviewer", "secondary_review", TransitionError),
    ("initial_pass", "reviewer", "approved", TransitionError),
    ("initial_pass", "reviewer", "withdrawn", TransitionError),
    ("initial_return", "approver", "initial_review", PermissionDenied),
    ("initial_return", "reviewer", "secondary_review", TransitionError),
    ("initial_return", "reviewer", "returned", TransitionError),
    ("initial_reject", "manager", "initial_review", PermissionDenied),
    ("initial_reject", "reviewer", "secondary_review", TransitionError),
    ("initial_reject", "reviewer", "rejected", TransitionError),
    ("approve", "reviewer2", "secondary_review", PermissionDenied),
    ("approve", "officer", "secondary_review", PermissionDenied),
    ("approve", "risk", "secondary_review", PermissionDenied),
    ("approve", "approver", "submitted", TransitionError),
    ("approve", "approver", "initial_review", TransitionError),
    ("approve", "approver", "returned", TransitionError),
    ("approve", "approver", "approved", TransitionError),
    ("approve", "approver", "rejected", TransitionError),
    ("secondary_return", "reviewer2", "secondary_review", PermissionDenied),
    ("secondary_return", "approver", "submitted", TransitionError),
    ("secondary_return", "approver", "approved", TransitionError),
    ("secondary_reject", "officer", "secondary_review", PermissionDenied),
    ("secondary_reject", "approver", "approved", TransitionError),
    ("secondary_reject", "approver", "initial_review", TransitionError),
    ("withdraw", "officer2", "submitted", PermissionDenied),
    ("withdraw", "reviewer", "submitted", PermissionDenied),
    ("withdraw", "manager", "secondary_review", PermissionDenied),
    ("withdraw", "officer", "approved", TransitionError),
    ("withdraw", "officer", "rejected", TransitionError),
    ("withdraw", "officer", "withdrawn", TransitionError),
    ("withdraw", "officer", "contracted", TransitionError),
]


def snapshot(application: Application) -> tuple:
    application = reload(application)
    return (
        application.status,
        application.updated_at,
        ApplicationEvent.objects.filter(application=application).count(),
        Review.objects.filter(application=application).count(),
        OutboxMessage.objects.count(),
    )


def _borrower_sms(application: Application) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(audience="borrower", context__number=application.number).order_by("pk"))


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "actor", "start", "end"), ALLOWED, ids=lambda v: v if isinstance(v, str) else "")
def test_it_allows_the_move(
    staff, product, status_changes, django_capture_on_commit_callbacks, action, actor, start, end
):
    application = BUILDERS[start](staff)
    assert application.status == start
    events_before = list(ApplicationEvent.objects.filter(application=application, kind="status"))
    reviews_before = Review.objects.filter(application=application).count()
    sms_before = _borrower_sms(application)
    status_changes.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ACTIONS[action](application, staff[actor])

    # The status and exactly one status event, with who and from/to.
    assert reload(application).status == end
    new_events = list(
        ApplicationEvent.objects.filter(application=application, kind="status").exclude(
            pk__in=[e.pk for e in events_before]
        )
    )
    assert [(e.from_status, e.to_status, e.actor_id) for e in new_events] == [(start, end, staff[actor].pk)]
    assert Review.objects.filter(application=application).count() == reviews_before + (action in REVIEW_ACTIONS)

    # The signal goes out only once the transaction commits.
    assert status_changes == []
    for callback in callbacks:
        callback()
    assert status_changes == [(application.pk, start, end)]

    # The borrower's SMS, queued with its own idempotency key.
    new_sms = [m for m in _borrower_sms(application) if m not in sms_before]
    expected = SMS_TEMPLATE[action]
    assert [m.template for m in new_sms] == ([expected] if expected else [])
    for message in new_sms:
        assert message.channel == "sms"
        assert message.to_address == application.borrower.mobile
        assert message.idempotency_key not in {m.idempotency_key for m in sms_before}


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "actor", "start", "error"), REFUSED, ids=lambda v: v if isinstance(v, str) else "")
def test_it_refuses_the_move_and_changes_nothing(
    staff, product, status_changes, django_capture_on_commit_callbacks, action, actor, start, error
):
    application = BUILDERS[start](staff)
    assert application.status == start
    before = snapshot(application)
    status_changes.clear()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(error):
        ACTIONS[action](application, staff[actor])

    assert snapshot(application) == before
    assert status_changes == []


# --- input that the state machine refuses -------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"decision": "approve", "comment": "同意"}, "decision"),
        ({"decision": "pass", "comment": "  "}, "comment"),
        ({"decision": "reject", "comment": "不符合"}, "rejection_codes"),
        ({"decision": "reject", "comment": "不符合", "rejection_codes": ["bad_vibes"]}, "rejection_codes"),
    ],
)
def test_it_refuses_an_initial_decision_with_bad_input(staff, product, kwargs, field):
    application = _initial_review(staff)
    before = snapshot(application)

    with pytest.raises(ValidationError) as excinfo:
        services.application_review_initial(application=application, by=staff["reviewer"], **kwargs)

    assert list(excinfo.value.message_dict) == [field]
    assert snapshot(application) == before


@pytest.mark.django_db
def test_it_refuses_to_pass_before_the_uploaded_materials_are_checked(staff, product):
    application = submitted(staff["officer"])
    before = snapshot(application)

    with pytest.raises(ValidationError, match="uploaded material"):
        ACTIONS["initial_pass"](application, staff["reviewer"])

    assert snapshot(application) == before


@pytest.mark.django_db
def test_it_refuses_a_secondary_pass_decision(staff, product):
    application = _secondary_review(staff)
    before = snapshot(application)

    with pytest.raises(ValidationError) as excinfo:
        services.application_review_secondary(
            application=application, by=staff["approver"], decision="pass", comment="转"
        )

    assert list(excinfo.value.message_dict) == ["decision"]
    assert snapshot(application) == before


@pytest.mark.django_db
def test_it_refuses_to_withdraw_without_a_reason(staff, product):
    application = _submitted(staff)
    before = snapshot(application)

    with pytest.raises(ValidationError) as excinfo:
        services.application_withdraw(application=application, by=staff["officer"], reason=" ")

    assert list(excinfo.value.message_dict) == ["reason"]
    assert snapshot(application) == before


@pytest.mark.django_db
def test_it_says_what_the_status_is_when_a_move_is_not_possible(staff, product):
    application = _approved(staff)

    with pytest.raises(TransitionError, match="“Approved”"):
        services.application_withdraw(application=application, by=staff["officer"], reason="不要了")


# --- whole journeys -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_takes_a_returned_application_through_initial_review_again(staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    application = _initial_review(staff)
    services.application_review_initial(application=application, by=reviewer, decision="return", comment="补流水")

    services.application_submit(application=reload(application), by=officer)
    application = reload(application)
    assert application.status == "submitted"
    assert application.sla_due_at is not None

    services.application_start_review(application=application, by=reviewer)
    services.application_review_initial(application=reload(application), by=reviewer, decision="pass", comment="齐全")
    services.application_review_secondary(
        application=reload(application), by=staff["approver"], decision="approve", comment="同意"
    )

    application = reload(application)
    assert application.status == "approved"
    assert list(
        ApplicationEvent.objects.filter(application=application, kind="status").values_list("from_status", "to_status")
    ) == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "initial_review"),
        ("initial_review", "returned"),
        ("returned", "submitted"),
        ("submitted", "initial_review"),
        ("initial_review", "secondary_review"),
        ("secondary_review", "approved"),
    ]
    assert list(Review.objects.filter(application=application).values_list("stage", "decision")) == [
        ("initial", "return"),
        ("initial", "pass"),
        ("secondary", "approve"),
    ]
    sms = _borrower_sms(application)
    assert [m.template for m in sms] == [
        "application_received",
        "application_in_review",
        "application_returned",
        "application_received",
        "application_in_review",
        "application_approved",
    ]
    assert len({m.idempotency_key for m in sms}) == len(sms)


@pytest.mark.django_db
def test_it_tells_the_borrower_which_material_was_rejected(staff, product):
    application = submitted(staff["officer"])
    id_card = application.materials.get(requirement__code="id_card")

    services.material_check(material=id_card, by=staff["reviewer"], accepted=False, reason="复印件模糊")

    assert [m.template for m in _borrower_sms(application)] == [
        "application_received",
        "application_materials_missing",
    ]
    message = _borrower_sms(application)[-1]
    # The borrower has no portal account yet, so the SMS goes in Chinese, naming the item in Chinese.
    assert message.context["material"] == "身份证复印件"
    assert message.context["reason"] == "复印件模糊"
    assert reload(application).status == "submitted"


@pytest.mark.django_db
def test_it_sends_nothing_when_the_surrounding_transaction_rolls_back(
    staff, product, status_changes, django_capture_on_commit_callbacks
):
    application = _secondary_review(staff)
    before = snapshot(application)
    status_changes.clear()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ACTIONS["approve"](application, staff["approver"])
        raise RuntimeError("the request failed after the approval")

    assert callbacks == []
    assert status_changes == []
    assert snapshot(application) == before
    assert reload(application).status == "secondary_review"


@pytest.mark.django_db
def test_it_keeps_a_saved_change_when_a_receiver_fails_after_commit(
    staff, product, status_changes, django_capture_on_commit_callbacks, caplog
):
    application = complete(make_application(staff["officer"]), staff["officer"])

    def broken_receiver(sender, **kwargs):
        raise RuntimeError("notifications are down")

    application_status_changed.connect(broken_receiver, dispatch_uid="test_broken_receiver")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.application_submit(application=application, by=staff["officer"])
    finally:
        application_status_changed.disconnect(dispatch_uid="test_broken_receiver")

    assert reload(application).status == "submitted"
    assert status_changes == [(application.pk, "draft", "submitted")]  # the other receiver still heard of it
    (message,) = _borrower_sms(application)
    assert message.status == "sent"  # the SMS queued after the signal still went out
    assert "notifications are down" in caplog.text


@pytest.mark.django_db
def test_it_records_whether_the_review_target_was_missed(staff, product):
    application = _submitted(staff)
    with time_machine.travel(application.sla_due_at + timedelta(hours=1)):
        services.application_start_review(application=application, by=staff["reviewer"])

    event = ApplicationEvent.objects.filter(application=application, to_status="initial_review").get()
    assert event.data == {"sla_breached": True}


# --- two people at once (PostgreSQL row locks) --------------------------------------------------------------------
def _race(work: Callable[[str], None], names: list[str]) -> dict[str, object]:
    """Run `work(name)` in one thread per name, released together; return each thread's result or exception."""
    barrier = threading.Barrier(len(names))
    results: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            with translation.override("en"):
                prepared = work(name)
                barrier.wait(timeout=10)
                prepared()
            results[name] = OK
        except Exception as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _one_winner(results: dict[str, object]) -> TransitionError:
    assert sorted(r == OK for r in results.values()) == [False, True], results
    (loser,) = [r for r in results.values() if r != OK]
    assert isinstance(loser, TransitionError), loser
    assert str(loser).startswith("Someone else has just changed this application")
    return loser


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_simultaneous_approvals_through(staff, product):
    require_service(connection.vendor == "postgresql", "the race needs PostgreSQL row locks")
    application = _secondary_review(staff)

    def prepare(name: str):
        loaded = Application.objects.get(pk=application.pk)
        approver = User.objects.get(pk=staff[name].pk)
        return lambda: services.application_review_secondary(
            application=loaded, by=approver, decision="approve", comment="同意"
        )

    results = _race(prepare, ["approver", "approver2"])

    loser = _one_winner(results)
    assert "Approved" in str(loser)
    assert reload(application).status == "approved"
    assert ApplicationEvent.objects.filter(application=application, to_status="approved").count() == 1
    assert Review.objects.filter(application=application, stage="secondary").count() == 1
    assert OutboxMessage.objects.filter(template="application_approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_simultaneous_initial_passes_through(staff, product):
    require_service(connection.vendor == "postgresql", "the race needs PostgreSQL row locks")
    application = _submitted(staff)

    def prepare(name: str):
        loaded = Application.objects.get(pk=application.pk)
        reviewer = User.objects.get(pk=staff[name].pk)
        return lambda: services.application_review_initial(
            application=loaded, by=reviewer, decision="pass", comment="资料齐全"
        )

    results = _race(prepare, ["reviewer", "reviewer2"])

    _one_winner(results)
    application = reload(application)
    assert application.status == "secondary_review"
    winner = next(name for name, result in results.items() if result == OK)
    assert application.initial_reviewer == staff[winner]
    assert ApplicationEvent.objects.filter(application=application, to_status="secondary_review").count() == 1
    assert list(Review.objects.filter(application=application).values_list("reviewer_id", flat=True)) == [
        staff[winner].pk
    ]
