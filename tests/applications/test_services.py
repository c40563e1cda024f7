"""Borrowers (KYC), maker-checker, approval limits and what blocks a submission, through the services."""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from accounts.models import AuditEvent, User
from accounts.roles import Role
from applications import services
from applications.models import (
    Application,
    ApplicationEvent,
    BlockListEntry,
    Borrower,
    Material,
    Party,
    Review,
    RiskDisclosure,
    identity_lookup_hash,
)
from notifications.models import OutboxMessage
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

ID_NUMBER = RESIDENT_IDS[0]  # 110101198503070013


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def give_role(user: User, role: str, **fields) -> User:
    """Add a role (and e.g. an approval limit) and return a fresh copy: roles are cached on the user object."""
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if fields:
        User.objects.filter(pk=user.pk).update(**fields)
    return User.objects.get(pk=user.pk)


def snapshot(application: Application) -> tuple:
    """What a refused operation must leave untouched."""
    application = Application.objects.get(pk=application.pk)
    return (
        application.status,
        application.approved_amount,
        ApplicationEvent.objects.filter(application=application).count(),
        Review.objects.filter(application=application).count(),
        OutboxMessage.objects.count(),
    )


def borrower_fields(**overrides) -> dict:
    return {
        "kind": "individual",
        "name": "王芳",
        "mobile": "13900139000",
        "address": "北京市海淀区中关村大街1号",
        "monthly_income": Decimal("20000.00"),
    } | overrides


# --- borrowers ----------------------------------------------------------------------------------------------------
def test_it_creates_a_borrower_in_the_officers_branch(staff, branches):
    borrower, created = services.borrower_create(
        by=staff["officer"], identity_type="resident_id", identity_number=ID_NUMBER, **borrower_fields()
    )

    assert created is True
    borrower = Borrower.objects.get(pk=borrower.pk)
    assert borrower.name == "王芳"
    assert borrower.branch == branches["BJ"]
    assert borrower.created_by == staff["officer"]
    assert borrower.identity_number == ID_NUMBER


def test_it_returns_the_existing_borrower_for_a_duplicate_identity_and_creates_nothing(staff):
    first, _created = services.borrower_create(
        by=staff["officer"], identity_type="resident_id", identity_number=ID_NUMBER, **borrower_fields()
    )

    again, created = services.borrower_create(
        by=staff["officer2"],
        identity_type="resident_id",
        identity_number=ID_NUMBER,
        **borrower_fields(name="王芳芳", mobile="13700137000"),
    )

    assert created is False
    assert again.pk == first.pk
    assert Borrower.objects.count() == 1
    assert Borrower.objects.get().name == "王芳"  # the duplicate's details changed nothing


def test_it_finds_a_duplicate_typed_with_spaces_or_a_lower_case_x(staff):
    number = "11010119900101100X"  # a valid number whose check character is X
    first, _created = services.borrower_create(
        by=staff["officer"], identity_type="resident_id", identity_number=number, **borrower_fields()
    )

    typed = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
    again, created = services.borrower_create(
        by=staff["officer"], identity_type="resident_id", identity_number=typed, **borrower_fields()
    )

    assert (again.pk, created) == (first.pk, False)
    assert Borrower.objects.count() == 1
    assert Borrower.objects.get().identity_number == number


def test_it_refuses_an_identity_number_with_a_wrong_check_digit(staff):
    wrong = ID_NUMBER[:17] + "9"

    with pytest.raises(ValidationError) as excinfo:
        services.borrower_create(
            by=staff["officer"], identity_type="resident_id", identity_number=wrong, **borrower_fields()
        )

    assert "identity_number" in excinfo.value.message_dict
    assert Borrower.objects.count() == 0


def test_it_returns_the_winner_when_another_officer_saved_the_same_person_first(staff, monkeypatch):
    winner, _created = services.borrower_create(
        by=staff["officer"], identity_type="resident_id", identity_number=ID_NUMBER, **borrower_fields()
    )
    real_find = services.borrower_find
    calls = []

    def find_nothing_the_first_time(**kwargs):
        # As if the other officer's row was committed just after this one looked.
        calls.append(kwargs)
        return None if len(calls) == 1 else real_find(**kwargs)

    monkeypatch.setattr(services, "borrower_find", find_nothing_the_first_time)
    borrower, created = services.borrower_create(
        by=staff["officer2"], identity_type="resident_id", identity_number=ID_NUMBER, **borrower_fields()
    )

    assert (borrower.pk, created) == (winner.pk, False)
    assert len(calls) == 2
    assert Borrower.objects.count() == 1


