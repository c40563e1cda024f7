"""Demo follow-ups: the question sets and call scripts officers work from, and follow-up records in every state.

Runs after postloan's demo (INSTALLED_APPS order), on its loan book. The library (question sets, scripts) is upserted
by natural key. The loans' planned follow-ups are created by the safety-net sweep (the disbursement receivers queue
tasks a worker would run later; the sweep makes the plan exist now). Then a few follow-ups are recorded, reviewed,
tried and escalated through the services, with `time_machine` moving the clock to the day each step happened.

Idempotent: each scenario names a follow-up by (loan purpose, kind) and acts only while it is still planned and
untouched, so a second run creates nothing. The verification call is made only when the application has none.
"""

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import time_machine
from django.conf import settings
from django.utils import translation

from accounts.demo import demo_username
from accounts.models import User
from accounts.roles import Role
from applications.models import Application, ApplicationStatus
from core.dates import SHANGHAI, local_today
from core.seeding import upsert
from postloan.models import Loan

from . import services
from .models import FollowUp, Question, QuestionSet, RiskWarning, ScriptTemplate
from .models.followups import PLANNED_KINDS, FollowUpKind, FollowUpStatus
from .planning import followups_sweep_missing

YES_NO, CHOICE, TEXT = Question.AnswerType.YES_NO, Question.AnswerType.CHOICE, Question.AnswerType.TEXT


def _choices(*items: tuple[str, str, str]) -> list[dict]:
    return [{"value": value, "zh": zh, "en": en} for value, zh, en in items]


# A question: (code, Chinese, English, answer type, choices, the answer of a sound borrower, of a troubled one).
STATUS = _choices(("normal", "正常", "Normal"), ("changed", "有变化", "Changed"), ("stopped", "已停业/离职", "Stopped"))
INCOME = _choices(
    ("up", "增加", "Increased"), ("same", "基本持平", "About the same"), ("down", "明显下降", "Fell markedly")
)
ABILITY = _choices(("good", "充足", "Sufficient"), ("tight", "偏紧", "Tight"), ("weak", "不足", "Insufficient"))
WILLING = _choices(("good", "积极", "Willing"), ("hesitant", "犹豫", "Hesitant"), ("refuses", "拒绝", "Refuses"))
PARTY = _choices(
    ("normal", "正常", "Normal"), ("changed", "有变化", "Changed"), ("none", "无担保/抵押", "None on this loan")
)
Q_FUNDS = (
    "funds_use",
    "借款是否按合同约定用途使用？",
    "Are the funds used as the contract says?",
    YES_NO,
    [],
    True,
    False,
)
Q_STATUS = (
    "work_status",
    "借款人经营或就业状况如何？",
    "How is the borrower's business or employment?",
    CHOICE,
    STATUS,
    "normal",
    "changed",
)
Q_INCOME = ("income_change", "收入与借款时相比有何变化？", "How has income changed since the loan?", CHOICE, INCOME)
Q_INCOME = (*Q_INCOME, "same", "down")
Q_DEBTS = ("new_debts", "近期是否新增其他借款或负债？", "Any new loans or debts recently?", YES_NO, [], False, True)
Q_ABILITY = ("repay_ability", "对按期还款的能力评估", "Ability to repay on time", CHOICE, ABILITY, "good", "weak")
Q_WILLING = ("repay_willingness", "借款人还款意愿", "The borrower's willingness to repay", CHOICE, WILLING, "good")
Q_WILLING = (*Q_WILLING, "hesitant")
Q_GUARANTOR = ("guarantor_status", "担保人状况是否正常？", "Is the guarantor's situation normal?", CHOICE, PARTY)
Q_GUARANTOR = (*Q_GUARANTOR, "none", "changed")
Q_COLLATERAL = ("collateral_status", "抵押物状况是否正常？", "Is the collateral in good order?", CHOICE, PARTY)
Q_COLLATERAL = (*Q_COLLATERAL, "none", "changed")
Q_NOTES = ("notes", "其他需要说明的情况", "Anything else to note", TEXT, [], "无", "借款人表示近期资金紧张。")
REGULAR = (Q_FUNDS, Q_STATUS, Q_INCOME, Q_DEBTS, Q_ABILITY, Q_WILLING, Q_GUARANTOR, Q_COLLATERAL, Q_NOTES)

