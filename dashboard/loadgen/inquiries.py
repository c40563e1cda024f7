"""Borrowers' inquiries from the portal, routed as followups.services.inquiries.route does (the officer of the loan
or application, complaints to the branch manager), with the reply due time in working hours, the first reply, and the
satisfaction rating some borrowers leave after an answer."""

import random
from datetime import datetime

from core.dates import SHANGHAI, add_working_hours, working_minutes_between
from followups.models import Inquiry, InquiryCategory, InquiryReply, InquiryStatus
from followups.services.inquiries import TARGET_HOURS

from .copy import NULL, CopyWriter, Days, day_of, text, to_date
from .followups import SURVEY_SHARE, _rating
from .staff import Desk, Person

C = InquiryCategory
HOUR = 3600
DAY = 86400
QUESTIONS = {
    C.PROGRESS: ("请问我的贷款申请审批到哪一步了？", "提交的资料是否齐全，还需要补充什么？", "大概什么时候可以放款？"),
    C.REPAYMENT: (
        "这个月的还款金额是多少？可以提前还款吗？",
        "我已经转账还款，为什么系统还显示未还？",
        "还款日可以调整到每月20号吗？",
        "提前结清需要支付违约金吗？",
    ),
    C.PRODUCT: ("你们的经营贷最长可以贷多久？", "续贷需要重新提交资料吗？", "可以增加贷款额度吗？"),
    C.COMPLAINT: ("客户经理多次打电话催收，影响我正常工作。", "还款后罚息计算有误，请核实。"),
    C.OTHER: ("需要开具贷款结清证明，怎么办理？", "我的手机号码换了，怎么修改？"),
}
REPLIES = {
    C.PROGRESS: "您好，您的申请正在审核中，我们会在审核完成后第一时间通知您。",
    C.REPAYMENT: "您好，已为您核实还款情况，本期应还金额及还款账户请以贷款页面显示为准，如有疑问请随时联系。",
    C.PRODUCT: "您好，感谢您的咨询，具体产品条件请以客户经理介绍为准，我会尽快与您联系。",
    C.COMPLAINT: "您好，非常抱歉给您带来不便，我们已核实情况并督促整改，感谢您的反馈。",
    C.OTHER: "您好，您的问题已收到，我们已为您办理，如有其他问题请随时联系我们。",
}
CATEGORIES_WITH_LOAN = ((C.REPAYMENT, 0.5), (C.PRODUCT, 0.18), (C.OTHER, 0.2), (C.PROGRESS, 0.07), (C.COMPLAINT, 0.05))

INQUIRY_COLUMNS = (
    "id",
    "number",
    "borrower_id",
    "application_id",
    "loan_id",
    "branch_id",
    "category",
    "question",
    "assignee_id",
    "status",
    "created_at",
    "target_hours",
    "due_at",
    "answered_at",
    "response_minutes",
)
REPLY_COLUMNS = ("id", "inquiry_id", "author_id", "text", "template_id", "created_at")
ASK_SHARE = 0.35  # of portal users with a loan, who asked at least once
ASK_AGAIN_SHARE = 0.3


def _aware(moment: int) -> datetime:
    return datetime.fromtimestamp(moment, SHANGHAI)


class Inquiries:
    def __init__(self, writer: CopyWriter, days: Days, numbers, *, now: int, surveys):
        self.days = days
        self.numbers = numbers
        self.now = now
        self.inquiries = writer.table(Inquiry, INQUIRY_COLUMNS)
        self.replies = writer.table(InquiryReply, REPLY_COLUMNS)
        self.surveys = surveys

    def for_loan(self, rng: random.Random, facts) -> None:
        """Questions a portal user asked while the loan ran (or about it since)."""
        if facts.borrower_user_id is None or rng.random() >= ASK_SHARE:
            return
        end = self.now - HOUR
        if facts.outcome.paid_off_on is not None:
            end = min(end, facts.disbursed_at + (facts.outcome.paid_off_on - facts.disbursed_on + 30) * DAY)
        count = 2 if rng.random() < ASK_AGAIN_SHARE else 1
        for _ in range(count):
            category = _pick(rng, CATEGORIES_WITH_LOAN)
            asked = rng.randrange(facts.disbursed_at + HOUR, max(end, facts.disbursed_at + 2 * HOUR))
            subject_application = facts.application_id if category == C.PROGRESS else None
            subject_loan = facts.id if category in (C.REPAYMENT, C.COMPLAINT) else None
            self.write(
                rng,
                borrower_id=facts.borrower_id,
                desk=facts.desk,
                officer=facts.officer,
                category=category,
                asked=asked,
                application_id=subject_application,
                loan_id=subject_loan,
            )

    def write(
        self,
        rng: random.Random,
        *,
        borrower_id: int,
        desk: Desk,
        officer: Person,
        category: str,
        asked: int,
        application_id: int | None,
        loan_id: int | None,
    ) -> None:
        days, now = self.days, self.now
        assignee = desk.managers[0] if category == C.COMPLAINT and desk.managers else officer
        hours = TARGET_HOURS[category]
        due_at = int(add_working_hours(_aware(asked), hours).timestamp())
        answered_at = None
        if asked < now - 2 * DAY or rng.random() < 0.5:
            answered_at = int(add_working_hours(_aware(asked), hours * rng.uniform(0.05, 1.6)).timestamp())
            if answered_at > now - 60:
                answered_at = None
        inquiry_id = self.inquiries.new_id()
        number = self.numbers.next("IQ", to_date(day_of(asked)).year, desk)
        minutes = NULL
        status = InquiryStatus.OPEN
        if answered_at is not None:
            status = InquiryStatus.ANSWERED
            minutes = working_minutes_between(_aware(asked), _aware(answered_at))
            self.replies.add(
                f"{self.replies.new_id()}\t{inquiry_id}\t{assignee.id}\t{text(REPLIES[category])}\t{NULL}\t"
                f"{days.moment(answered_at)}\n"
            )
            if rng.random() < SURVEY_SHARE * 2 and answered_at + DAY < now:
                self.surveys.add(
                    f"{self.surveys.new_id()}\t{borrower_id}\t{inquiry_id}\t{NULL}\t{assignee.id}\t{desk.id}\t"
                    f"inquiry\t{_rating(rng)}\t\t{days.moment(answered_at + rng.randrange(HOUR, DAY))}\n"
                )
        self.inquiries.add(
            f"{inquiry_id}\t{number}\t{borrower_id}\t{NULL if application_id is None else application_id}\t"
            f"{NULL if loan_id is None else loan_id}\t{desk.id}\t{category}\t{text(rng.choice(QUESTIONS[category]))}\t"
            f"{assignee.id}\t{status}\t{days.moment(asked)}\t{hours}\t{days.moment(due_at)}\t"
            f"{days.moment_or_null(answered_at)}\t{minutes}\n"
        )


def _pick(rng: random.Random, pairs) -> str:
    point, total = rng.random(), 0.0
    for value, weight in pairs:
        total += weight
        if point < total:
            return value
    return pairs[-1][0]