def test_it_lets_only_officers_create_borrowers(staff):
    with pytest.raises(PermissionDenied):
        services.borrower_create(
            by=staff["reviewer"], identity_type="resident_id", identity_number=ID_NUMBER, **borrower_fields()
        )
    assert Borrower.objects.count() == 0


def test_it_stores_the_identity_number_encrypted(staff):
    borrower = make_borrower(staff["officer"], number=ID_NUMBER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_number, identity_hash FROM applications_borrower WHERE id = %s", [borrower.pk])
        raw_number, raw_hash = cursor.fetchone()

    assert raw_number != ID_NUMBER
    assert ID_NUMBER not in raw_number
    assert "19850307" not in raw_number
    assert ID_NUMBER not in raw_hash
    assert raw_hash == identity_lookup_hash("resident_id", ID_NUMBER)
    assert Borrower.objects.get(pk=borrower.pk).identity_number == ID_NUMBER


def test_it_finds_a_borrower_by_identity_hash(staff):
    borrower = make_borrower(staff["officer"], number=ID_NUMBER)
    make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="张伟")

    assert services.borrower_find(identity_type="resident_id", identity_number=ID_NUMBER) == borrower
    assert services.borrower_find(identity_type="passport", identity_number=ID_NUMBER) is None
    assert services.borrower_find(identity_type="resident_id", identity_number=RESIDENT_IDS[3]) is None


def test_it_shows_the_identity_number_masked(staff):
    borrower = make_borrower(staff["officer"], number=ID_NUMBER)

    assert Borrower.objects.get(pk=borrower.pk).identity_masked == "110101********0013"


@pytest.mark.parametrize("role", ["reviewer", "approver", "risk", "manager"])
def test_it_reveals_the_identity_number_to_allowed_roles_and_audits_it(staff, role):
    borrower = make_borrower(staff["officer"], number=ID_NUMBER)
    viewer = staff[role]

    number = services.identity_reveal(borrower=borrower, by=viewer, ip_address="10.0.0.8")

    assert number == ID_NUMBER
    event = AuditEvent.objects.get()
    assert event.actor == viewer
    assert event.action == AuditEvent.Action.REVEAL_IDENTITY
    assert (event.object_type, event.object_id) == ("applications.borrower", str(borrower.pk))
    assert event.ip_address == "10.0.0.8"
    assert event.detail == {"identity_masked": "110101********0013"}


@pytest.mark.parametrize("role", ["officer", "other_reviewer"])
def test_it_refuses_to_reveal_the_identity_number_and_writes_no_audit_row(staff, role):
    borrower = make_borrower(staff["officer"], number=ID_NUMBER)

    with pytest.raises(PermissionDenied):
        services.identity_reveal(borrower=borrower, by=staff[role])

    assert AuditEvent.objects.count() == 0


def test_it_puts_a_block_listed_identity_into_the_assessment_as_a_hard_stop(staff, product):
    officer = staff["officer"]
    borrower = make_borrower(officer, number=ID_NUMBER)
    assert services.is_blocklisted(borrower) is False
    BlockListEntry.objects.create(
        identity_type="resident_id",
        identity_hash=identity_lookup_hash("resident_id", ID_NUMBER),
        identity_masked="110101********0013",
        reason="欺诈",
        added_by=staff["manager"],
    )

    application = make_application(officer, borrower=borrower)
    assessment = services.assessment_save(
        application=application, by=officer, income_stability="stable", credit_flags=[]
    )

    assert services.is_blocklisted(borrower) is True
    assert {"zh-hans": "该证件号码在内部黑名单中。", "en": "The identity is on the internal block list."} in (
        assessment.hard_stops
    )


