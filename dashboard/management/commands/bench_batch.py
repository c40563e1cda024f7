"""Batch work `make bench` times in a child process of its own (docs/performance.md), so that wall time and peak
memory are the job's alone.

    python manage.py bench_batch planning --loans 10000   # plan the follow-ups of 10,000 loans, then roll back
    python manage.py bench_batch export --loans 100000 --format xlsx   # about 100,000 loans of the book to Excel
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from accounts.models import User
from accounts.roles import Role
from dashboard.exports import export_run
from dashboard.models import ExportJob, ExportKind
from followups.models import FollowUp, FollowUpStatus
from followups.models.followups import PLANNED_KINDS
from followups.planning import followups_sweep_missing
from postloan.models import Loan, LoanStatus


class Rollback(Exception):
    """Raised to undo the planning run: the bench must leave the book as it found it."""


def plan_loans(count: int) -> dict:
    """Remove the still-untouched plans of up to `count` open loans, as if their disbursement task had been lost, and
    time the safety net that plans them again (it also scans the whole book for other loans without a plan). A book
    whose loans are mostly followed up already has fewer: the result says how many were planned."""
    touched = FollowUp.objects.filter(loan=OuterRef("pk"), kind__in=PLANNED_KINDS).exclude(
        status=FollowUpStatus.PLANNED
    )
    ids = list(
        Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE])
        .exclude(Exists(touched))
        .order_by("-pk")
        .values_list("pk", flat=True)[:count]
    )
    if not ids:
        raise CommandError("No open loan has an untouched plan to plan again.")
    found = {}
    try:
        with transaction.atomic():
            FollowUp.objects.filter(loan_id__in=ids, kind__in=PLANNED_KINDS).delete()
            started = time.perf_counter()
            found["created"] = followups_sweep_missing()
            found["seconds"] = round(time.perf_counter() - started, 2)
            found["loans"] = len(ids)
            raise Rollback
    except Rollback:
        pass
    return found


def export_loans(count: int, file_format: str) -> dict:
    """The loan book as the head-office manager exports it: the whole book when it is near `count` loans, else the
    branch whose book is nearest to it (the job is created directly, not queued: the bench has no worker)."""
    manager = User.objects.filter(groups__name=Role.MANAGER, branch__is_head_office=True).order_by("pk").first()
    if manager is None:
        raise CommandError("No head-office manager to export as.")
    params: dict = {"show": ["branch"]}
    if Loan.objects.count() > count * 1.5:
        sizes = Loan.objects.values("branch_id").annotate(n=Count("pk"))
        nearest = min(sizes, key=lambda row: abs(row["n"] - count))
        params["branch"] = [str(nearest["branch_id"])]
    job = ExportJob.objects.create(
        requested_by=manager, kind=ExportKind.LOANS, file_format=file_format, params=params, language="zh-hans"
    )
    started = time.perf_counter()
    export_run(job_id=job.pk)
    seconds = round(time.perf_counter() - started, 2)
    job.refresh_from_db()
    found = {"status": job.status, "rows": job.rows_done, "seconds": seconds, "bytes": job.file.size if job.file else 0}
    if job.file:
        job.file.delete(save=False)
    job.delete()
    return found


class Command(BaseCommand):
    help = "Time one batch job of the bench (planning or export) and print what it did as JSON."

    def add_arguments(self, parser):
        parser.add_argument("job", choices=["planning", "export"])
        parser.add_argument("--loans", type=int, required=True)
        parser.add_argument("--format", dest="file_format", choices=["xlsx", "csv"], default="xlsx")

    def handle(self, *args, job: str, loans: int, file_format: str, **options):
        if loans < 1:
            raise CommandError("--loans must be at least 1.")
        found = plan_loans(loans) if job == "planning" else export_loans(loans, file_format)
        self.stdout.write(json.dumps(found))
