"""Demo borrower logins for the portal, made through the same services an officer and a borrower use.

Runs last (INSTALLED_APPS order), on the borrowers, applications and loans of the earlier demo modules:

- 张伟 (Beijing) has a loan repaid on time. His officer invited him a couple of weeks ago and he set his password.
  Yesterday (the last business day) his officer submitted a new car-loan application that the reviewer took up and
  in which she rejected the proof of income, so the portal shows what is missing. He asked how to pay (answered
  from the reply library) and, now, how his application is doing (waiting for a reply).
- 朱琳 (Shanghai) has no loan: a draft application with documents missing, whose risk disclosure her officer has
  asked her to acknowledge on the portal.

Each step runs under `time_machine` on the day and hour it happened, so its rows and outbox messages carry that
time. The messages due by now are then sent through the outbox (`message_send`, console SMS in development), at the
time they became due, so that the portal's Messages page has them; a message whose time is still in the borrowers'
quiet hours stays queued for the worker.

Idempotent: a borrower who has a portal user is not invited again, the application is keyed by (borrower,
purpose), the inquiries are made only for a borrower who has none, the disclosure is asked for once.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import time_machine
from django.conf import settings
from django.utils import timezone, translation

from accounts.demo import DEMO_PASSWORD, demo_username
from accounts.models import User
from accounts.roles import Role
from applications import demo as application_demo
from applications import portal as portal_services
from applications import services as application_services
from applications.models import Application, ApplicationStatus, Borrower, Product
from core.dates import SHANGHAI, is_business_day, local_today
from followups.models import Inquiry, InquiryCategory, ReplyTemplate
from followups.services import inquiries as inquiry_services
from notifications.models import OutboxMessage
from notifications.services import message_send
from postloan.models import Loan
from postloan.models.loans import OPEN_LOAN_STATUSES

LANGUAGE = "zh-hans"
REPLY_TEMPLATE = "repayment-how-to-pay"
# The console SMS backend logs every message; the replayed sends say nothing to whoever runs the seed.
SMS_LOGGER = logging.getLogger("notifications.sms")


@dataclass(frozen=True)
class InReview:
    """The application the borrower has in initial review, with the material the reviewer rejects."""

    product: str
    amount: str
    term: int
    rate: str
    purpose: str
    collateral: tuple[str, str, str] | None
    rejected: str  # the requirement code of the rejected material (the builder rejects the last one uploaded)
    reason: str


# 张伟: loan HT…(新房入住家具家电购置, on time) in postloan's demo.
LOAN_BORROWER = "zhangwei"
IN_REVIEW = InReview(
    product="AUTO",
    amount="120000",
    term=36,
    rate="5.90",
    purpose="购买新能源汽车（小鹏MONA M03）",
    collateral=(application_demo.CAR, "小鹏MONA M03 2025款，购车价15.8万元", "158000"),
    rejected="income_proof",
    reason="收入证明未加盖单位公章，请由单位人事部门重新开具并盖章后上传。",
)
REPAYMENT_QUESTION = (
    "您好，我下个月起想改用工资卡还款。请问下一期还款日是哪天、应还多少？如果当月卡里余额不够，可以到柜台还款吗？"
)
REPAYMENT_REPLY = "您好，请在每期到期日前将应还款项存入放款账户，我们将自动扣款；也可以到支行柜台还款。"
PROGRESS_QUESTION = (
    "您好，收到短信说收入证明需要重新提供，单位盖章的新证明我已经拿到了，是直接在门户上传就可以吗？审核大概还要几天？"
)
# 朱琳: the draft application (二手房装修) of the applications demo.
APPLICATION_BORROWER = "zhulin"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _business_day_before(day: date, count: int) -> date:
    """The `count`-th business day before `day`."""
    while count:
        day -= timedelta(days=1)
        count -= is_business_day(day)
    return day


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _borrower(key: str) -> Borrower | None:
    person = next(person for person in application_demo.BORROWERS if person.key == key)
    identity_type, number = application_demo._identity(person)
    return application_services.borrower_find(identity_type=identity_type, identity_number=number)


def _staff(branch: str, *roles: str) -> dict[str, User]:
    return {role: User.objects.get(username=demo_username(role, branch)) for role in roles}


def _on(when: datetime | None):
    """Run on `when` (the clock stopped there), or now."""
    return time_machine.travel(when, tick=False) if when else nullcontext()


def _portal_account(borrower: Borrower, officer: User, *, invited_at=None, accepted_at=None) -> bool:
    """Invite the borrower and accept the invitation with the demo password; False if they have an account."""
    if borrower.user_id:
        return False
    with _on(invited_at):
        _invitation, token = portal_services.borrower_invite(borrower=borrower, by=officer)
    with _on(accepted_at):
        portal_services.invitation_accept(token=token, password=DEMO_PASSWORD, language=LANGUAGE)
    return True


def _application_in_review(borrower: Borrower, opened: date, reviewed: date) -> Application | None:
    """The officer opens and submits the application, the reviewer takes it up and rejects one material."""
    if Application.objects.filter(borrower=borrower, purpose=IN_REVIEW.purpose).exists():
        return None
    plan = application_demo.Plan(
        "BJ",
        LOAN_BORROWER,
        IN_REVIEW.product,
        IN_REVIEW.amount,
        IN_REVIEW.term,
        IN_REVIEW.rate,
        IN_REVIEW.purpose,
        "initial_review",
        0,
        collateral=IN_REVIEW.collateral,
    )
    builder = application_demo._Builder(
        plan,
        people=_staff("BJ", Role.OFFICER, Role.REVIEWER),
        borrower=borrower,
        product=Product.objects.get(code=IN_REVIEW.product),
        index=0,
    )
    steps = (
        (_at(opened, 10), builder.create),
        (_at(opened, 14, 20), builder.prepare),
        (_at(reviewed, 9, 30), builder.submit),
        (_at(reviewed, 11), builder.start_review),
        (_at(reviewed, 11, 40), lambda: builder.check_materials(reject_one=IN_REVIEW.reason)),
    )
    for when, step in steps:
        with _on(when):
            step()
    return builder.reload()


def _inquiries(borrower: Borrower, loan: Loan | None, application: Application | None, day: date) -> int:
    """An answered repayment question (yesterday, from the reply library) and an open progress question (now)."""
    if Inquiry.objects.filter(borrower=borrower).exists():
        return 0
    user = User.objects.get(pk=borrower.user_id)
    made = 0
    if loan is not None:
        with _on(_at(day, 12, 10)):
            inquiry = inquiry_services.inquiry_create(
                borrower=borrower, by=user, category=InquiryCategory.REPAYMENT, question=REPAYMENT_QUESTION, loan=loan
            )
        with _on(_at(day, 14, 25)):
            inquiry = Inquiry.objects.select_related("borrower__user", "branch", "loan", "assignee").get(pk=inquiry.pk)
            # The library is data (followups' migration 0003): a database flushed since, or an administrator, may
            # have removed the reply; the officer then writes it.
            template = ReplyTemplate.objects.filter(code=REPLY_TEMPLATE).first()
            text = inquiry_services.reply_fill(template=template, inquiry=inquiry) if template else REPAYMENT_REPLY
            inquiry_services.inquiry_reply(inquiry=inquiry, by=inquiry.assignee, text=text, template=template)
        made += 1
    if application is not None:
        inquiry_services.inquiry_create(
            borrower=borrower,
            by=user,
            category=InquiryCategory.PROGRESS,
            question=PROGRESS_QUESTION,
            application=application,
        )
        made += 1
    return made


def _disclosure_requested(borrower: Borrower) -> int:
    """The officer asks the borrower to acknowledge the risk disclosure of their draft on the portal."""
    asked = 0
    drafts = borrower.applications.filter(status=ApplicationStatus.DRAFT, disclosure_requested_at__isnull=True)
    for application in drafts.select_related("product", "officer", "borrower"):
        if application_services.has_current_acknowledgement(application):
            continue
        portal_services.disclosure_request(application=application, by=application.officer)
        asked += 1
    return asked


def _send_due(users: list[User]) -> int:
    """Send the borrowers' queued messages that are due by now, each at the time it became due."""
    now = timezone.now()
    pending = OutboxMessage.objects.filter(recipient__in=users, status=OutboxMessage.Status.PENDING).order_by(
        "next_attempt_at", "pk"
    )
    sent = 0
    with _quiet(SMS_LOGGER):
        for message in pending:
            when = max(message.created_at, message.next_attempt_at)
            if when > now:
                continue  # still in the quiet hours: the worker sends it in the morning
            with _on(when):
                result = message_send(message_id=message.pk)
            sent += result is not None and result.status == OutboxMessage.Status.SENT
    return sent