def test_it_shows_the_scorecard_in_the_readers_language_not_the_officers(staff, product):
    officer = staff["officer"]
    application = make_application(officer)
    with translation.override("zh-hans"):  # the officer works in Chinese
        assessment = services.assessment_save(
            application=application, by=officer, income_stability="stable", credit_flags=["current_overdue"]
        )
    with translation.override("en"):
        assert "The borrower is currently overdue with another lender." in assessment.shown_hard_stops
        assert assessment.shown_factors[0]["label"] == "Income stability"
    with translation.override("zh-hans"):
        assert assessment.shown_factors[0]["label"] == "收入稳定性"


# --- maker-checker ------------------------------------------------------------------------------------------------
def test_it_refuses_a_review_by_the_officer_who_took_the_application_in(staff, product):
    officer = give_role(staff["officer"], Role.REVIEWER)
    application = submitted(officer)
    before = snapshot(application)

    with pytest.raises(PermissionDenied):
        services.application_start_review(application=application, by=officer)
    accept_materials(application, staff["reviewer"])
    before = snapshot(application)
    with pytest.raises(PermissionDenied):
        services.application_review_initial(application=application, by=officer, decision="pass", comment="我自己的")

    assert snapshot(application) == before
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_it_refuses_a_review_by_the_creator_after_reassignment(staff, product):
    officer = give_role(staff["officer"], Role.REVIEWER)
    application = submitted(officer)
    services.application_reassign(application=application, by=staff["manager"], officer=staff["officer2"])
    before = snapshot(application)

    with pytest.raises(PermissionDenied):
        services.application_start_review(application=Application.objects.get(pk=application.pk), by=officer)

    assert snapshot(application) == before


def test_it_refuses_approval_by_the_initial_reviewer_given_the_approver_role(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"])
    reviewer = give_role(staff["reviewer"], Role.APPROVER, approval_limit=Decimal("1000000.00"))
    before = snapshot(application)

    with pytest.raises(PermissionDenied, match="initial review"):
        services.application_review_secondary(application=application, by=reviewer, decision="approve", comment="同意")

    assert snapshot(application) == before
    assert Application.objects.get(pk=application.pk).status == "secondary_review"


def test_it_refuses_a_later_initial_review_by_the_secondary_reviewer(staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    approver = give_role(staff["approver"], Role.REVIEWER)
    application = in_secondary_review(officer, reviewer)
    services.application_review_secondary(
        application=application, by=approver, decision="return", comment="请补充收入证明"
    )
    application = Application.objects.get(pk=application.pk)
    services.application_submit(application=application, by=officer)
    application = Application.objects.get(pk=application.pk)
    before = snapshot(application)

    with pytest.raises(PermissionDenied, match="secondary review"):
        services.application_start_review(application=application, by=approver)
    with pytest.raises(PermissionDenied, match="secondary review"):
        services.application_review_initial(application=application, by=approver, decision="pass", comment="通过")

    assert snapshot(application) == before
    application = Application.objects.get(pk=application.pk)
    assert application.status == "submitted"
    assert application.initial_reviewer == reviewer


# --- approval limits ----------------------------------------------------------------------------------------------
def test_it_lets_an_approver_approve_within_their_limit(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="150000.00")

    review = services.application_review_secondary(
        application=application, by=staff["approver"], decision="approve", comment="同意", conditions="按月还款"
    )

    application = Application.objects.get(pk=application.pk)
    assert application.status == "approved"
    assert application.approved_amount == Decimal("150000.00")
    assert application.approved_rate == Decimal("4.3500")
    assert application.approved_term_months == 12
    assert application.approved_by == staff["approver"]
    assert application.conditions == "按月还款"
    assert (review.stage, review.decision, review.approved_amount) == ("secondary", "approve", Decimal("150000.00"))


def test_it_refuses_an_approver_above_their_limit_naming_both_amounts(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="300000.00", term_months=36)
    before = snapshot(application)

    with pytest.raises(PermissionDenied) as excinfo:
        services.application_review_secondary(
            application=application, by=staff["approver"], decision="approve", comment="同意"
        )

    message = str(excinfo.value)
    assert "¥300,000.00" in message
    assert "¥200,000.00" in message
    assert snapshot(application) == before


def test_it_lets_a_manager_approve_above_every_approvers_limit(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="300000.00", term_months=36)

    services.application_review_secondary(
        application=application, by=staff["manager"], decision="approve", comment="经理审批"
    )

    application = Application.objects.get(pk=application.pk)
    assert application.status == "approved"
    assert application.approved_amount == Decimal("300000.00")
    assert application.approved_by == staff["manager"]


def test_it_lets_an_approver_approve_a_lower_amount_within_their_limit(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="300000.00", term_months=36)

    services.application_review_secondary(
        application=application,
        by=staff["approver"],
        decision="approve",
        comment="降额批准",
        approved_amount="180000",
        approved_term_months=24,
        approved_rate="5.5",
    )

    application = Application.objects.get(pk=application.pk)
    assert (application.approved_amount, application.approved_term_months, application.approved_rate) == (
        Decimal("180000.00"),
        24,
        Decimal("5.5000"),
    )


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"approved_amount": "150000.01"}, "approved_amount"),
        ({"approved_amount": "5000.00"}, "approved_amount"),
        ({"approved_rate": "12.5"}, "approved_rate"),
        ({"approved_rate": "4.0"}, "approved_rate"),
        ({"approved_term_months": 48}, "approved_term_months"),
        ({"approved_term_months": 3}, "approved_term_months"),
    ],
)
def test_it_refuses_approved_terms_outside_the_request_or_the_product(staff, product, terms, field):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="150000.00")
    before = snapshot(application)

    with pytest.raises(ValidationError) as excinfo:
        services.application_review_secondary(
            application=application, by=staff["approver"], decision="approve", comment="同意", **terms
        )

    assert list(excinfo.value.message_dict) == [field]
    assert snapshot(application) == before