QUESTION_SETS = {
    FollowUpKind.FIRST: ("首次回访（放款后30天）", "First follow-up (D+30)", REGULAR),
    FollowUpKind.SECOND: ("第二次回访（放款后90天）", "Second follow-up (D+90)", REGULAR),
    FollowUpKind.QUARTERLY: ("季度回访", "Quarterly follow-up", REGULAR),
    FollowUpKind.PRE_MATURITY: (
        "到期前回访",
        "Pre-maturity follow-up",
        (
            *REGULAR[:6],
            (
                "maturity_plan",
                "到期本金的还款资金来源是否已落实？",
                "Is the money for the final repayment arranged?",
                YES_NO,
                [],
                True,
                False,
            ),
            Q_NOTES,
        ),
    ),
    FollowUpKind.OVERDUE_CALL: (
        "逾期电话提醒",
        "Overdue call",
        (
            (
                "overdue_reason",
                "逾期原因",
                "Why the payment was missed",
                CHOICE,
                _choices(
                    ("forgot", "忘记还款", "Forgot"),
                    ("cash_flow", "临时资金周转困难", "Temporary cash-flow problem"),
                    ("income_loss", "收入中断", "Income stopped"),
                    ("dispute", "对账单有异议", "Disputes the amount"),
                ),
                "forgot",
                "income_loss",
            ),
            (
                "promise_date",
                "借款人承诺的还款日期",
                "The date the borrower promises to pay",
                TEXT,
                [],
                "本周五前",
                "未能给出",
            ),
            Q_ABILITY,
            Q_WILLING,
            Q_GUARANTOR,
        ),
    ),
    FollowUpKind.EXTRA: ("专项回访", "Extra follow-up", REGULAR),
    FollowUpKind.VERIFICATION_CALL: (
        "贷前信息核实电话",
        "Verification call",
        (
            (
                "identity",
                "核对身份信息（姓名、证件号后四位）是否一致？",
                "Does the identity match?",
                YES_NO,
                [],
                True,
                False,
            ),
            ("employer", "工作单位与申请填写是否一致？", "Is the employer the one stated?", YES_NO, [], True, False),
            ("income", "月收入与申请填写是否相符？", "Does the monthly income match?", YES_NO, [], True, False),
            (
                "purpose",
                "借款用途（请借款人本人说明）",
                "Purpose of the loan, in the borrower's words",
                TEXT,
                [],
                "与申请一致",
                "与申请不一致",
            ),
            (
                "knows_of_application",
                "借款人本人是否知晓并认可本次申请？",
                "Does the borrower know of and confirm the application?",
                YES_NO,
                [],
                True,
                False,
            ),
        ),
    ),
    FollowUpKind.CONSULTATION: (
        "客户咨询记录",
        "Consultation",
        (
            (
                "topic",
                "咨询事项",
                "What the customer asked about",
                CHOICE,
                _choices(
                    ("progress", "审批进度", "Progress"),
                    ("product", "产品与利率", "Product and rate"),
                    ("materials", "所需材料", "Materials"),
                    ("other", "其他", "Other"),
                ),
                "progress",
                "other",
            ),
            ("answer_given", "答复内容", "What we answered", TEXT, [], "已说明", "需进一步核实"),
        ),
    ),
}

