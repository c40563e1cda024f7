"""The month-end snapshots (postloan.models.LoanMonthEnd) of the last twelve month ends: every loan open on a month end
as the daily sweep left it that morning (00:30, before the day's repayments), which the dashboard's roll rates read.
A real book has one per month since the system started; a year is what the roll-rate charts show."""

from datetime import date, timedelta

from postloan.models import Bucket, Classification, LoanMonthEnd, LoanStatus, bucket_for_dpd

from .copy import SWEEP_SECONDS, CopyWriter, Days, at, money
from .loans import LoanFacts

MONTHS = 12
COLUMNS = (
    "id",
    "loan_id",
    "month_end",
    "branch_id",
    "product_id",
    "officer_id",
    "status",
    "dpd",
    "bucket",
    "classification",
    "outstanding_principal",
    "taken_on",
    "created_at",
)


def month_ends(today: date, months: int = MONTHS) -> list[int]:
    """The last `months` month ends up to today (today included when it ends its month), oldest first."""
    ends = []
    day = today if (today + timedelta(days=1)).day == 1 else today.replace(day=1) - timedelta(days=1)
    for _ in range(months):
        ends.append(day.toordinal())
        day = day.replace(day=1) - timedelta(days=1)
    return sorted(ends)


class MonthEnds:
    def __init__(self, writer: CopyWriter, days: Days, *, today: int):
        self.days = days
        self.rows = writer.table(LoanMonthEnd, COLUMNS)
        self.ends = month_ends(date.fromordinal(today))

    def write(self, facts: LoanFacts) -> None:
        outcome = facts.outcome
        closed = outcome.paid_off_on
        ends = [end for end in self.ends if facts.disbursed_on < end and (closed is None or closed >= end)]
        if not ends:
            return
        days, rows = self.days, self.rows
        head = f"\t{facts.id}\t"
        people = f"\t{facts.desk.id}\t{facts.product_id}\t{facts.officer.id}\t"
        for end in ends:
            insts = outcome.version_on(end)
            keys = {inst.key for inst in insts}
            repaid = 0
            for pay in outcome.pays:
                if pay.day >= end:
                    break
                repaid += (pay.principal if pay.inst in keys else 0) + sum(p for k, p in pay.extra if k in keys)
            unpaid = next((inst for inst in insts if inst.paid_on is None or inst.paid_on >= end), None)
            dpd = end - unpaid.due if unpaid is not None and unpaid.due < end else 0
            classification = Classification.NORMAL
            for day, _before, after, _dpd in outcome.class_changes:
                if day > end:
                    break
                classification = after
            status = LoanStatus.OVERDUE if dpd else LoanStatus.ACTIVE
            bucket = bucket_for_dpd(dpd) if dpd else Bucket.CURRENT
            rows.add(
                f"{rows.new_id()}{head}{days.iso(end)}{people}{status}\t{dpd}\t{bucket}\t{classification}\t"
                f"{money(sum(inst.principal for inst in insts) - repaid)}\t{days.iso(end)}\t"
                f"{days.moment(at(end, SWEEP_SECONDS + 2))}\n"
            )
