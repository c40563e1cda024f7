"""Building blocks for follow-up tests, made through the services: a disbursed loan whose contract names a guarantor
and a collateral custodian, a planned follow-up on it, an application in initial review, the standard checklists and
call scripts, and a complete record's answers."""

from datetime import date, timedelta
from decimal import Decimal

from applications import services as application_services
from applications.models import Application
from followups.models import FollowUp, FollowUpKind, Question, QuestionSet, ScriptTemplate
from postloan import services as postloan_services
from postloan.models import Loan
from tests.applications.factories import (
    RESIDENT_IDS,
    accept_materials,
    complete,
    make_application,
    make_borrower,
)
from tests.postloan.factories import DISBURSED_ON, FIRST_DUE, SIGNED_ON, on

GUARANTOR = "王强"
CUSTODIAN = "赵敏"
# Parties of the default loan: (role, name, mobile).
DEFAULT_PARTIES = (
    ("guarantor", GUARANTOR, "13900139000"),
    ("collateral_custodian", CUSTODIAN, "13700137000"),
)


def _application_with_parties(staff, *, parties, identity: str, amount: str, term_months: int) -> Application:
    officer = staff["officer"]
    borrower = make_borrower(officer, number=identity)
    application = make_application(
        officer, borrower=borrower, amount=amount, term_months=term_months, method="equal_principal"
    )
    custodian = None
    for role, name, mobile in parties:
        party = application_services.party_add(application=application, by=officer, role=role, name=name, mobile=mobile)
        if role == "collateral_custodian":
            custodian = party
    if custodian is not None:
        application_services.collateral_add(
            application=application,
            by=officer,
            kind="vehicle",
            description="大众帕萨特 京A·12345",
            estimated_value=Decimal("150000.00"),
            custodian=custodian,
        )
    return complete(application, officer)


def approved_application(
    staff, *, parties=DEFAULT_PARTIES, identity: str = RESIDENT_IDS[0], amount: str = "120000.00", term_months=12
) -> Application:
    """An application approved by the reviewer and the approver, with its related parties."""
    application = _application_with_parties(
        staff, parties=parties, identity=identity, amount=amount, term_months=term_months
    )
    application_services.application_submit(application=application, by=staff["officer"])
    accept_materials(application, staff["reviewer"])
    application_services.application_review_initial(
        application=application, by=staff["reviewer"], decision="pass", comment="资料齐全"
    )
    application_services.application_review_secondary(
        application=application, by=staff["approver"], decision="approve", comment="同意"
    )
    return Application.objects.get(pk=application.pk)


def disbursed_loan(
    staff,
    *,
    parties=DEFAULT_PARTIES,
    identity: str = RESIDENT_IDS[0],
    amount: str = "120000.00",
    term_months: int = 12,
    disbursed_on: date = DISBURSED_ON,
    first_due_date: date = FIRST_DUE,
) -> Loan:
    """A 12-month loan of ¥120,000.00 to 李明, disbursed on 10 January 2026, whose contract names `parties`."""
    signed_on = min(SIGNED_ON, disbursed_on)
    with on(signed_on):
        application = approved_application(
            staff, parties=parties, identity=identity, amount=amount, term_months=term_months
        )
        contract = postloan_services.contract_prepare(
            application=application, by=staff["officer"], first_due_date=first_due_date
        )
        postloan_services.contract_confirm(contract=contract, by=staff["manager"])
    with on(disbursed_on):
        disbursement = postloan_services.disbursement_prepare(
            contract=contract,
            by=staff["officer"],
            disbursed_on=disbursed_on,
            bank_name="中国工商银行北京朝阳支行",
            account_number="6222 0212 3456 7890 123",
            bank_reference=f"DISB-{contract.number}",
        )
        return postloan_services.disbursement_confirm(disbursement=disbursement, by=staff["manager"])


def planned_followup(
    loan: Loan, *, kind: str = FollowUpKind.FIRST, due_on: date | None = None, officer=None, sequence: int = 1
) -> FollowUp:
    """The loan's planned follow-up of a kind (D+30 unless told), assigned to the loan's officer. Reuses the row the
    planning task may already have made (one per loan, kind and sequence)."""
    due_on = due_on or loan.disbursed_on + timedelta(days=30)
    followup, _created = FollowUp.objects.get_or_create(
        loan=loan,
        kind=kind,
        sequence=sequence,
        defaults={
            "branch_id": loan.branch_id,
            "officer": officer or loan.officer,
            "due_on": due_on,
            "planned_on": due_on,
            "episode_start": due_on if kind == FollowUpKind.OVERDUE_CALL else None,
        },
    )
    return followup