# Scripts (话术): (category, kind, Chinese title, English title, Chinese text, English text).
FOLLOWUP = ScriptTemplate.Category.FOLLOWUP
_OPEN_ZH = "{borrower_name}您好，我是本公司客户经理{officer_name}。"
_OPEN_EN = "Hello {borrower_name}, this is {officer_name}, your loan officer."
SCRIPTS = (
    (FOLLOWUP, FollowUpKind.FIRST, "首次回访话术", "First follow-up script",
     _OPEN_ZH + "您的{amount}借款已发放一个月，想了解一下资金是否已按合同约定用途使用、目前经营或工作是否正常。"
     "下一期还款日是{next_due_date}，请提前存足款项。感谢您的配合！",
     _OPEN_EN + " Your loan of {amount} went out a month ago; may I ask whether the money has been used as the "
     "contract says and how your work or business is going? Your next payment is due on {next_due_date}; please "
     "keep enough in your account. Thank you!"),
    (FOLLOWUP, FollowUpKind.SECOND, "第二次回访话术", "Second follow-up script",
     _OPEN_ZH + "这是放款后的例行回访，想了解一下近三个月收入是否有变化、是否新增其他借款。"
     "下一期还款日是{next_due_date}，有任何困难请及时与我联系。",
     _OPEN_EN + " This is our routine call three months after the loan: has your income changed, and have you taken "
     "on any new debts? Your next payment is due on {next_due_date}; please call me early if anything is difficult."),
    (FOLLOWUP, FollowUpKind.QUARTERLY, "季度回访话术", "Quarterly follow-up script",
     _OPEN_ZH + "按季度例行回访，打扰您几分钟。请问目前经营/工作情况、担保人和抵押物情况是否正常？"
     "下一期还款日是{next_due_date}。",
     _OPEN_EN + " This is our quarterly call and takes a few minutes: are your work or business, your guarantor "
     "and the collateral all in good order? Your next payment is due on {next_due_date}."),
    (FOLLOWUP, FollowUpKind.PRE_MATURITY, "到期前回访话术", "Pre-maturity follow-up script",
     _OPEN_ZH + "您的借款即将到期，想确认一下到期本金的还款资金是否已经落实。如有续贷或其他需要，请提前告诉我。",
     _OPEN_EN + " Your loan matures soon; is the money for the final repayment arranged? If you need to talk about a "
     "new loan or anything else, please let me know in good time."),
    (FOLLOWUP, FollowUpKind.OVERDUE_CALL, "逾期提醒话术", "Overdue call script",
     _OPEN_ZH + "系统显示您{next_due_date}的还款尚未到账，想了解一下是否遇到了什么情况。"
     "逾期会产生罚息并影响个人征信，请您尽快安排还款；如确有困难，我们可以一起商量解决办法。",
     _OPEN_EN + " Our records show the payment due on {next_due_date} has not arrived; may I ask what happened? A "
     "late payment accrues penalty interest and is reported to the credit bureau, so please pay as soon as you can; "
     "if you are in difficulty, we can look for a solution together."),
    (FOLLOWUP, FollowUpKind.EXTRA, "专项回访话术", "Extra follow-up script",
     _OPEN_ZH + "上次回访中了解到您的情况有些变化，今天想再跟进一下目前的进展，看看我们能提供哪些帮助。",
     _OPEN_EN + " At our last call you mentioned some changes; today I would like to hear how things are now and "
     "see how we can help."),
    (FOLLOWUP, FollowUpKind.VERIFICATION_CALL, "贷前核实话术", "Verification call script",
     _OPEN_ZH + "我们收到了以您名义提交的{amount}借款申请，需要跟您本人核实几项信息：身份、工作单位、收入和借款用途。"
     "请问这笔申请是您本人知晓并同意的吗？",
     _OPEN_EN + " We have received a loan application of {amount} in your name and need to confirm a few details "
     "with you in person: your identity, employer, income and the purpose. Did you make this application yourself?"),
    (FOLLOWUP, FollowUpKind.CONSULTATION, "客户咨询接待话术", "Consultation script",
     _OPEN_ZH + "很高兴为您服务，请问有什么可以帮您？",
     _OPEN_EN + " Thank you for calling; how can I help you?"),
    (ScriptTemplate.Category.PROGRESS, "", "审批进度答复", "Progress inquiry",
     "{borrower_name}您好，您的申请（{amount}）正在审核中，审核结果会通过短信通知您。如需补充材料，客户经理"
     "{officer_name}会主动联系您。",
     "Hello {borrower_name}, your application for {amount} is being reviewed; we will send you a text message with "
     "the result. If anything more is needed, {officer_name} will contact you."),
    (ScriptTemplate.Category.PRODUCT, "", "产品咨询答复", "Product inquiry",
     "{borrower_name}您好，我们提供个人消费、汽车、住房抵押和小微经营贷款，利率以年化利率（单利）明示，"
     "无其他隐性费用。具体额度和利率以审批结果为准。",
     "Hello {borrower_name}, we offer personal, car, mortgage and small-business loans; every rate is stated as a "
     "simple annual rate, with no hidden fees. The amount and rate are set by the approval."),
    (ScriptTemplate.Category.REPAYMENT, "", "还款提醒", "Repayment reminder",
     "{borrower_name}您好，温馨提示：您的下一期还款日为{next_due_date}，请在还款日前将款项存入还款账户。"
     "如已还款请忽略。",
     "Hello {borrower_name}, a friendly reminder: your next payment is due on {next_due_date}; please have it in "
     "your repayment account before then. If you have already paid, please ignore this message."),
    (ScriptTemplate.Category.SOFT_COLLECTION, "", "逾期温和提醒（合规催收）", "Overdue reminder (lawful collection)",
     "{borrower_name}您好，我是客户经理{officer_name}。您的借款（{amount}）有一期还款已逾期，逾期将按合同计收罚息"
     "并如实报送征信。请您尽快还款；如遇实际困难，可以申请协商还款方案。我们只在合理时间与您本人联系，"
     "不会向无关人员透露您的借款信息。",
     "Hello {borrower_name}, this is {officer_name}, your loan officer. A payment on your loan of {amount} is "
     "overdue; penalty interest accrues as the contract says and the delay is reported to the credit bureau. Please "
     "pay as soon as you can; if you are in real difficulty you may ask for a repayment arrangement. We contact only "
     "you, at reasonable hours, and never tell anyone else about your loan."),
    (ScriptTemplate.Category.SOFT_COLLECTION, "", "逾期正式提醒", "Overdue reminder (formal)",
     "{borrower_name}您好，您的借款已逾期且多次提醒未还。请于{next_due_date}前与客户经理{officer_name}联系并安排还款。"
     "如仍未处理，我们将依照合同和法律规定处理担保权利，相关逾期记录将报送征信。",
     "Hello {borrower_name}, your loan is overdue and our reminders have gone unanswered. Please contact "
     "{officer_name} and arrange payment by {next_due_date}. Otherwise we will act on the security as the contract "
     "and the law provide, and the delay will be reported to the credit bureau."),
    (ScriptTemplate.Category.COMPLAINT, "", "投诉受理答复", "Complaint response",
     "{borrower_name}您好，您反映的问题我们已经记录，将在3个工作日内核实并由{officer_name}回复您。"
     "感谢您的监督！",
     "Hello {borrower_name}, we have recorded your complaint; we will look into it and {officer_name} will reply "
     "within 3 business days. Thank you for telling us."),
)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """What happens to one loan's follow-up (the loan named by its application's purpose in postloan's demo)."""

    purpose: str
    kind: str
    story: str  # approved, completed, returned, attempt, lost_contact, warning_open, acknowledged, resolved
    days_ago: int | None = None  # the day of the record; None: the day it was due (two days ago at the latest)
    signals: tuple[str, ...] = ()
    summary: str = ""