def test_it_names_the_requested_amount_when_the_approved_one_is_higher(staff, product):
    application = in_secondary_review(staff["officer"], staff["reviewer"], amount="150000.00")

    with pytest.raises(ValidationError) as excinfo:
        services.application_review_secondary(
            application=application, by=staff["manager"], decision="approve", comment="同意", approved_amount="160000"
        )

    assert "¥150,000.00" in excinfo.value.message_dict["approved_amount"][0]


def _in_secondary_review_with_hard_stop(staff) -> Application:
    officer = staff["officer"]
    application = complete(make_application(officer), officer)
    assessment = services.assessment_save(
        application=application, by=officer, income_stability="stable", credit_flags=["current_overdue"]
    )
    assert assessment.hard_stops
    services.application_submit(application=application, by=officer)
    application = Application.objects.get(pk=application.pk)
    accept_materials(application, staff["reviewer"])
    services.application_review_initial(
        application=application, by=staff["reviewer"], decision="pass", comment="转复核"
    )
    return Application.objects.get(pk=application.pk)


def test_it_lets_only_a_manager_approve_despite_hard_stops(staff, product):
    application = _in_secondary_review_with_hard_stop(staff)
    before = snapshot(application)

    with pytest.raises(PermissionDenied, match="hard stops"):
        services.application_review_secondary(
            application=application, by=staff["approver"], decision="approve", comment="同意"
        )
    assert snapshot(application) == before

    services.application_review_secondary(
        application=application, by=staff["manager"], decision="approve", comment="经理例外审批"
    )
    assert Application.objects.get(pk=application.pk).status == "approved"


def test_it_lets_an_approver_reject_despite_hard_stops(staff, product):
    application = _in_secondary_review_with_hard_stop(staff)

    services.application_review_secondary(
        application=application,
        by=staff["approver"],
        decision="reject",
        comment="他行逾期",
        rejection_codes=["poor_credit"],
    )

    application = Application.objects.get(pk=application.pk)
    assert application.status == "rejected"
    assert application.rejection_codes == ["poor_credit"]


# --- submission blockers ------------------------------------------------------------------------------------------
def test_it_lists_everything_that_blocks_a_submission(staff, product):
    application = make_application(staff["officer"])

    assert services.submission_blockers(application) == [
        "Missing material: Identity card copy",
        "Missing material: Bank statements, 6 months",
        "The borrower has not acknowledged the current risk disclosure.",
        "The credit assessment has not been done.",
    ]