def seed(*, stdout) -> None:
    # Texts the services store as shown (timeline notes, assessment reasons) are in the site's default language.
    with translation.override(settings.LANGUAGE_CODE):
        _seed(stdout=stdout)


def _seed(*, stdout) -> None:
    started = time.monotonic()
    today = local_today()
    reviewed = _business_day_before(today, 1)
    opened = _business_day_before(today, 2)
    invited = _business_day_before(today, 10)
    accounts = applications = inquiries = disclosures = 0

    borrower = _borrower(LOAN_BORROWER)
    loan = borrower and borrower.loans.filter(status__in=OPEN_LOAN_STATUSES).order_by("-disbursed_on").first()
    if loan is not None:
        accounts += _portal_account(
            borrower, loan.officer, invited_at=_at(invited, 10), accepted_at=_at(invited, 19, 30)
        )
        borrower.refresh_from_db()
        application = _application_in_review(borrower, opened, reviewed)
        applications += application is not None
        application = application or borrower.applications.filter(purpose=IN_REVIEW.purpose).first()
        inquiries += _inquiries(borrower, loan, application, reviewed)

    second = _borrower(APPLICATION_BORROWER)
    draft = second and second.applications.filter(status=ApplicationStatus.DRAFT).select_related("officer").first()
    if draft is not None:
        accounts += _portal_account(second, draft.officer)
        second.refresh_from_db()
        disclosures += _disclosure_requested(second)

    logins = [person for person in (borrower, second) if person is not None and person.user_id]
    sent = _send_due([person.user for person in logins])
    names = ", ".join(f"{person.mobile} {person.name}" for person in logins)
    stdout.write(
        f"portal: borrower logins {names} (password {DEMO_PASSWORD}); {accounts} new accounts, "
        f"{applications} new applications, {inquiries} new inquiries, {disclosures} disclosure requests, "
        f"{sent} messages sent, in {time.monotonic() - started:.1f} s."
    )