# fmt: off
SCENARIOS = (
    Scenario("新房入住家具家电购置", FollowUpKind.FIRST, "approved",
             summary="借款人已购置家具家电并提供发票，工作稳定，还款正常。"),
    Scenario("购买比亚迪唐DM-i", FollowUpKind.FIRST, "approved",
             summary="车辆已上牌并办理抵押登记，借款人在职稳定，自动扣款正常。"),
    Scenario("以住房抵押用于父母养老及医疗支出", FollowUpKind.FIRST, "approved",
             summary="上门走访，抵押房产由借款人自住，状况良好；资金用于父母医疗，凭证齐全。"),
    Scenario("进口红酒备货（中秋国庆档期）", FollowUpKind.FIRST, "approved",
             summary="上门查看仓库，备货与合同用途一致，销售回款正常。"),
    Scenario("门店翻新及冷库设备采购", FollowUpKind.FIRST, "completed",
             summary="门店翻新已完工，冷库设备已到货安装，经营正常。"),
    Scenario("法律职业培训及境外交流费用", FollowUpKind.FIRST, "returned",
             summary="借款人称已报名培训。"),
    Scenario("婚礼及蜜月旅行费用", FollowUpKind.FIRST, "attempt"),
    Scenario("租房押金及家具购置", FollowUpKind.OVERDUE_CALL, "lost_contact"),
    Scenario("购买大众朗逸", FollowUpKind.OVERDUE_CALL, "warning_open", signals=("job_loss",),
             summary="借款人称已被门店辞退，暂无收入来源，无法给出还款时间。"),
    Scenario("汽修设备升级及配件备货", FollowUpKind.OVERDUE_CALL, "acknowledged",
             signals=("business_decline", "guarantor_problem"),
             summary="汽修部客流大幅下降，担保人（父亲）近期住院，借款人还款意愿尚可但资金紧张。"),
    Scenario("子女国际学校学费", FollowUpKind.SECOND, "resolved", days_ago=6, signals=("illness",),
             summary="借款人近期因病住院一个月，收入下降，表示出院后可恢复正常还款。"),
)
# fmt: on

HOURS = {"record": 10, "review": 15}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _answers(question_set: QuestionSet, sound: bool) -> dict:
    spec = {code: (good, bad) for code, *_, good, bad in QUESTION_SETS[question_set.kind][2]}
    return {question.code: spec[question.code][0 if sound else 1] for question in question_set.questions.all()}


