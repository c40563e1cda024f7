"""The shape of the generated book, in one place: products, terms and methods, how disbursements grow over five years,
how borrowers pay, how many loans are overdue in each aging bucket, and what happens to applications that do not
become loans. Tuned so that a loan has about 12 installments on average (terms 3 to 60 months)."""

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from applications.models import ApplicationStatus, BorrowerKind
from core.money import round_rate
from core.schedules import ScheduleMethod
from postloan.models import Bucket

M = ScheduleMethod
S = ApplicationStatus
K = BorrowerKind


@dataclass(frozen=True)
class ProductMix:
    """How loans of one product look: its share of the book, who borrows, methods, terms, amounts and rates."""

    code: str
    share: float
    kinds: tuple[tuple[str, float], ...]
    methods: tuple[tuple[str, float], ...]
    terms: tuple[tuple[int, float], ...]
    min_yuan: int
    max_yuan: int
    min_rate: str
    max_rate: str


PRODUCT_MIX = (
    ProductMix(
        "PERSONAL_CONSUMER",
        0.32,
        ((K.INDIVIDUAL, 1.0),),
        ((M.EQUAL_INSTALLMENT, 0.75), (M.EQUAL_PRINCIPAL, 0.25)),
        ((6, 0.35), (12, 0.45), (24, 0.15), (36, 0.05)),
        10_000,
        300_000,
        "4.35",
        "12.00",
    ),
    ProductMix(
        "SME_OPERATING",
        0.16,
        ((K.SOLE_PROPRIETOR, 0.7), (K.COMPANY, 0.3)),
        ((M.EQUAL_INSTALLMENT, 0.4), (M.EQUAL_PRINCIPAL, 0.2), (M.INTEREST_FIRST, 0.4)),
        ((12, 0.7), (24, 0.2), (36, 0.1)),
        50_000,
        2_000_000,
        "4.35",
        "15.00",
    ),
    ProductMix(
        "MORTGAGE",
        0.04,
        ((K.INDIVIDUAL, 0.85), (K.SOLE_PROPRIETOR, 0.15)),
        ((M.EQUAL_INSTALLMENT, 0.6), (M.EQUAL_PRINCIPAL, 0.4)),
        ((24, 0.2), (36, 0.3), (48, 0.2), (60, 0.3)),
        200_000,
        3_000_000,
        "3.85",
        "9.80",
    ),
    ProductMix(
        "AUTO",
        0.10,
        ((K.INDIVIDUAL, 1.0),),
        ((M.EQUAL_INSTALLMENT, 1.0),),
        ((12, 0.4), (24, 0.35), (36, 0.22), (60, 0.03)),
        50_000,
        400_000,
        "4.50",
        "12.00",
    ),
    ProductMix(
        "SHORT_TERM",
        0.38,
        ((K.INDIVIDUAL, 0.6), (K.SOLE_PROPRIETOR, 0.3), (K.COMPANY, 0.1)),
        ((M.BULLET, 0.45), (M.INTEREST_FIRST, 0.2), (M.EQUAL_INSTALLMENT, 0.35)),
        ((3, 0.35), (6, 0.4), (9, 0.1), (12, 0.15)),
        5_000,
        200_000,
        "6.00",
        "15.40",
    ),
)

PURPOSES = {
    "PERSONAL_CONSUMER": ("房屋装修", "子女教育", "婚庆支出", "购买家电家具", "旅游出行", "医疗支出"),
    "SME_OPERATING": ("采购原材料", "店铺备货", "购置经营设备", "支付货款", "门店装修", "流动资金周转"),
    "MORTGAGE": ("经营周转", "大额消费", "子女留学", "房屋翻新"),
    "AUTO": ("购买自用乘用车", "购买新能源汽车"),
    "SHORT_TERM": ("临时资金周转", "季节性备货", "应收账款回笼前周转", "支付租金"),
}
CHANNELS = (("walk_in", 0.45), ("referral", 0.25), ("phone", 0.15), ("portal", 0.15))

# --- time -----------------------------------------------------------------------------------------------------------
WINDOW_DAYS = 30
WINDOWS = 61  # five years of 30-day windows, oldest first
GROWTH = 2.0  # the newest window disburses (1 + GROWTH) times as much as the oldest


def window_counts(loans: int) -> list[int]:
    """How many loans each window disburses, oldest first, adding up to `loans` (largest remainders)."""
    weights = [1 + GROWTH * index / (WINDOWS - 1) for index in range(WINDOWS)]
    total = sum(weights)
    exact = [loans * weight / total for weight in weights]
    counts = [math.floor(value) for value in exact]
    by_remainder = sorted(range(WINDOWS), key=lambda index: exact[index] - counts[index], reverse=True)
    for index in by_remainder[: loans - sum(counts)]:
        counts[index] += 1
    return counts


