"""The lender the book belongs to: branches, their staff in the role groups, and the loan products.

Existing branches, staff and products are reused; what is missing is created with the ORM (a few hundred rows):
eight branches and head office, and per branch ten officers, two reviewers, two approvers, two risk officers and a
manager. Business is skewed as at a real lender: a few big branches, and within a branch a Zipf-like spread over
officers (the first officer of a branch carries about four times the book of the tenth).
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from accounts.demo import DEMO_PASSWORD
from accounts.models import Branch, User
from accounts.roles import Role
from applications.demo import PRODUCTS as DEMO_PRODUCTS
from applications.models import Product
from core.schedules import ScheduleMethod
from core.seeding import upsert

# code, name, English name, share of the book (head office lends little itself)
BRANCHES = (
    ("HQ", "总行", "Head Office", 0.02),
    ("BJ", "北京朝阳支行", "Beijing Chaoyang Branch", 0.26),
    ("SH", "上海浦东支行", "Shanghai Pudong Branch", 0.19),
    ("GZ", "广州天河支行", "Guangzhou Tianhe Branch", 0.14),
    ("SZ", "深圳南山支行", "Shenzhen Nanshan Branch", 0.11),
    ("HZ", "杭州西湖支行", "Hangzhou Xihu Branch", 0.09),
    ("CD", "成都高新支行", "Chengdu Hi-Tech Branch", 0.08),
    ("WH", "武汉江汉支行", "Wuhan Jianghan Branch", 0.06),
    ("NJ", "南京鼓楼支行", "Nanjing Gulou Branch", 0.05),
)
# Staff each branch has at least (head office: one of each and two officers).
BRANCH_STAFF = {Role.OFFICER: 10, Role.REVIEWER: 2, Role.APPROVER: 2, Role.RISK_OFFICER: 2, Role.MANAGER: 1}
HEAD_OFFICE_STAFF = {Role.OFFICER: 2, Role.REVIEWER: 1, Role.APPROVER: 1, Role.RISK_OFFICER: 1, Role.MANAGER: 1}
APPROVER_LIMIT = Decimal("500000.00")
ZIPF_EXPONENT = 0.6

FAMILY_NAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "华",
    "建华",
    "建国",
    "建军",
    "玉兰",
    "玉梅",
    "海燕",
    "红",
    "鹏",
    "辉",
    "晨",
    "晓东",
    "晓明",
    "婷",
    "雪",
    "慧",
    "琳",
    "欣怡",
    "子涵",
    "浩然",
    "宇轩",
    "梓萱",
    "一诺",
    "俊杰",
    "思远",
    "嘉怡",
    "志强",
    "文博",
    "佳琪",
    "雨桐",
    "天宇",
    "梦琪",
    "国平",
    "春梅",
    "凤英",
    "立新",
    "海波",
    "晓燕",
    "丹",
    "亮",
    "斌",
    "波",
    "宁",
    "颖",
    "凯",
    "帅",
    "彬",
    "倩",
    "琴",
    "飞",
    "鑫",
    "昊",
    "瑶",
    "博",
    "佳",
    "悦",
    "璐",
    "萌",
    "畅",
    "阳",
    "楠",
    "晶",
)

# A short-term product for what the demo catalogue does not offer: bullet loans and terms of 3 to 12 months.
SHORT_TERM = {
    "name_zh": "短期周转贷",
    "name_en": "Short-term working-capital loan",
    "description_zh": "三至十二个月的短期周转，可一次性还本付息或先息后本。",
    "description_en": "Short-term funding for 3 to 12 months, repaid at maturity or interest first.",
    "methods": [
        ScheduleMethod.BULLET.value,
        ScheduleMethod.INTEREST_FIRST.value,
        ScheduleMethod.EQUAL_INSTALLMENT.value,
    ],
    "min_amount": Decimal("5000.00"),
    "max_amount": Decimal("300000.00"),
    "min_term_months": 3,
    "max_term_months": 12,
    "min_rate": Decimal("6.0000"),
    "max_rate": Decimal("15.4000"),
    "borrower_kinds": ["individual", "sole_proprietor", "company"],
    "min_age": 20,
    "max_age": 65,
    "min_monthly_income": Decimal("4000.00"),
    "max_dti": Decimal("60.00"),
    "requires_collateral": False,
    "requires_guarantor": False,
    "sla_initial_review_hours": 24,
    "sla_secondary_review_hours": 24,
}
PRODUCT_CODES = ("PERSONAL_CONSUMER", "SME_OPERATING", "MORTGAGE", "AUTO", "SHORT_TERM")


@dataclass(frozen=True)
class Person:
    """A staff member as rows refer to them."""

    id: int
    name: str
    phone: str
    language: str
    email: str
    approval_limit: int  # fen


@dataclass
class Desk:
    """One branch and its people; `officers` are in order of their share of the book."""

    id: int
    code: str
    name: str
    name_en: str
    is_head_office: bool
    share: float
    position: int = 0  # in the lender's list of branches
    biggest: bool = False  # the branch with the most loans: it has at least one of every state the book shows
    officers: list[Person] = field(default_factory=list)
    officer_weights: list[float] = field(default_factory=list)
    reviewers: list[Person] = field(default_factory=list)
    approvers: list[Person] = field(default_factory=list)
    risk_officers: list[Person] = field(default_factory=list)
    managers: list[Person] = field(default_factory=list)

    def officer(self, rng: random.Random) -> Person:
        return rng.choices(self.officers, cum_weights=self.officer_weights)[0]

    def approver_for(self, rng: random.Random, amount_fen: int) -> Person:
        """Approvers approve up to their limit; above it a manager approves (applications.services)."""
        able = [person for person in self.approvers if person.approval_limit >= amount_fen]
        return rng.choice(able or self.managers)

    def checker(self, rng: random.Random) -> Person:
        """Who confirms contracts and disbursements: an approver, or the manager."""
        return rng.choice(self.approvers + self.managers)


@dataclass
class Lender:
    desks: list[Desk]
    desk_weights: list[float]
    products: dict[str, Product]
    password: str  # the hash every generated account shares
    created_users: int = 0
    created_branches: int = 0

    def desk(self, rng: random.Random) -> Desk:
        return rng.choices(self.desks, cum_weights=self.desk_weights)[0]


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _staff_name(rng: random.Random) -> str:
    return rng.choice(FAMILY_NAMES) + rng.choice(GIVEN_NAMES)


def _ensure_branches() -> tuple[dict[str, Branch], int]:
    branches = {branch.code: branch for branch in Branch.objects.filter(is_active=True)}
    created = 0
    if not any(branch.is_head_office for branch in branches.values()):
        branches["HQ"], _new = upsert(
            Branch, code="HQ", defaults={"name": "总行", "name_en": "Head Office", "is_head_office": True}
        )
        created += 1
    for code, name, name_en, _share in BRANCHES[1:]:
        if code not in branches:
            branches[code], _new = upsert(Branch, code=code, defaults={"name": name, "name_en": name_en})
            created += 1
    return branches, created


def _ensure_staff(branches: dict[str, Branch], rng: random.Random, password: str) -> int:
    """Create the staff each branch lacks, with the shared password hash (DEMO_PASSWORD) so the bench can sign in."""
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role}
    have = Counter(
        User.objects.filter(is_active=True, branch__in=branches.values(), groups__name__in=list(Role))
        .values_list("branch_id", "groups__name")
        .order_by()
    )
    taken = set(User.objects.filter(username__startswith="load_").values_list("username", flat=True))
    wanted: list[tuple[User, str]] = []
    for code, branch in sorted(branches.items()):
        for role, count in (HEAD_OFFICE_STAFF if branch.is_head_office else BRANCH_STAFF).items():
            for number in range(have[(branch.pk, role)] + 1, count + 1):
                username = f"load_{code.lower()}_{role}_{number:02d}"
                if username in taken:
                    continue
                user = User(
                    username=username,
                    password=password,
                    display_name=_staff_name(rng),
                    email=f"{username}@load.loantrack.local",
                    phone=f"13{rng.randrange(5, 10)}{rng.randrange(10**8):08d}",
                    branch=branch,
                    approval_limit=APPROVER_LIMIT if role == Role.APPROVER else Decimal("0.00"),
                )
                wanted.append((user, role))
    User.objects.bulk_create([user for user, _role in wanted])
    created = {user.username: user.pk for user in User.objects.filter(username__in=[u.username for u, _r in wanted])}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=created[user.username], group_id=groups[role].pk) for user, role in wanted]
    )
    return len(wanted)


def _people(branch: Branch, role: str) -> list[Person]:
    users = (
        User.objects.filter(branch=branch, groups__name=role, is_active=True)
        .order_by("pk")
        .values_list("pk", "display_name", "username", "phone", "preferred_language", "email", "approval_limit")
    )
    return [
        Person(
            id=pk,
            name=display_name or username,
            phone=phone,
            language=language,
            email=email,
            approval_limit=int(limit * 100),
        )
        for pk, display_name, username, phone, language, email, limit in users
    ]


def _ensure_products() -> dict[str, Product]:
    """The demo catalogue (applications.demo, upserted unchanged) plus the short-term product."""
    products = {}
    for code in PRODUCT_CODES:
        fields = SHORT_TERM if code == "SHORT_TERM" else DEMO_PRODUCTS[code]
        existing = Product.objects.filter(code=code).first()
        products[code] = existing or upsert(Product, code=code, defaults=fields)[0]
    return products


def lender_setup(seed: int) -> Lender:
    """Branches, staff and products: reused where they exist, created where they do not. Staff names come from a
    random stream of their own, so the book drawn afterwards is the same whether the staff existed or not."""
    branches, created_branches = _ensure_branches()
    password = make_password(DEMO_PASSWORD)
    created_users = _ensure_staff(branches, random.Random(f"staff:{seed}"), password)
    shares = {code: share for code, _name, _en, share in BRANCHES}
    desks = []
    for code, branch in sorted(branches.items(), key=lambda item: (not item[1].is_head_office, item[0])):
        # A branch not in our list (an existing one) gets an average share.
        share = shares.get(code, 0.02 if branch.is_head_office else 0.08)
        desk = Desk(
            id=branch.pk,
            code=code,
            name=branch.name,
            name_en=branch.name_en,
            is_head_office=branch.is_head_office,
            share=share,
            officers=_people(branch, Role.OFFICER),
            reviewers=_people(branch, Role.REVIEWER),
            approvers=_people(branch, Role.APPROVER),
            risk_officers=_people(branch, Role.RISK_OFFICER),
            managers=_people(branch, Role.MANAGER),
        )
        desk.position = len(desks)
        desk.officer_weights = _cumulative([1 / (rank**ZIPF_EXPONENT) for rank in range(1, len(desk.officers) + 1)])
        desks.append(desk)
    return Lender(
        desks=desks,
        desk_weights=_cumulative([desk.share for desk in desks]),
        products=_ensure_products(),
        password=password,
        created_users=created_users,
        created_branches=created_branches,
    )