def _seed_library() -> tuple[int, int]:
    created_sets = created_scripts = 0
    for kind, (name_zh, name_en, questions) in QUESTION_SETS.items():
        question_set, created = upsert(
            QuestionSet, kind=kind, is_active=True, defaults={"name_zh": name_zh, "name_en": name_en}
        )
        created_sets += created
        for position, (code, text_zh, text_en, answer_type, choices, *_) in enumerate(questions, start=1):
            upsert(
                Question,
                question_set=question_set,
                code=code,
                defaults={
                    "text_zh": text_zh,
                    "text_en": text_en,
                    "answer_type": answer_type,
                    "choices": choices,
                    "is_required": answer_type != TEXT or code != "notes",
                    "position": position,
                },
            )
    for category, kind, title_zh, title_en, body_zh, body_en in SCRIPTS:
        _, created = upsert(
            ScriptTemplate,
            category=category,
            kind=kind,
            title_zh=title_zh,
            defaults={"title_en": title_en, "body_zh": body_zh, "body_en": body_en, "is_active": True},
        )
        created_scripts += created
    return created_sets, created_scripts


def _risk_officer(branch_code: str) -> User:
    return User.objects.get(username=demo_username(Role.RISK_OFFICER, branch_code))


def _complete(followup: FollowUp, *, sound: bool, summary: str, signals=(), level: str = "") -> FollowUp:
    loan = followup.loan
    question_set = services.active_question_set(followup.kind)
    visit = followup.kind != FollowUpKind.OVERDUE_CALL and loan.principal >= 300000
    return services.followup_complete(
        followup=followup,
        by=followup.officer,
        subject=FollowUp.Subject.BORROWER,
        channel=FollowUp.Channel.VISIT if visit else FollowUp.Channel.PHONE,
        answers=_answers(question_set, sound),
        funds_used_as_contracted=True,
        repayment_ability=FollowUp.RepaymentAbility.STABLE if sound else FollowUp.RepaymentAbility.DECLINING,
        willingness=FollowUp.Willingness.GOOD if sound else FollowUp.Willingness.HESITANT,
        risk_signals=list(signals),
        risk_level=level or (FollowUp.RiskLevel.LOW if sound else FollowUp.RiskLevel.HIGH),
        summary=summary,
        next_steps="" if sound else "加密回访频率，每两周电话跟进一次，并提示风险经理关注。",
        location="借款人经营场所及抵押物所在地" if visit else "",
        attendees=f"{followup.officer}、{loan.borrower.name}" if visit else "",
    )


def _play(scenario: Scenario, followup: FollowUp, today: date) -> None:
    if scenario.days_ago is not None:
        day = today - timedelta(days=scenario.days_ago)
    else:
        # Two days ago at the latest: the review or acknowledgement the next day is still in the past.
        day = min(followup.due_on, today - timedelta(days=2))
    branch = followup.loan.branch.code
    risk_officer = _risk_officer(branch)
    story = scenario.story
    if story in ("attempt", "lost_contact"):
        tries = 1 if story == "attempt" else 3
        outcomes = ("no_answer", "busy", "no_answer")
        for n in range(tries):
            with time_machine.travel(_at(day - timedelta(days=tries - 1 - n), 10 + 2 * n, 15), tick=False):
                services.followup_attempt_log(
                    followup=FollowUp.objects.get(pk=followup.pk),
                    by=followup.officer,
                    outcome=outcomes[n],
                    note="电话无人接听，已发送短信请其回电。" if outcomes[n] == "no_answer" else "",
                )
        return
    sound = story in ("approved", "completed", "returned")
    with time_machine.travel(_at(day, HOURS["record"]), tick=False):
        _complete(followup, sound=sound, summary=scenario.summary, signals=scenario.signals)
    next_day = day + timedelta(days=1)
    with time_machine.travel(_at(next_day, HOURS["review"] if sound else 9, 30), tick=False):
        current = FollowUp.objects.get(pk=followup.pk)
        if story == "approved":
            services.followup_review(followup=current, by=risk_officer, decision="approve")
        elif story == "returned":
            services.followup_review(
                followup=current,
                by=risk_officer,
                decision="return",
                note="请补充培训机构名称和缴费凭证，并确认境外交流的时间安排。",
            )
        elif story in ("acknowledged", "resolved"):
            warning = RiskWarning.objects.get(followup=followup)
            services.warning_acknowledge(warning=warning, by=risk_officer, note="已联系客户经理了解情况，持续关注。")
            if story == "resolved":
                services.warning_request_extra_followup(
                    warning=warning,
                    by=risk_officer,
                    due_on=next_day + timedelta(days=10),
                    note="借款人出院后上门回访，核实收入恢复情况。",
                )
    if story == "resolved":
        with time_machine.travel(_at(next_day + timedelta(days=1), 16), tick=False):
            services.warning_resolve(
                warning=RiskWarning.objects.get(followup=followup),
                by=risk_officer,
                resolution="借款人已出院并恢复工作，本期按时还款；已安排专项回访跟进，风险可控。",
            )