# --- repayment behaviour ----------------------------------------------------------------------------------------------
LATE_SHARE = 0.06  # an installment paid after its due date (a short overdue episode, then cured)
LATE_MAX_DAYS = 30
PARTIAL_SHARE = 0.03  # an installment paid in two parts
DEFAULT_PARTIAL_SHARE = 0.4  # a loan that stops paying made a partial payment on its first unpaid installment
# A loan repaid by equal installments or equal principal whose borrower, with one installment, prepays part of the
# principal left and shortens the term (postloan.services.prepayment): schedule version 2, follow-ups re-dated.
PREPAY_SHARE = 0.05
EARLY_DAYS = ((0, 0.45), (1, 0.15), (2, 0.12), (3, 0.1), (4, 0.08), (5, 0.1))
REPAYMENT_CHANNELS = (
    ("bank_transfer", 0.45),
    ("auto_debit", 0.25),
    ("wechat", 0.12),
    ("alipay", 0.12),
    ("cash", 0.06),
)
# Share of all loans that are overdue today, by days past due (the aging buckets, with 181–360 split where the class
# turns doubtful). Each range gets at least one loan; loans are assigned in generation order, whenever a range is
# behind its share and one of the loan's installments fell due that many days ago.
OVERDUE_RANGES = (
    (Bucket.DPD_1_30, 0.015, 1, 30),
    (Bucket.DPD_31_60, 0.005, 31, 60),
    (Bucket.DPD_61_90, 0.0035, 61, 90),
    (Bucket.DPD_91_180, 0.005, 91, 180),
    (Bucket.DPD_181_360, 0.0025, 181, 270),
    (Bucket.DPD_181_360, 0.0025, 271, 360),
    (Bucket.DPD_360_PLUS, 0.0065, 361, 1500),
)
# Penalty history kept per overdue installment: its first this many days past due (the sweep continues from today).
PENALTY_HISTORY_DAYS = 30

# --- applications that did not (yet) become loans --------------------------------------------------------------------
# Per loan disbursed in the same window: historical outcomes.
CLOSED_OUTCOMES = ((S.REJECTED, 0.3), (S.WITHDRAWN, 0.07), (S.EXPIRED, 0.03))
# The pipeline today, as a share of the last window's disbursements (at least one of each).
PIPELINE = (
    (S.DRAFT, 0.15),
    (S.SUBMITTED, 0.1),
    (S.INITIAL_REVIEW, 0.1),
    (S.SECONDARY_REVIEW, 0.08),
    (S.RETURNED, 0.06),
    (S.APPROVED, 0.12),
    (S.CONTRACTED, 0.06),
)
RETURNED_BEFORE_SHARE = 0.1  # a disbursed application that was returned once on its way
REPEAT_BORROWER_SHARE = 0.12


def pick(rng: random.Random, pairs) -> object:
    """One value from (value, weight) pairs."""
    total = 0.0
    point = rng.random() * sum(weight for _value, weight in pairs)
    for value, weight in pairs:
        total += weight
        if point < total:
            return value
    return pairs[-1][0]


def amount_fen(rng: random.Random, mix: ProductMix) -> int:
    """A round amount, log-uniform over the product's range: ¥1,000 steps, ¥10,000 above ¥200,000."""
    yuan = math.exp(rng.uniform(math.log(mix.min_yuan), math.log(mix.max_yuan)))
    step = 10_000 if yuan > 200_000 else 1_000
    return max(mix.min_yuan, min(mix.max_yuan, round(yuan / step) * step)) * 100


def annual_rate(rng: random.Random, mix: ProductMix) -> Decimal:
    """A rate in the product's range, in steps of 0.05 percentage points, lower rates more common."""
    low, high = Decimal(mix.min_rate), Decimal(mix.max_rate)
    steps = int((high - low) / Decimal("0.05"))
    return round_rate(low + Decimal("0.05") * int(steps * rng.random() ** 1.6))


def mean_installments() -> float:
    """The book's expected installments per loan, from the mix (bullet loans have one)."""
    total = 0.0
    for mix in PRODUCT_MIX:
        method_weight = sum(weight for _m, weight in mix.methods)
        term_weight = sum(weight for _t, weight in mix.terms)
        mean_term = sum(term * weight for term, weight in mix.terms) / term_weight
        for method, weight in mix.methods:
            total += mix.share * weight / method_weight * (1 if method == M.BULLET else mean_term)
    return total
