"""Month-end snapshots of the open loans: the bucket and class each loan was in at the end of each month.

The sweep changes `Loan.bucket` in place, so without these rows nothing remembers where a loan stood a month ago; the
dashboard's roll rates (how many loans moved to a worse bucket from one month end to the next) read them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .base import money_field
from .loans import OPEN_LOAN_STATUSES, Bucket, Classification, LoanStatus


class LoanMonthEnd(models.Model):
    """One open loan (active or overdue) as the daily sweep left it on the last day of a month.

    Written once per loan and month end by `postloan.services.snapshots.month_end_snapshot`, never changed. The
    branch, product and officer are the loan's on that day, so a month's figures keep their place when a loan is
    handed to another officer later. `taken_on` is the business date of the run that wrote the row: the month end
    itself, or a later day when the sweep missed the month end and caught up (see the service).
    """

    loan = models.ForeignKey(
        "postloan.Loan", verbose_name=_("loan"), on_delete=models.CASCADE, related_name="month_ends"
    )
    month_end = models.DateField(_("month end"))
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        "applications.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("loan officer"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=LoanStatus.choices)
    dpd = models.PositiveIntegerField(_("days past due"))
    bucket = models.CharField(_("aging bucket"), max_length=10, choices=Bucket.choices)
    classification = models.CharField(_("classification"), max_length=16, choices=Classification.choices)
    outstanding_principal = money_field(_("outstanding principal"))
    taken_on = models.DateField(_("taken on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("loan at month end")
        verbose_name_plural = _("loans at month end")
        ordering = ["-month_end", "loan"]
        constraints = [
            # One row per loan and month end; also the index of the roll rates' lookup of the same loan one month
            # later: WHERE loan = ? AND month_end = ?
            models.UniqueConstraint(fields=["loan", "month_end"], name="loan_month_end_unique"),
            models.CheckConstraint(condition=Q(bucket__in=Bucket.values), name="loan_month_end_bucket_valid"),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values), name="loan_month_end_classification_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=OPEN_LOAN_STATUSES), name="loan_month_end_status_open"),
            models.CheckConstraint(condition=Q(outstanding_principal__gte=0), name="loan_month_end_outstanding_valid"),
            models.CheckConstraint(condition=Q(taken_on__gte=models.F("month_end")), name="loan_month_end_taken_after"),
        ]
        indexes = [
            # the dashboard's roll rates (dashboard.kpis.portfolio.roll_rates): WHERE month_end IN (…) [AND branch = ?]
            models.Index(fields=["month_end", "branch"], name="loan_month_end_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.month_end} {self.bucket}"