def _verification_call(today: date) -> int:
    application = (
        Application.objects.filter(status=ApplicationStatus.INITIAL_REVIEW).select_related("branch").order_by("pk")
    ).first()
    if application is None or application.followups.filter(kind=FollowUpKind.VERIFICATION_CALL).exists():
        return 0
    reviewer = User.objects.get(username=demo_username(Role.REVIEWER, application.branch.code))
    with time_machine.travel(_at(today - timedelta(days=1), 10), tick=False):
        followup = services.application_contact_create(
            application=application, by=reviewer, kind=FollowUpKind.VERIFICATION_CALL
        )
    with time_machine.travel(_at(today - timedelta(days=1), 11), tick=False):
        question_set = services.active_question_set(FollowUpKind.VERIFICATION_CALL)
        services.followup_complete(
            followup=followup,
            by=reviewer,
            subject=FollowUp.Subject.BORROWER,
            channel=FollowUp.Channel.PHONE,
            answers=_answers(question_set, True),
            funds_used_as_contracted=None,
            repayment_ability=FollowUp.RepaymentAbility.STABLE,
            willingness=FollowUp.Willingness.GOOD,
            risk_signals=[],
            risk_level=FollowUp.RiskLevel.LOW,
            summary="借款人本人接听，身份、工作单位、收入及借款用途与申请一致，知晓并认可本次申请。",
            next_steps="",
        )
    return 1


HISTORY_AFTER_DAYS = 14


def _past_followups_done(today: date) -> int:
    """A real book's old follow-ups were done: complete and approve every planned one due more than two weeks ago
    (through the services, on its due day), so the officers' lists show this month's work, not a year of backlog.
    Overdue calls stay: an overdue loan's call still to make is what the officer should see."""
    old = (
        FollowUp.objects.filter(
            loan__isnull=False,
            kind__in=PLANNED_KINDS,
            status=FollowUpStatus.PLANNED,
            failed_attempts=0,
            due_on__lt=today - timedelta(days=HISTORY_AFTER_DAYS),
        )
        .select_related("loan__branch", "loan__borrower", "officer")
        .order_by("due_on", "pk")
    )
    done = 0
    for followup in old:
        with time_machine.travel(_at(followup.due_on, HOURS["record"]), tick=False):
            _complete(followup, sound=True, summary="借款人按约使用资金，经营及收入正常，还款意愿良好。")
        with time_machine.travel(_at(followup.due_on + timedelta(days=1), HOURS["review"]), tick=False):
            services.followup_review(
                followup=FollowUp.objects.get(pk=followup.pk),
                by=_risk_officer(followup.loan.branch.code),
                decision="approve",
            )
        done += 1
    return done


def seed(*, stdout) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        _seed(stdout=stdout)


def _seed(*, stdout) -> None:
    started = time.monotonic()
    today = local_today()
    sets, scripts = _seed_library()
    planned = followups_sweep_missing(today=today)
    loans = {loan.contract.application.purpose: loan for loan in Loan.objects.select_related("contract__application")}
    played = 0
    for scenario in SCENARIOS:
        loan = loans.get(scenario.purpose)
        if loan is None:
            continue
        followup = (
            FollowUp.objects.select_related("loan__branch", "loan__borrower", "officer")
            .filter(loan=loan, kind=scenario.kind)
            .order_by("sequence", "pk")
            .first()
        )
        if followup is None or followup.status != FollowUpStatus.PLANNED or followup.failed_attempts:
            continue
        _play(scenario, followup, today)
        played += 1
    played += _verification_call(today)
    played += _past_followups_done(today)
    stdout.write(
        f"followups: {sets} new question sets, {scripts} new scripts, {planned} follow-ups planned, "
        f"{played} new records, in {time.monotonic() - started:.1f} s."
    )
