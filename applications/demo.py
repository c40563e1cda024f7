"""Demo products, borrowers and applications in every status, built through the services so timelines are real.

Idempotent by natural keys: a product by its code, a borrower by identity (borrower_create returns the existing one),
an application by (borrower, product, purpose). A second run creates nothing.

Each application is built step by step through the services (create, upload, disclose, assess, submit, review...).
Between steps its rows are moved back in time (`_rewind`), so the demo shows applications opened days or weeks ago,
some waiting past their review target and a few approvals that expired, instead of everything "just now".
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Min
from django.utils import translation

from accounts.demo import demo_username
from accounts.models import User
from accounts.roles import Role
from core.identity import resident_id_check_char, uscc_check_char
from core.seeding import upsert

from . import services
from .models import (
    Application,
    ApplicationEvent,
    Borrower,
    Collateral,
    CreditAssessment,
    DisclosureAcknowledgement,
    Material,
    MaterialRequirement,
    Party,
    Product,
    RejectionReason,
    Review,
    RiskDisclosure,
)

# --- products ---------------------------------------------------------------------------------------------------
PRODUCTS = {
    "PERSONAL_CONSUMER": {
        "name_zh": "个人消费贷",
        "name_en": "Personal consumer loan",
        "description_zh": "用于装修、教育、旅游、婚庆等个人消费，不得用于购房、投资或经营。",
        "description_en": "For home improvement, education, travel, weddings and other personal spending; "
        "not for buying property, investing or business.",
        "methods": ["equal_installment", "equal_principal"],
        "min_amount": Decimal("10000.00"),
        "max_amount": Decimal("500000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": Decimal("4.3500"),
        "max_rate": Decimal("12.0000"),
        "borrower_kinds": ["individual"],
        "min_age": 22,
        "max_age": 60,
        "min_monthly_income": Decimal("5000.00"),
        "max_dti": Decimal("55.00"),
        "requires_collateral": False,
        "requires_guarantor": False,
        "sla_initial_review_hours": 24,
        "sla_secondary_review_hours": 48,
    },
    "SME_OPERATING": {
        "name_zh": "小微企业经营贷",
        "name_en": "Small-business operating loan",
        "description_zh": "面向个体工商户和小微企业的经营周转贷款，用于采购、备货、设备和日常经营。",
        "description_en": "Working capital for sole proprietors and small companies: purchasing, stock, equipment "
        "and day-to-day operations.",
        "methods": ["equal_installment", "equal_principal", "interest_first"],
        "min_amount": Decimal("50000.00"),
        "max_amount": Decimal("3000000.00"),
        "min_term_months": 12,
        "max_term_months": 36,
        "min_rate": Decimal("4.3500"),
        "max_rate": Decimal("15.0000"),
        "borrower_kinds": ["sole_proprietor", "company"],
        "min_age": 22,
        "max_age": 65,
        "min_monthly_income": Decimal("20000.00"),
        "max_dti": Decimal("60.00"),
        "requires_collateral": False,
        "requires_guarantor": False,
        "sla_initial_review_hours": 48,
        "sla_secondary_review_hours": 72,
    },
    "MORTGAGE": {
        "name_zh": "房产抵押贷",
        "name_en": "Mortgage-backed loan",
        "description_zh": "以借款人或第三人名下房产作抵押，用于大额消费或经营周转，抵押率不超过评估价值的七成。",
        "description_en": "Secured on a property of the borrower or a third party, for large spending or working "
        "capital; at most 70% of the appraised value.",
        "methods": ["equal_installment", "equal_principal"],
        "min_amount": Decimal("100000.00"),
        "max_amount": Decimal("5000000.00"),
        "min_term_months": 12,
        "max_term_months": 120,
        "min_rate": Decimal("3.8500"),
        "max_rate": Decimal("9.8000"),
        "borrower_kinds": ["individual", "sole_proprietor"],
        "min_age": 22,
        "max_age": 70,
        "min_monthly_income": Decimal("8000.00"),
        "max_dti": Decimal("60.00"),
        "requires_collateral": True,
        "requires_guarantor": False,
        "sla_initial_review_hours": 48,
        "sla_secondary_review_hours": 72,
    },
    "AUTO": {
        "name_zh": "汽车消费贷",
        "name_en": "Vehicle loan",
        "description_zh": "用于购买自用乘用车（含新能源汽车），车辆办理抵押登记。",
        "description_en": "For buying a private passenger car (electric cars included); the car is registered as "
        "collateral.",
        "methods": ["equal_installment"],
        "min_amount": Decimal("30000.00"),
        "max_amount": Decimal("500000.00"),
        "min_term_months": 12,
        "max_term_months": 60,
        "min_rate": Decimal("4.5000"),
        "max_rate": Decimal("12.0000"),
        "borrower_kinds": ["individual"],
        "min_age": 18,
        "max_age": 65,
        "min_monthly_income": Decimal("5000.00"),
        "max_dti": Decimal("55.00"),
        "requires_collateral": False,
        "requires_guarantor": False,
        "sla_initial_review_hours": 24,
        "sla_secondary_review_hours": 48,
    },
}

# product code -> (code, Chinese name, English name, required)
MATERIALS = {
    "PERSONAL_CONSUMER": (
        ("id_card", "身份证正反面复印件", "Identity card, both sides", True),
        ("income_proof", "收入证明（加盖单位公章）", "Proof of income, stamped by the employer", True),
        ("bank_statement", "近6个月工资流水", "Salary account statements, last 6 months", True),
        ("credit_authorization", "个人征信查询授权书", "Credit report authorisation", True),
        ("purpose_proof", "用途证明（装修合同、学费通知等）", "Proof of purpose (contract, tuition notice…)", False),
    ),
    "SME_OPERATING": (
        ("business_license", "营业执照副本", "Business licence (copy)", True),
        ("representative_id", "经营者或法定代表人身份证", "Identity card of the owner or legal representative", True),
        ("business_statement", "近12个月经营流水", "Business account statements, last 12 months", True),
        ("financial_statements", "近一年财务报表", "Financial statements, last year", True),
        ("premises_lease", "经营场所租赁合同或产权证明", "Lease or title of the business premises", False),
    ),
    "MORTGAGE": (
        ("id_card", "身份证正反面复印件", "Identity card, both sides", True),
        ("property_certificate", "不动产权证书", "Real estate title certificate", True),
        (
            "marital_status",
            "婚姻状况证明（结婚证或单身声明）",
            "Marital status (marriage certificate or statement)",
            True,
        ),
        ("income_proof", "收入证明或经营流水", "Proof of income or business statements", True),
        ("valuation_report", "房产评估报告", "Property valuation report", False),
    ),
    "AUTO": (
        ("id_card", "身份证正反面复印件", "Identity card, both sides", True),
        ("driving_licence", "机动车驾驶证", "Driving licence", True),
        ("purchase_contract", "购车合同或订单", "Car purchase contract or order", True),
        ("income_proof", "收入证明", "Proof of income", True),
    ),
}

_DISCLOSURE_COMMON_ZH = (
    "一、借款人应按合同约定按期足额还款。逾期将按合同约定计收罚息（默认为执行利率的1.5倍），并可能依法报送金融信用信息"
    "基础数据库，影响您今后的融资和生活。\n"
    "二、贷款利率在合同期内按合同约定执行；如为浮动利率，还款额可能随市场利率变化而增加。\n"
    "三、请根据自身收入和负债情况量力而行，合理评估还款能力，切勿过度借贷，切勿以贷还贷。\n"
    "四、贷款资金须按约定用途使用，不得用于购房、股票、期货、理财等投资或其他违法违规用途；违反约定的，贷款人有权提前收回"
    "贷款。\n"
    "五、请妥善保管个人身份信息和合同资料，谨防冒名贷款和诈骗；本机构不会以任何名义要求您支付贷款前置费用。"
)
_DISCLOSURE_COMMON_EN = (
    "1. Repay in full and on time as the contract sets out. Late payments bear penalty interest (by default 1.5 times "
    "the contract rate) and may be reported to the national credit information database, which affects your future "
    "borrowing and daily life.\n"
    "2. The interest rate applies as agreed for the whole term; with a floating rate, your payments may rise when "
    "market rates rise.\n"
    "3. Borrow only what your income and existing debts allow you to repay; do not borrow too much, and do not "
    "borrow to repay other loans.\n"
    "4. Use the money only for the agreed purpose, never for buying property, shares, futures or other investments "
    "or for anything unlawful; otherwise the lender may call the loan in early.\n"
    "5. Keep your identity documents and contract safe and beware of fraud: we never ask for fees before a loan is "
    "paid out."
)
DISCLOSURE_EXTRA = {
    "PERSONAL_CONSUMER": ("", ""),
    "SME_OPERATING": (
        "\n六、经营贷款的还款来源为经营收入，经营状况恶化可能导致无法按期还款；担保人须承担连带保证责任。",
        "\n6. The loan is repaid from business income; if the business declines you may be unable to repay on time. "
        "A guarantor is jointly and severally liable.",
    ),
    "MORTGAGE": (
        "\n六、抵押房产须办理抵押登记。借款人不能按期还款的，贷款人有权依法处置抵押房产，处置所得不足以清偿的，借款人仍须"
        "继续偿还。",
        "\n6. The property is registered as collateral. If you cannot repay, the lender may sell it as the law "
        "allows, and you still owe whatever the sale does not cover.",
    ),
    "AUTO": (
        "\n六、所购车辆须办理抵押登记并投保商业保险，贷款结清前不得转让或再次抵押。",
        "\n6. The car is registered as collateral and must be insured; it may not be sold or pledged again until "
        "the loan is repaid.",
    ),
}


def _seed_products() -> dict[str, Product]:
    products = {}
    for code, fields in PRODUCTS.items():
        product, _created = upsert(Product, code=code, defaults=fields)
        products[code] = product
        for position, (item, name_zh, name_en, required) in enumerate(MATERIALS[code], start=1):
            upsert(
                MaterialRequirement,
                product=product,
                code=item,
                defaults={"name_zh": name_zh, "name_en": name_en, "is_required": required, "position": position},
            )
        extra_zh, extra_en = DISCLOSURE_EXTRA[code]
        # A published version is never edited (a change is a new version): create v1 once, leave it alone after.
        RiskDisclosure.objects.get_or_create(
            product=product,
            version=1,
            defaults={
                "text_zh": f"{product.name_zh}风险揭示书\n{_DISCLOSURE_COMMON_ZH}{extra_zh}",
                "text_en": f"Risk disclosure: {product.name_en}\n{_DISCLOSURE_COMMON_EN}{extra_en}",
            },
        )
    return products


# --- borrowers --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoBorrower:
    key: str
    branch: str
    name: str
    # individuals and sole proprietors: (birthplace region, birth date, sequence: odd for men, even for women)
    region: str = ""
    born: date | None = None
    sequence: int = 0
    kind: str = "individual"
    uscc_body: str = ""  # companies: the first 17 characters of the unified social credit code
    representative: str = ""
    mobile: str = ""
    address: str = ""
    employer: str = ""
    income: str = "0"
    debts: str = "0"
    years: int = 0


def _resident_id(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


BJ_ADDRESSES = (
    "北京市朝阳区望京西园三区312号楼2单元1104室",
    "北京市朝阳区建国路88号SOHO现代城5号楼1802室",
    "北京市海淀区中关村南大街12号院3号楼601室",
    "北京市东城区东直门南大街5号院2号楼905室",
    "北京市朝阳区亚运村安慧里四区11号楼703室",
    "北京市丰台区方庄芳古园一区6号楼1201室",
)
SH_ADDRESSES = (
    "上海市浦东新区张杨路1580弄12号1602室",
    "上海市浦东新区世纪大道1168号B座2105室",
    "上海市徐汇区漕溪北路398号汇智大厦11楼",
    "上海市浦东新区锦绣路2088弄7号502室",
    "上海市浦东新区金桥路1399弄22号301室",
    "上海市闵行区七莘路3333弄15号801室",
)

# fmt: off
BORROWERS = (
    # Beijing Chaoyang branch
    DemoBorrower("zhangwei", "BJ", "张伟", "110105", date(1986, 3, 14), 31, mobile="13810261457",
                 employer="北京华信云科技有限公司（软件工程师）", income="28000", debts="3200", years=6),
    DemoBorrower("lina", "BJ", "李娜", "110108", date(1990, 7, 2), 42, mobile="13911873320",
                 employer="北京市朝阳区第二实验小学（教师）", income="14500", debts="0", years=9),
    DemoBorrower("wanglei", "BJ", "王磊", "130102", date(1982, 11, 25), 17, mobile="15801234986",
                 employer="中建某局北京分公司（项目经理）", income="32000", debts="6500", years=12),
    DemoBorrower("liuyang", "BJ", "刘洋", "110101", date(1979, 5, 8), 55, mobile="13601098762",
                 employer="北京朝阳区某三甲医院（主治医师）", income="36000", debts="4000", years=15),
    DemoBorrower("chenjing", "BJ", "陈静", "370202", date(1993, 9, 19), 64, mobile="18611520934",
                 employer="北京京诚会计师事务所（审计师）", income="16800", debts="1200", years=4),
    DemoBorrower("yangfan", "BJ", "杨帆", "110105", date(1995, 1, 30), 73, mobile="17710086543",
                 employer="北京某网络技术有限公司（产品经理）", income="30000", debts="2500", years=3),
    DemoBorrower("zhaoli", "BJ", "赵丽", "210102", date(1988, 4, 11), 26, mobile="13501157723",
                 employer="北京国贸某酒店（前厅经理）", income="13500", debts="1800", years=7),
    DemoBorrower("huangzhiqiang", "BJ", "黄志强", "440305", date(1977, 12, 6), 91, mobile="13910654381",
                 employer="北京瑞丰投资咨询有限公司（合伙人）", income="68000", debts="9000", years=10),
    DemoBorrower("zhoumin", "BJ", "周敏", "110108", date(1991, 6, 23), 48, mobile="15010298874",
                 employer="北京市海淀区某事业单位（职员）", income="15000", debts="0", years=8),
    DemoBorrower("wuhao", "BJ", "吴昊", "320102", date(1987, 8, 17), 35, mobile="18810456219",
                 employer="北京新能智行汽车销售服务有限公司（销售总监）", income="26000", debts="3000", years=5),
    DemoBorrower("xuting", "BJ", "徐婷", "110105", date(1984, 2, 28), 82, mobile="13701076645",
                 employer="北京金融街某证券公司（投资经理）", income="52000", debts="8000", years=11),
    DemoBorrower("sunhaoran", "BJ", "孙浩然", "110101", date(1997, 10, 3), 19, mobile="17601233098",
                 employer="北京某生活服务平台公司（运营专员）", income="11000", debts="800", years=2),
    DemoBorrower("maxiaoyan", "BJ", "马晓燕", "640104", date(1989, 3, 21), 66, mobile="13311087452",
                 employer="北京某医学研究所（科研助理）", income="12500", debts="1500", years=5),
    DemoBorrower("hujun", "BJ", "胡军", "110105", date(1980, 7, 9), 57, mobile="13801349921",
                 employer="北京顺达物流有限公司（车队队长）", income="12000", debts="5200", years=8),
    DemoBorrower("tiantian", "BJ", "田甜", "110108", date(1994, 12, 12), 88, mobile="18500112736",
                 employer="北京某数字营销公司（设计师）", income="14000", debts="4800", years=3),
    DemoBorrower("caojianhua", "BJ", "曹建华", "410102", date(1978, 4, 15), 13, kind="sole_proprietor",
                 mobile="13681234570", employer="北京朝阳区建华家常菜馆（个体工商户）", income="45000",
                 debts="2000", years=9),
    DemoBorrower("yuanzhigang", "BJ", "袁志刚", "130203", date(1983, 10, 27), 39, kind="sole_proprietor",
                 mobile="13910987706", employer="北京十里河志刚建材经营部（个体工商户）", income="38000",
                 debts="3500", years=7),
    DemoBorrower("zhilianda", "BJ", "北京智联达信息技术有限公司", kind="company",
                 uscc_body="91110105MA01C5K3X", representative="邓超", mobile="13910023345",
                 employer="软件开发与信息系统集成", income="260000", debts="30000", years=6),
    DemoBorrower("hengxin", "BJ", "北京恒信通建材贸易有限公司", kind="company",
                 uscc_body="91110113MA04D7PK2", representative="袁立新", mobile="13701298854",
                 employer="建筑材料批发", income="420000", debts="60000", years=11),
    # Shanghai Pudong branch
    DemoBorrower("zhulin", "SH", "朱琳", "310115", date(1990, 5, 17), 24, mobile="13916278840",
                 employer="上海浦东某国有企业（人事经理）", income="21000", debts="2000", years=6),
    DemoBorrower("guopeng", "SH", "郭鹏", "310104", date(1985, 8, 1), 15, mobile="13817462093",
                 employer="上海张江某生物医药有限公司（研究员）", income="33000", debts="5000", years=8),
    DemoBorrower("hexue", "SH", "何雪", "330106", date(1992, 2, 9), 46, mobile="15921837765",
                 employer="上海陆家嘴某律师事务所（律师）", income="38000", debts="3000", years=5),
    DemoBorrower("gaoxiang", "SH", "高翔", "310115", date(1981, 11, 30), 59, mobile="13601736628",
                 employer="某航空公司上海分公司（机长）", income="65000", debts="12000", years=14),
    DemoBorrower("linxiaodong", "SH", "林晓东", "350102", date(1988, 1, 19), 77, mobile="18621057734",
                 employer="上海外高桥某国际物流有限公司（报关主管）", income="17500", debts="2200", years=6),
    DemoBorrower("luojia", "SH", "罗佳", "430102", date(1996, 6, 6), 28, mobile="17621980043",
                 employer="上海浦东新区某公立幼儿园（教师）", income="10500", debts="0", years=3),
    DemoBorrower("liangyu", "SH", "梁宇", "310115", date(1987, 9, 25), 93, mobile="13764318852",
                 employer="上海某汽车零部件有限公司（工程师）", income="24000", debts="3800", years=9),
    DemoBorrower("songqian", "SH", "宋倩", "310104", date(1993, 3, 3), 68, mobile="13524701186",
                 employer="上海某外资银行（客户经理）", income="27000", debts="1500", years=4),
    DemoBorrower("zhengkai", "SH", "郑凯", "320583", date(1984, 7, 14), 11, mobile="13901825567",
                 employer="上海浦东某金融信息服务有限公司（技术总监）", income="55000", debts="10000", years=7),
    DemoBorrower("xiefang", "SH", "谢芳", "310115", date(1979, 10, 21), 84, mobile="13585672290",
                 employer="上海浦东新区某社区卫生服务中心（护士长）", income="16000", debts="0", years=18),
    DemoBorrower("hanbing", "SH", "韩冰", "220102", date(1991, 12, 1), 36, mobile="18817356604",
                 employer="上海某广告传媒有限公司（客户总监）", income="23000", debts="6800", years=5),
    DemoBorrower("tangjun", "SH", "唐俊", "510107", date(1986, 4, 4), 53, mobile="13661950318",
                 employer="上海某建设工程有限公司（造价师）", income="36000", debts="2600", years=10),
    DemoBorrower("fengyaqin", "SH", "冯雅琴", "310104", date(1983, 8, 29), 62, mobile="13472210985",
                 employer="上海某三甲医院（药剂师）", income="19000", debts="1000", years=12),
    DemoBorrower("pandong", "SH", "潘东", "310115", date(1998, 2, 14), 75, mobile="19921305576",
                 employer="上海某电子商务有限公司（直播运营）", income="9500", debts="600", years=1),
    DemoBorrower("penglipeng", "SH", "彭丽萍", "360102", date(1981, 5, 20), 22, kind="sole_proprietor",
                 mobile="13916650312", employer="上海浦东丽萍服装店（个体工商户）", income="42000",
                 debts="3000", years=8),
    DemoBorrower("pujiangyuan", "SH", "上海浦江源食品贸易有限公司", kind="company",
                 uscc_body="91310115MA1K4R8T6", representative="许文", mobile="13801762245",
                 employer="预包装食品批发与进出口", income="380000", debts="45000", years=8),
    # Head office (Beijing)
    DemoBorrower("yuhai", "HQ", "于海", "110102", date(1976, 9, 9), 33, mobile="13801106692",
                 employer="某国有商业银行总行（部门经理）", income="48000", debts="6000", years=20),
    DemoBorrower("dongjie", "HQ", "董洁", "110102", date(1989, 11, 11), 44, mobile="13661377025",
                 employer="北京某会计师事务所（高级经理）", income="31000", debts="2800", years=7),
    DemoBorrower("xiaoran", "HQ", "萧然", "440106", date(1992, 4, 26), 71, mobile="18911528830",
                 employer="北京某游戏科技有限公司（美术总监）", income="35000", debts="4000", years=5),
    DemoBorrower("chengxi", "HQ", "程曦", "110102", date(1994, 8, 8), 86, mobile="15600983317",
                 employer="北京某律师事务所（律师）", income="29000", debts="1500", years=4),
    DemoBorrower("jiangwenbo", "HQ", "蒋文博", "370102", date(1985, 1, 16), 51, mobile="13520876649",
                 employer="北京某新能源科技有限公司（销售经理）", income="26000", debts="3000", years=6),
)
# fmt: on


def _identity(person: DemoBorrower) -> tuple[str, str]:
    if person.kind == "company":
        return "uscc", person.uscc_body + uscc_check_char(person.uscc_body)
    return "resident_id", _resident_id(person.region, person.born, person.sequence)


def _seed_borrowers(officers: dict[str, User]) -> tuple[dict[str, Borrower], list[int]]:
    borrowers, created_ids = {}, []
    addresses = {"BJ": BJ_ADDRESSES, "SH": SH_ADDRESSES, "HQ": BJ_ADDRESSES}
    for index, person in enumerate(BORROWERS):
        identity_type, number = _identity(person)
        pool = addresses[person.branch]
        borrower, created = services.borrower_create(
            by=officers[person.branch],
            identity_type=identity_type,
            identity_number=number,
            kind=person.kind,
            name=person.name,
            legal_representative=person.representative,
            birth_date=person.born,
            mobile=person.mobile,
            email=f"{person.key}@example.com" if index % 3 == 0 else "",
            address=pool[index % len(pool)],
            employer=person.employer,
            monthly_income=Decimal(person.income),
            monthly_debt_payments=Decimal(person.debts),
            years_at_job=person.years,
        )
        borrowers[person.key] = borrower
        if created:
            created_ids.append(borrower.pk)
    return borrowers, created_ids


# --- applications -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """One demo application: who, what, and how far through the workflow it went (`outcome`).

    `hours` is how long ago its last step happened (so, for one still in a queue, how long it has waited there)."""

    branch: str
    borrower: str
    product: str
    amount: str
    term: int
    rate: str
    purpose: str
    outcome: str
    hours: float
    method: str = "equal_installment"
    channel: str = "walk_in"
    stability: str = "stable"
    flags: tuple[str, ...] = ()
    guarantor: tuple[str, str, str] | None = None  # name, relationship, mobile
    collateral: tuple[str, str, str] | None = None  # kind, description, estimated value


HOUSE = "real_estate"
CAR = "vehicle"
# fmt: off
PLANS = (
    # --- Beijing ---------------------------------------------------------------------------------------------------
    Plan("BJ", "zhangwei", "PERSONAL_CONSUMER", "150000", 24, "6.50", "家庭装修（望京自住房全屋翻新）", "draft", 2),
    Plan("BJ", "lina", "AUTO", "180000", 36, "5.80", "购买新能源汽车（比亚迪汉EV）", "ready", 5,
         collateral=(CAR, "比亚迪汉EV 2025款，购车价23.8万元", "238000")),
    Plan("BJ", "wanglei", "PERSONAL_CONSUMER", "80000", 12, "7.20", "子女出国留学学费", "submitted", 3),
    Plan("BJ", "chenjing", "PERSONAL_CONSUMER", "50000", 12, "8.50", "婚礼及婚宴费用", "submitted", 30,
         method="equal_principal"),
    Plan("BJ", "liuyang", "MORTGAGE", "1200000", 120, "4.20", "以自有住房抵押，用于家庭大额消费", "submitted", 60,
         collateral=(HOUSE, "北京市朝阳区望京西园三区312号楼2单元1104室，建筑面积118.6㎡", "6800000")),
    Plan("BJ", "yangfan", "AUTO", "120000", 36, "6.20", "购买理想L6增程式SUV", "initial_review", 4,
         channel="referral"),
    Plan("BJ", "zhaoli", "PERSONAL_CONSUMER", "150000", 36, "7.80", "父母养老公寓入住费用", "initial_review", 30,
         stability="variable"),
    Plan("BJ", "caojianhua", "SME_OPERATING", "500000", 24, "6.80", "餐饮门店扩张及后厨设备采购",
         "secondary_review", 10, method="interest_first", stability="variable",
         guarantor=("曹建国", "兄弟", "13691123345")),
    Plan("BJ", "zhilianda", "SME_OPERATING", "800000", 36, "5.90", "采购服务器及支付研发人员工资",
         "secondary_review", 20, guarantor=("邓超", "法定代表人", "13910023345")),
    Plan("BJ", "huangzhiqiang", "MORTGAGE", "2000000", 120, "4.10", "房产抵押用于投资咨询公司经营周转",
         "secondary_review", 80, method="equal_principal",
         collateral=(HOUSE, "北京市朝阳区建国路88号SOHO现代城5号楼1802室，建筑面积156.2㎡", "9200000")),
    Plan("BJ", "zhoumin", "PERSONAL_CONSUMER", "100000", 24, "5.60", "家电及家具购置", "approved", 48),
    Plan("BJ", "wuhao", "AUTO", "250000", 60, "5.20", "购买特斯拉Model Y长续航版", "approved", 200,
         collateral=(CAR, "特斯拉Model Y长续航版，购车价29.9万元", "299000")),
    Plan("BJ", "yuanzhigang", "SME_OPERATING", "300000", 24, "7.50", "春季建材备货", "approved", 120,
         method="equal_principal", stability="variable"),
    Plan("BJ", "xuting", "MORTGAGE", "1500000", 96, "4.05", "以房产抵押用于装修及子女教育", "approved", 300,
         collateral=(HOUSE, "北京市东城区东直门南大街5号院2号楼905室，建筑面积132.0㎡", "8600000")),
    Plan("BJ", "hengxin", "SME_OPERATING", "1500000", 36, "5.50", "承接住宅项目建材供货所需流动资金", "approved", 96,
         guarantor=("袁立新", "法定代表人", "13701298854")),
    Plan("BJ", "sunhaoran", "PERSONAL_CONSUMER", "60000", 12, "9.80", "职业资格培训及考证费用", "returned_initial",
         24, stability="variable"),
    Plan("BJ", "maxiaoyan", "AUTO", "90000", 36, "6.80", "购买家用轿车（丰田卡罗拉）", "returned_secondary", 50),
    Plan("BJ", "hujun", "PERSONAL_CONSUMER", "300000", 36, "10.50", "偿还信用卡及其他借款", "rejected_initial", 100,
         stability="variable", flags=("current_overdue", "many_inquiries")),
    Plan("BJ", "tiantian", "PERSONAL_CONSUMER", "120000", 24, "9.20", "出境旅游及奢侈品消费", "rejected_secondary",
         150, flags=("overdue_30_in_12m",)),
    Plan("BJ", "zhangwei", "AUTO", "160000", 48, "6.00", "为家人购买第二辆车", "withdrawn", 72),
    Plan("BJ", "wanglei", "MORTGAGE", "900000", 120, "4.30", "以自有住房抵押用于子女婚房装修", "expired", 100,
         collateral=(HOUSE, "北京市丰台区方庄芳古园一区6号楼1201室，建筑面积98.4㎡", "5200000")),
    Plan("BJ", "lina", "PERSONAL_CONSUMER", "40000", 12, "6.90", "在职研究生学费", "resubmitted", 6),
    Plan("BJ", "yangfan", "PERSONAL_CONSUMER", "30000", 6, "8.80", "笔记本电脑及摄影器材", "withdrawn_draft", 20),
    Plan("BJ", "zhoumin", "AUTO", "200000", 48, "5.50", "购买小鹏G6", "expired", 300),
    Plan("BJ", "chenjing", "MORTGAGE", "800000", 60, "4.40", "以父母赠与房产抵押用于新房装修", "draft", 1),
    Plan("BJ", "caojianhua", "MORTGAGE", "600000", 60, "4.80", "以商铺抵押用于第二家门店装修",
         "returned_secondary", 30, stability="variable",
         collateral=(HOUSE, "北京市朝阳区亚运村安慧里四区11号楼底商，建筑面积86.0㎡", "3100000")),
    # --- Shanghai --------------------------------------------------------------------------------------------------
    Plan("SH", "zhulin", "PERSONAL_CONSUMER", "120000", 24, "5.90", "二手房装修", "draft", 3),
    Plan("SH", "guopeng", "AUTO", "220000", 48, "5.30", "购买蔚来ES6", "ready", 8,
         collateral=(CAR, "蔚来ES6 2025款，购车价33.8万元", "338000")),
    Plan("SH", "hexue", "PERSONAL_CONSUMER", "180000", 36, "6.20", "法学博士课程学费", "submitted", 2),
    Plan("SH", "gaoxiang", "MORTGAGE", "2500000", 120, "3.95", "以浦东自住房抵押用于大额消费", "submitted", 12,
         collateral=(HOUSE, "上海市浦东新区锦绣路2088弄7号502室，建筑面积142.3㎡", "11800000")),
    Plan("SH", "linxiaodong", "PERSONAL_CONSUMER", "70000", 12, "8.20", "购买家具家电", "submitted", 40,
         stability="variable"),
    Plan("SH", "luojia", "AUTO", "80000", 36, "7.50", "购买二手家用轿车", "initial_review", 2),
    Plan("SH", "liangyu", "PERSONAL_CONSUMER", "150000", 24, "6.60", "家庭装修及车位租赁费", "initial_review", 26),
    Plan("SH", "songqian", "AUTO", "260000", 60, "5.10", "购买宝马3系", "secondary_review", 6,
         collateral=(CAR, "宝马325Li 2025款，购车价32.9万元", "329000")),
    Plan("SH", "pujiangyuan", "SME_OPERATING", "1200000", 36, "5.20", "进口食品备货（春节档期）",
         "secondary_review", 50, guarantor=("许文", "法定代表人", "13801762245")),
    Plan("SH", "zhengkai", "MORTGAGE", "2000000", 120, "4.00", "以房产抵押用于大额消费及子女教育",
         "secondary_review", 90,
         collateral=(HOUSE, "上海市浦东新区世纪大道1168号B座2105室，建筑面积188.0㎡", "12500000")),
    Plan("SH", "xiefang", "PERSONAL_CONSUMER", "90000", 24, "5.40", "子女大学学费及生活费", "approved", 30),
    Plan("SH", "hanbing", "AUTO", "150000", 36, "6.40", "购买理想L7", "approved", 150,
         collateral=(CAR, "理想L7 Pro，购车价30.2万元", "302000")),
    Plan("SH", "penglipeng", "SME_OPERATING", "400000", 24, "7.20", "服装店秋冬季备货", "approved", 72,
         method="interest_first", stability="variable", guarantor=("周海涛", "配偶", "13916650318")),
    Plan("SH", "tangjun", "MORTGAGE", "1000000", 120, "4.15", "以房产抵押用于家庭大额消费", "approved", 400,
         collateral=(HOUSE, "上海市浦东新区张杨路1580弄12号1602室，建筑面积120.5㎡", "8900000")),
    Plan("SH", "fengyaqin", "PERSONAL_CONSUMER", "50000", 12, "6.00", "旅游及家庭开支", "returned_initial", 18),
    Plan("SH", "pandong", "PERSONAL_CONSUMER", "100000", 36, "11.50", "直播设备及个人消费", "rejected_initial", 60,
         stability="unstable", flags=("no_credit_history",)),
    Plan("SH", "hanbing", "PERSONAL_CONSUMER", "200000", 36, "9.50", "偿还网络借贷", "rejected_secondary", 200,
         stability="variable", flags=("many_inquiries", "overdue_30_in_12m")),
    Plan("SH", "guopeng", "PERSONAL_CONSUMER", "60000", 12, "6.00", "家庭旅游", "withdrawn", 48),
    Plan("SH", "zhulin", "AUTO", "100000", 36, "5.90", "购买比亚迪秦PLUS", "expired", 200),
    Plan("SH", "liangyu", "AUTO", "180000", 48, "5.70", "置换新车（极氪001）", "resubmitted", 20),
    Plan("SH", "penglipeng", "SME_OPERATING", "200000", 12, "8.00", "新开网店的推广费用", "withdrawn_draft", 100,
         stability="variable"),
    Plan("SH", "songqian", "PERSONAL_CONSUMER", "80000", 12, "5.80", "婚礼费用", "approved", 10),
    Plan("SH", "luojia", "PERSONAL_CONSUMER", "20000", 6, "9.00", "考研培训费", "draft", 30),
    Plan("SH", "xiefang", "AUTO", "60000", 24, "6.50", "为子女购买代步车", "returned_secondary", 70),
    Plan("SH", "tangjun", "PERSONAL_CONSUMER", "90000", 24, "6.30", "家庭装修（二期）", "submitted", 1),
    # --- Head office -----------------------------------------------------------------------------------------------
    Plan("HQ", "yuhai", "MORTGAGE", "1000000", 60, "4.10", "以西城区住房抵押用于子女留学费用", "approved", 60,
         collateral=(HOUSE, "北京市西城区金融大街27号院4号楼801室，建筑面积105.0㎡", "12000000")),
    Plan("HQ", "dongjie", "PERSONAL_CONSUMER", "150000", 24, "5.50", "家庭装修", "secondary_review", 5),
    Plan("HQ", "xiaoran", "AUTO", "200000", 36, "5.60", "购买小米SU7", "submitted", 8),
    Plan("HQ", "chengxi", "PERSONAL_CONSUMER", "80000", 12, "6.10", "律师执业进修课程", "rejected_initial", 120,
         flags=("litigation",)),
    Plan("HQ", "jiangwenbo", "AUTO", "150000", 36, "5.90", "购买问界M7", "initial_review", 3),
    Plan("HQ", "yuhai", "PERSONAL_CONSUMER", "60000", 12, "5.20", "家庭旅游及医疗支出", "withdrawn", 240),
    Plan("HQ", "dongjie", "AUTO", "120000", 36, "6.00", "购买家用SUV", "draft", 4),
    Plan("HQ", "xiaoran", "PERSONAL_CONSUMER", "50000", 12, "5.80", "数位屏及美术软件授权", "approved", 20),
    Plan("BJ", "xuting", "AUTO", "300000", 60, "5.40", "购买蔚来ET5T旅行版", "initial_review", 8,
         collateral=(CAR, "蔚来ET5T 2025款，购车价30.8万元", "308000")),
    Plan("SH", "hexue", "AUTO", "200000", 36, "5.60", "购买特斯拉Model 3", "returned_initial", 40),
)
# fmt: on

# Comments and reasons the demo reviewers write, by outcome.
PASS_COMMENTS = (
    "身份证件已与原件核对一致，收入证明与流水相符，用途合理，资料齐全，同意提交复核。",
    "资料真实完整，负债收入比在产品范围内，建议按申请金额审批。",
    "经电话核实工作单位及收入情况属实，征信无不良记录，同意报批。",
)
APPROVE_COMMENTS = (
    "借款人还款能力充足，同意按申请条件审批。",
    "综合评分良好，抵押物足值，同意审批，放款前须办妥抵押登记。",
    "经营流水稳定，担保人资质良好，同意审批。",
)
CHECKLIST_ALL = {
    "identity_verified": True,
    "income_consistent": True,
    "purpose_plausible": True,
    "materials_complete": True,
    "no_conflicts": True,
}


def _pdf_bytes(line: str) -> bytes:
    """A one-page PDF (valid xref table) saying what the demo document stands for; ASCII text only."""
    text = line.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 770 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# Every timestamp an application's rows carry, so that `_rewind` can move the whole application back in time.
def _shifts():
    return (
        (
            Application,
            "pk",
            (
                "created_at",
                "updated_at",
                "status_changed_at",
                "sla_due_at",
                "submitted_at",
                "approved_at",
                "expires_at",
            ),
        ),
        (ApplicationEvent, "application_id", ("created_at",)),
        (Review, "application_id", ("created_at",)),
        (Material, "application_id", ("created_at", "uploaded_at", "reviewed_at")),
        (DisclosureAcknowledgement, "application_id", ("acknowledged_at",)),
        (CreditAssessment, "application_id", ("assessed_at",)),
        (Application.history.model, "id", ("history_date",)),
        (Material.history.model, "application_id", ("history_date",)),
        (CreditAssessment.history.model, "application_id", ("history_date",)),
        (Party.history.model, "application_id", ("history_date",)),
        (Collateral.history.model, "application_id", ("history_date",)),
    )


def _rewind(application_id: int, hours: float) -> None:
    """Move everything recorded so far about one application `hours` back, as if it had happened then."""
    if hours <= 0:
        return
    delta = timedelta(hours=hours)
    for model, key, fields in _shifts():
        model.objects.filter(**{key: application_id}).update(**{name: F(name) - delta for name in fields})


class _Builder:
    """Takes one application through the services, step by step, with the demo users of its branch."""

    def __init__(self, plan: Plan, *, people: dict[str, User], borrower: Borrower, product: Product, index: int):
        self.plan, self.people, self.borrower, self.product, self.index = plan, people, borrower, product, index
        self.officer = people[Role.OFFICER]
        self.application: Application | None = None

    def reload(self) -> Application:
        self.application = Application.objects.select_related("borrower", "product").get(pk=self.application.pk)
        return self.application

    # steps -------------------------------------------------------------------------------------------------------
    def create(self) -> None:
        plan = self.plan
        self.application = services.application_create(
            by=self.officer,
            borrower=self.borrower,
            product=self.product,
            amount=Decimal(plan.amount),
            term_months=plan.term,
            method=plan.method,
            annual_rate=Decimal(plan.rate),
            purpose=plan.purpose,
            channel=plan.channel,
        )
        if plan.guarantor:
            name, relationship, mobile = plan.guarantor
            services.party_add(
                application=self.application,
                by=self.officer,
                role=Party.Role.GUARANTOR,
                name=name,
                relationship=relationship,
                mobile=mobile,
                address=self.borrower.address,
            )
        if plan.collateral:
            kind, description, value = plan.collateral
            services.collateral_add(
                application=self.application,
                by=self.officer,
                kind=kind,
                description=description,
                estimated_value=Decimal(value),
            )

    def upload(self, *, only_first: bool = False, statuses=(Material.Status.MISSING, Material.Status.REJECTED)) -> None:
        materials = self.application.materials.filter(status__in=statuses).select_related("requirement")
        # Optional items: the demo borrower brings about half of them.
        chosen = [m for m in materials if m.is_required or self.index % 2 == 0]
        for material in chosen[:1] if only_first else chosen:
            code = material.requirement.code if material.requirement else "extra"
            content = _pdf_bytes(f"LoanTrack demo document: {code} for application {self.application.number}")
            upload = SimpleUploadedFile(f"{material.name}.pdf", content, content_type="application/pdf")
            services.material_upload(material=material, by=self.officer, upload=upload)

    def prepare(self) -> None:
        self.upload()
        services.disclosure_acknowledge(application=self.application, by=self.officer)
        services.assessment_save(
            application=self.application,
            by=self.officer,
            income_stability=self.plan.stability,
            credit_flags=list(self.plan.flags),
        )

    def submit(self) -> None:
        services.application_submit(application=self.reload(), by=self.officer)

    def start_review(self) -> None:
        services.application_start_review(application=self.reload(), by=self.people[Role.REVIEWER])

    def check_materials(self, *, reject_one: str = "") -> None:
        reviewer = self.people[Role.REVIEWER]
        uploaded = list(self.application.materials.filter(status=Material.Status.UPLOADED).order_by("pk"))
        for position, material in enumerate(uploaded):
            if reject_one and position == len(uploaded) - 1:
                services.material_check(material=material, by=reviewer, accepted=False, reason=reject_one)
            else:
                services.material_check(material=material, by=reviewer, accepted=True)

    def review_initial(self, decision: str, comment: str, codes=()) -> None:
        services.application_review_initial(
            application=self.reload(),
            by=self.people[Role.REVIEWER],
            decision=decision,
            comment=comment,
            checklist=CHECKLIST_ALL
            if decision == "pass"
            else {**CHECKLIST_ALL, "materials_complete": False, "no_conflicts": decision != "reject"},
            rejection_codes=list(codes),
        )

    def decider(self) -> User:
        """The branch's approver when the amount and the assessment allow, else its manager."""
        approver = self.people[Role.APPROVER]
        hard_stops = CreditAssessment.objects.filter(application=self.application).values_list("hard_stops", flat=True)
        if services.may_approve_amount(approver, self.application.amount) and not any(hard_stops):
            return approver
        return self.people[Role.MANAGER]

    def review_secondary(self, decision: str, comment: str, codes=()) -> None:
        application = self.reload()
        approved = {}
        if decision == "approve":
            # Approvers often trim large requests a little and ask for conditions.
            amount = application.amount
            if amount >= Decimal("1000000") and self.index % 2:
                amount = (amount * Decimal("0.9") / 10000).quantize(Decimal("1")) * 10000
            approved = {
                "approved_amount": amount,
                "approved_rate": application.annual_rate,
                "approved_term_months": application.term_months,
                "conditions": "放款前须办妥抵押登记并提供他项权证。" if self.plan.collateral else "",
            }
        services.application_review_secondary(
            application=application,
            by=self.decider(),
            decision=decision,
            comment=comment,
            rejection_codes=list(codes),
            **approved,
        )

    def withdraw(self, reason: str) -> None:
        services.application_withdraw(application=self.reload(), by=self.officer, reason=reason)

    def expire(self) -> None:
        services.applications_expire()

    # the workflow up to each outcome -----------------------------------------------------------------------------
    def steps(self) -> list[tuple[float, Callable[[], None]]]:
        """(hours since the application was opened, step) pairs up to the plan's outcome."""
        pass_comment = PASS_COMMENTS[self.index % len(PASS_COMMENTS)]
        approve_comment = APPROVE_COMMENTS[self.index % len(APPROVE_COMMENTS)]
        opened = [(0, self.create)]
        prepared = [*opened, (3, self.prepare)]
        submitted = [*prepared, (22, self.submit)]
        in_review = [*submitted, (26, self.start_review)]
        passed = [*in_review, (27, self.check_materials), (29, lambda: self.review_initial("pass", pass_comment))]
        approved = [*passed, (44, lambda: self.review_secondary("approve", approve_comment))]
        returned = [
            *in_review,
            (27, lambda: self.check_materials(reject_one="扫描件模糊不清，请重新上传清晰的彩色扫描件。")),
            (28, lambda: self.review_initial("return", "部分材料不清晰，请补充后重新提交。")),
        ]
        return {
            "draft": [*opened, (1, lambda: self.upload(only_first=True))],
            "ready": prepared,
            "submitted": submitted,
            "initial_review": in_review,
            "secondary_review": passed,
            "approved": approved,
            "expired": [*approved, (44 + 24 * 30 + 1, self.expire)],
            "returned_initial": returned,
            "returned_secondary": [
                *passed,
                (46, lambda: self.review_secondary("return", "请补充借款人近3个月的个人所得税纳税记录，以核实收入。")),
            ],
            "resubmitted": [
                *returned,
                (50, lambda: self.upload(statuses=(Material.Status.REJECTED,))),
                (51, self.submit),
            ],
            "rejected_initial": [
                *in_review,
                (27, self.check_materials),
                (
                    30,
                    lambda: self.review_initial(
                        "reject",
                        "征信报告显示存在不良记录，负债水平较高，不符合产品准入要求。",
                        codes=(RejectionReason.POOR_CREDIT, RejectionReason.POLICY),
                    ),
                ),
            ],
            "rejected_secondary": [
                *passed,
                (
                    47,
                    lambda: self.review_secondary(
                        "reject",
                        "近12个月有逾期记录且用途与收入水平不匹配，综合评估后拒绝。",
                        codes=(RejectionReason.POOR_CREDIT, RejectionReason.HIGH_DEBT),
                    ),
                ),
            ],
            "withdrawn": [*submitted, (30, lambda: self.withdraw("借款人已通过其他渠道解决资金需求，主动撤回申请。"))],
            "withdrawn_draft": [*opened, (2, lambda: self.withdraw("借款人决定暂缓消费计划。"))],
        }[self.plan.outcome]

    def age(self) -> float:
        """Hours since the application was opened."""
        return self.steps()[-1][0] + self.plan.hours

    def build(self) -> Application:
        steps = self.steps()
        for position, (at, step) in enumerate(steps):
            step()
            following = steps[position + 1][0] if position + 1 < len(steps) else None
            if following is not None:
                _rewind(self.application.pk, following - at)
        _rewind(self.application.pk, self.plan.hours)
        return self.application