def test_it_refuses_to_submit_an_incomplete_application_saying_what_is_missing(staff, product):
    officer = staff["officer"]
    application = make_application(officer)
    services.material_upload(material=application.materials.first(), by=officer, upload=pdf())
    services.disclosure_acknowledge(application=application, by=officer)
    before = snapshot(application)

    with pytest.raises(ValidationError) as excinfo:
        services.application_submit(application=application, by=officer)

    assert excinfo.value.messages == [
        "Missing material: Bank statements, 6 months",
        "The credit assessment has not been done.",
    ]
    assert snapshot(application) == before


def test_it_does_not_require_optional_materials(staff, product):
    officer = staff["officer"]
    application = make_application(officer)
    services.material_add(application=application, by=officer, name="租赁合同", is_required=False)
    application = complete(application, officer)
    services.material_add(application=application, by=officer, name="营业执照", is_required=False)

    assert services.submission_blockers(application) == []
    services.application_submit(application=application, by=officer)
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_it_requires_a_guarantor_and_collateral_when_the_product_does(staff):
    officer = staff["officer"]
    secured = make_product("SECURED", requires_guarantor=True, requires_collateral=True)
    application = complete(make_application(officer, product=secured), officer)

    assert services.submission_blockers(application) == [
        "This product requires a guarantor.",
        "This product requires collateral.",
    ]

    services.party_add(
        application=application, by=officer, role=Party.Role.GUARANTOR, name="李强", mobile="13600136000"
    )
    services.collateral_add(
        application=application, by=officer, kind="vehicle", description="大众帕萨特 2022", estimated_value="150000"
    )
    assert services.submission_blockers(application) == []


def test_it_lists_a_rejected_material_as_missing_again(staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    application = submitted(officer)
    id_card = application.materials.get(requirement__code="id_card")
    services.material_check(material=id_card, by=reviewer, accepted=False, reason="复印件模糊")
    statement = application.materials.get(requirement__code="bank_statement")
    services.material_check(material=statement, by=reviewer, accepted=True)
    services.application_review_initial(application=application, by=reviewer, decision="return", comment="请补身份证")
    application = Application.objects.get(pk=application.pk)

    assert services.submission_blockers(application) == ["Missing material: Identity card copy"]
    assert [m.display_name for m in services.missing_materials(application)] == ["Identity card copy"]

    services.material_upload(material=id_card, by=officer, upload=pdf("id-clear.pdf"))
    assert services.submission_blockers(application) == []
    assert Material.objects.get(pk=id_card.pk).rejection_reason == ""


def test_it_asks_for_a_new_acknowledgement_when_the_disclosure_changes(staff, product):
    officer = staff["officer"]
    application = complete(make_application(officer), officer)
    assert services.submission_blockers(application) == []

    RiskDisclosure.objects.create(product=product, version=2, text_zh="新版风险揭示。", text_en="New disclosure.")

    assert services.submission_blockers(application) == [
        "The borrower has not acknowledged the current risk disclosure."
    ]
    acknowledgement = services.disclosure_acknowledge(application=application, by=officer)
    assert acknowledgement.disclosure.version == 2
    assert services.submission_blockers(application) == []


def test_it_refuses_a_request_outside_the_products_range(staff, product):
    officer = staff["officer"]
    borrower = make_borrower(officer)

    with pytest.raises(ValidationError) as excinfo:
        make_application(officer, borrower=borrower, amount="600000.00", term_months=48, annual_rate=Decimal("3"))

    assert set(excinfo.value.message_dict) == {"amount", "term_months", "annual_rate"}
    assert "¥500,000.00" in excinfo.value.message_dict["amount"][0]
    assert Application.objects.count() == 0


# --- two officers at once (PostgreSQL) ----------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_borrower_when_two_officers_enter_the_same_person_at_once(staff):
    require_service(connection.vendor == "postgresql", "the race needs PostgreSQL's unique index under load")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def create(name: str) -> None:
        try:
            officer = User.objects.get(pk=staff[name].pk)
            barrier.wait(timeout=10)
            borrower, created = services.borrower_create(
                by=officer, identity_type="resident_id", identity_number=ID_NUMBER, **borrower_fields()
            )
            results[name] = (borrower.pk, created)
        except Exception as exc:
            results[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("officer", "officer2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Borrower.objects.count() == 1
    borrower = Borrower.objects.get()
    assert sorted(results.values(), key=lambda r: r[1]) == [(borrower.pk, False), (borrower.pk, True)], results
