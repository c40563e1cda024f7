"""Borrowers (and the portal accounts of those who use the portal), with identity numbers that pass core.identity's
checks and are stored exactly as the Borrower model stores them: a Fernet token (core.crypto), the keyed hash for
lookups and the masked copy.

Identity numbers and mobile numbers must be unique. Instead of remembering every number issued, the n-th borrower's
numbers come from n through a bijection (multiplying by a constant coprime to the size of the number space), so no
two borrowers share one and the numbers still look random.
"""

import random
from collections import deque
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import Role
from applications.models import Borrower, BorrowerKind, IdentityType, identity_lookup_hash
from core.crypto import encrypt_text
from core.identity import resident_id_check_char, uscc_check_char
from core.masking import mask_identity_number

from .copy import NULL, CopyWriter, Days, money, text
from .staff import FAMILY_NAMES, GIVEN_NAMES, Desk, Person

# County codes (GB/T 2260) of birthplaces, one per row of the identity space.
REGIONS = (
    "110105",
    "110108",
    "120101",
    "130102",
    "140105",
    "150102",
    "210102",
    "220102",
    "230102",
    "310104",
    "310115",
    "320106",
    "320505",
    "330106",
    "330203",
    "340104",
    "350102",
    "350203",
    "360102",
    "370102",
    "370202",
    "410105",
    "420103",
    "430104",
    "440106",
    "440305",
    "441900",
    "450103",
    "460106",
    "500103",
    "510107",
    "520102",
    "530102",
    "610113",
    "620102",
    "630104",
    "640104",
    "650104",
    "321002",
    "330402",
)
_BIRTH_START = 715_510  # date(1960, 1, 1).toordinal()
_BIRTH_DAYS = 16_000  # born 1960 to late 2003
_IDENTITY_SPACE = len(REGIONS) * _BIRTH_DAYS * 1000
_IDENTITY_STEP = 2_654_435_761  # odd and not a multiple of 5: coprime to the space (2^13 · 5^7 · …)
_MOBILE_SPACE = 10**9
_MOBILE_STEP = 387_420_489  # 3^18, coprime to 10^9
_USCC_BODY = 31**9
_USCC_STEP = 1_000_003

CITIES = {
    "HQ": ("北京市西城区", ("金融大街", "复兴门内大街", "西单北大街")),
    "BJ": ("北京市朝阳区", ("望京街", "建国路", "朝阳北路", "东三环中路")),
    "SH": ("上海市浦东新区", ("世纪大道", "张杨路", "浦东南路", "陆家嘴环路")),
    "GZ": ("广州市天河区", ("天河路", "体育西路", "中山大道西", "黄埔大道")),
    "SZ": ("深圳市南山区", ("科技园路", "南海大道", "深南大道", "后海大道")),
    "HZ": ("杭州市西湖区", ("文三路", "天目山路", "教工路", "古墩路")),
    "CD": ("成都市高新区", ("天府大道", "益州大道", "府城大道", "锦城大道")),
    "WH": ("武汉市江汉区", ("解放大道", "建设大道", "新华路", "青年路")),
    "NJ": ("南京市鼓楼区", ("中山路", "中央路", "北京西路", "湖南路")),
}
EMPLOYERS = (
    "中国移动通信集团",
    "国家电网公司",
    "平安保险集团",
    "华为技术有限公司",
    "中国建筑第三工程局",
    "腾讯科技有限公司",
    "市第一人民医院",
    "区实验小学",
    "京东物流",
    "顺丰速运",
    "美团外卖",
    "万科物业",
)
SHOP_KINDS = ("餐饮店", "便利店", "服装店", "五金店", "水果店", "汽修店", "美容店", "烘焙坊")
BRANDS = ("恒通", "鑫源", "华盛", "宏达", "瑞丰", "嘉禾", "中联", "永泰", "利民", "东方")
INDUSTRIES = ("商贸", "科技", "建材", "物流", "食品", "电子", "服饰", "印务")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "outlook.com")

BORROWER_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "identity_type",
    "identity_number",
    "identity_hash",
    "identity_masked",
    "kind",
    "name",
    "legal_representative",
    "birth_date",
    "mobile",
    "email",
    "address",
    "employer",
    "monthly_income",
    "monthly_debt_payments",
    "years_at_job",
    "branch_id",
    "created_by_id",
    "user_id",
    "sms_reminders",
    "email_reminders",
    "contact_from_hour",
    "contact_to_hour",
)
USER_COLUMNS = (
    "id",
    "password",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "display_name",
    "phone",
    "branch_id",
    "preferred_language",
    "approval_limit",
)
USER_GROUP_COLUMNS = ("id", "user_id", "group_id")
# Share of borrowers who use the portal: most of those who got a loan, fewer of those who did not.
PORTAL_SHARE_WITH_LOAN = 0.45
PORTAL_SHARE_WITHOUT_LOAN = 0.2
ENGLISH_SHARE = 0.08
EMAIL_SHARE = 0.4
REPEAT_POOL = 400


@dataclass(frozen=True)
class BorrowerRef:
    """What the rest of the book needs to know about a borrower."""

    id: int
    kind: str
    name: str
    mobile: str
    email: str
    user_id: int | None
    language: str
    desk_id: int
    created_at: int