def loan_followup(loan: Loan, *, due_on: date, status: str = "planned", kind: str = FollowUpKind.EXTRA, **fields):
    """A follow-up of the loan in any status, written as it is (no service): for pages that list follow-ups. An extra
    follow-up unless told, the only kind a loan may have any number of."""
    return FollowUp.objects.create(
        loan=loan,
        kind=kind,
        branch_id=loan.branch_id,
        officer=loan.officer,
        due_on=due_on,
        planned_on=due_on,
        status=status,
        **fields,
    )


def application_in_initial_review(staff, *, identity: str = RESIDENT_IDS[1], parties=()) -> Application:
    """A submitted application that the branch's reviewer has taken into initial review."""
    application = _application_with_parties(
        staff, parties=parties, identity=identity, amount="80000.00", term_months=12
    )
    application_services.application_submit(application=application, by=staff["officer"])
    application_services.application_start_review(application=application, by=staff["reviewer"])
    return Application.objects.get(pk=application.pk)


# --- the library: checklists and scripts --------------------------------------------------------------------------
STANDARD_QUESTIONS = (
    ("funds_use", "贷款资金是否按合同约定用途使用？", "Is the loan used as the contract says?", "yes_no", (), True),
    (
        "business_status",
        "经营或就业状况如何？",
        "How is the business or employment going?",
        "choice",
        (("normal", "正常", "Normal"), ("declining", "下滑", "Declining"), ("stopped", "停业或失业", "Stopped")),
        True,
    ),
    (
        "income_change",
        "收入与借款时相比有何变化？",
        "How has income changed since the loan?",
        "choice",
        (("up", "增加", "Up"), ("same", "持平", "About the same"), ("down", "减少", "Down")),
        True,
    ),
    ("new_debts", "是否有新增负债？", "Any new debts?", "yes_no", (), True),
    ("remarks", "其他情况", "Anything else", "text", (), False),
)
GOOD_ANSWERS = {"funds_use": True, "business_status": "normal", "income_change": "same", "new_debts": False}


def make_question_set(kind: str, *, questions=STANDARD_QUESTIONS, is_active: bool = True) -> QuestionSet:
    question_set = QuestionSet.objects.create(
        kind=kind, name_zh=f"{kind} 标准问题", name_en=f"{kind} checklist", is_active=is_active
    )
    for position, (code, text_zh, text_en, answer_type, choices, required) in enumerate(questions, start=1):
        Question.objects.create(
            question_set=question_set,
            code=code,
            text_zh=text_zh,
            text_en=text_en,
            answer_type=answer_type,
            choices=[{"value": value, "zh": zh, "en": en} for value, zh, en in choices],
            is_required=required,
            position=position,
        )
    return question_set


def make_question_sets() -> dict[str, QuestionSet]:
    """The standard checklist, active for every kind."""
    return {kind: make_question_set(kind) for kind in FollowUpKind.values}


def make_script(kind: str = "", *, category: str = ScriptTemplate.Category.FOLLOWUP, **texts) -> ScriptTemplate:
    fields = {
        "title_zh": "首次回访话术",
        "title_en": "First follow-up script",
        "body_zh": "{borrower_name}您好，我是您的客户经理{officer_name}。"
        "您的贷款{amount}，下次还款日为{next_due_date}。",
        "body_en": "Hello {borrower_name}, this is {officer_name}, your loan officer. Your loan of {amount} is next "
        "due on {next_due_date}.",
    } | texts
    return ScriptTemplate.objects.create(category=category, kind=kind, **fields)


def record(**overrides) -> dict:
    """The arguments of a complete, low-risk phone record with the borrower (everything but followup and by)."""
    return {
        "subject": "borrower",
        "channel": "phone",
        "answers": dict(GOOD_ANSWERS),
        "funds_used_as_contracted": True,
        "repayment_ability": "stable",
        "willingness": "good",
        "risk_signals": [],
        "risk_level": "low",
        "summary": "借款人经营正常，按时还款。",
        "next_steps": "",
    } | overrides