def _staff(code: str) -> dict[str, User]:
    roles = (Role.OFFICER, Role.REVIEWER, Role.APPROVER, Role.MANAGER)
    users = {user.username: user for user in User.objects.filter(username__in=[demo_username(r, code) for r in roles])}
    return {role: users[demo_username(role, code)] for role in roles}


def seed(*, stdout) -> None:
    # Texts the services store as shown (assessment reasons, timeline notes) are in the site's default language.
    with translation.override(settings.LANGUAGE_CODE):
        _seed(stdout=stdout)


def _seed(*, stdout) -> None:
    started = time.monotonic()
    products = _seed_products()
    people = {code: _staff(code) for code in ("HQ", "BJ", "SH")}
    borrowers, new_borrower_ids = _seed_borrowers({code: staff[Role.OFFICER] for code, staff in people.items()})
    existing = set(Application.objects.filter(borrower__in=borrowers.values()).values_list("borrower_id", "purpose"))
    builders = [
        _Builder(
            plan,
            people=people[plan.branch],
            borrower=borrowers[plan.borrower],
            product=products[plan.product],
            index=index,
        )
        for index, plan in enumerate(PLANS)
        if (borrowers[plan.borrower].pk, plan.purpose) not in existing
    ]
    # Oldest first, so application numbers grow with age as they would have.
    for builder in sorted(builders, key=lambda builder: -builder.age()):
        builder.build()
    # A borrower came in shortly before their first application.
    if new_borrower_ids:
        firsts = (
            Application.objects.filter(borrower_id__in=new_borrower_ids)
            .values("borrower_id")
            .annotate(first=Min("created_at"))
        )
        for row in firsts:
            Borrower.objects.filter(pk=row["borrower_id"]).update(created_at=row["first"] - timedelta(hours=1))
    stdout.write(
        f"applications: {len(products)} products, {len(borrowers)} borrowers ({len(new_borrower_ids)} new), "
        f"{len(builders)} new applications of {len(PLANS)} in {time.monotonic() - started:.1f} s."
    )