class Borrowers:
    """Writes borrowers (and their portal users); keeps a few hundred recent ones per branch and kind for repeat
    customers, so memory does not grow with the book."""

    def __init__(self, writer: CopyWriter, days: Days, *, password: str):
        self.days = days
        self.borrowers = writer.table(Borrower, BORROWER_COLUMNS)
        self.users = writer.table(User, USER_COLUMNS)
        self.user_groups = writer.table(User.groups.through, USER_GROUP_COLUMNS)
        self.borrower_group = Group.objects.get_or_create(name=Role.BORROWER)[0].pk
        self.password = password
        self.default_language = settings.LANGUAGE_CODE
        # Per branch: the n-th person (company, mobile) of the branch at position p of D branches is number
        # n·D + p, so numbers are unique and a branch's borrowers do not depend on who generates the others.
        self.stride = 1
        self.counts: dict[tuple[int, str], int] = {}
        self.recent: dict[tuple[int, str], deque[BorrowerRef]] = {}

    def _next(self, desk: Desk, what: str) -> int:
        count = self.counts.get((desk.position, what), 0)
        self.counts[(desk.position, what)] = count + 1
        return count * self.stride + desk.position

    def repeat(self, rng: random.Random, desk: Desk, kind: str) -> BorrowerRef | None:
        pool = self.recent.get((desk.id, kind))
        return rng.choice(pool) if pool else None

    def new(
        self, rng: random.Random, *, desk: Desk, officer: Person, kind: str, created_at: int, with_loan: bool
    ) -> BorrowerRef:
        """A new borrower taken in by `officer` at `created_at` (epoch seconds)."""
        days = self.days
        borrower_id = self.borrowers.new_id()
        city, roads = CITIES.get(desk.code, ("上海市黄浦区", ("南京东路", "人民大道")))
        person_name = rng.choice(FAMILY_NAMES) + rng.choice(GIVEN_NAMES)
        if kind == BorrowerKind.COMPANY:
            index = self._next(desk, "company")
            identity_type, number = IdentityType.USCC, _uscc(index)
            name = f"{city[:2]}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}有限公司"
            representative, birth, employer = person_name, NULL, ""
            income = rng.randrange(80_000, 1_500_000) * 100
        else:
            index = self._next(desk, "person")
            identity_type, number, born = _resident_id(index)
            birth = days.iso(born)
            representative = ""
            if kind == BorrowerKind.SOLE_PROPRIETOR:
                name = person_name
                employer = f"{city[3:] or city}{person_name[0]}记{rng.choice(SHOP_KINDS)}"
                income = rng.randrange(20_000, 200_000) * 100
            else:
                name = person_name
                employer = rng.choice(EMPLOYERS)
                income = int(5_000 * (1 + rng.paretovariate(2.5)) * 0.8) * 100
        mobile = _mobile(self._next(desk, "mobile"))
        email = ""
        if rng.random() < EMAIL_SHARE:
            email = f"u{mobile[-8:]}@{rng.choice(EMAIL_DOMAINS)}"
        address = (
            f"{city}{rng.choice(roads)}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋{rng.randrange(101, 2800)}室"
        )
        debts = income * rng.randrange(0, 30) // 100
        user_id = None
        language = self.default_language
        if rng.random() < (PORTAL_SHARE_WITH_LOAN if with_loan else PORTAL_SHARE_WITHOUT_LOAN):
            user_id = self.users.new_id()
            language = "en" if rng.random() < ENGLISH_SHARE else self.default_language
            joined = days.moment(created_at + rng.randrange(3600, 5 * 86400))
            self.users.add(
                f"{user_id}\t{self.password}\t{NULL}\tf\tborrower-{borrower_id}\t\t\t{email}\tf\tt\t{joined}\t"
                f"{text(name)}\t\t{NULL}\t{language}\t0.00\n"
            )
            self.user_groups.add(f"{self.user_groups.new_id()}\t{user_id}\t{self.borrower_group}\n")
        created = days.moment(created_at)
        self.borrowers.add(
            f"{borrower_id}\t{created}\t{created}\t{identity_type}\t{encrypt_text(number)}\t"
            f"{identity_lookup_hash(identity_type, number)}\t{mask_identity_number(number)}\t{kind}\t{text(name)}\t"
            f"{representative}\t{birth}\t{mobile}\t{email}\t{text(address)}\t{text(employer)}\t{money(income)}\t"
            f"{money(debts)}\t{rng.randrange(0, 20)}\t{desk.id}\t{officer.id}\t{NULL if user_id is None else user_id}\t"
            f"t\tt\t9\t18\n"
        )
        ref = BorrowerRef(
            id=borrower_id,
            kind=kind,
            name=name,
            mobile=mobile,
            email=email,
            user_id=user_id,
            language=language,
            desk_id=desk.id,
            created_at=created_at,
        )
        pool = self.recent.setdefault((desk.id, kind), deque(maxlen=REPEAT_POOL))
        pool.append(ref)
        return ref


def _resident_id(index: int) -> tuple[str, str, int]:
    """The index-th resident identity number: (type, number, birth day ordinal); unique per index."""
    scrambled = (index * _IDENTITY_STEP + 12_345_677) % _IDENTITY_SPACE
    rest, sequence = divmod(scrambled, 1000)
    region, day = divmod(rest, _BIRTH_DAYS)
    born = _BIRTH_START + day
    first17 = f"{REGIONS[region]}{date.fromordinal(born):%Y%m%d}{sequence:03d}"
    return IdentityType.RESIDENT_ID, first17 + resident_id_check_char(first17), born


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc(index: int) -> str:
    """The index-th unified social credit code: 91 (company, industry and commerce), a region, an organisation code."""
    scrambled = (index * _USCC_STEP + 7_777) % _USCC_BODY
    body = []
    for _position in range(9):
        scrambled, digit = divmod(scrambled, 31)
        body.append(_USCC_CHARS[digit])
    first17 = f"91{REGIONS[index % len(REGIONS)]}{''.join(body)}"
    return first17 + uscc_check_char(first17)


def _mobile(index: int) -> str:
    scrambled = (index * _MOBILE_STEP + 123_456_789) % _MOBILE_SPACE
    return f"1{3 + index % 7}{scrambled:09d}"
