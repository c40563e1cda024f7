"""Batch work `make bench` times in a child process of its own (docs/performance.md), so that wall time and peak
memory are the job's alone.

    python manage.py bench_batch planning --loans 10000   # plan the follow-ups of 10,000 loans, then roll back
    python manage.py bench_batch export --loans 100000 --format xlsx   # about 100,000 loans of the book to Excel
    python manage.py bench_batch sweep-next-day   # tomorrow's daily sweep over the whole book, then roll back
    python manage.py bench_batch dashboard        # each dashboard tab computed for head office, then every scope
"""

import json
import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q

from accounts.models import User
from accounts.roles import Role
from core.dates import local_today
from dashboard.exports import export_run
from dashboard.figures import figures_refresh_defaults
from dashboard.forms import DashboardFilterForm
from dashboard.models import ExportJob, ExportKind
from dashboard.tabs import FIGURES
from followups.models import FollowUp, FollowUpKind, FollowUpStatus
from followups.models.followups import PLANNED_KINDS
from followups.planning import followups_sweep_missing
from postloan.models import Loan, LoanStatus
from postloan.services.sweep import sweep_daily


class Rollback(Exception):
    """Raised to undo the planning run: the bench must leave the book as it found it."""


def plan_loans(count: int) -> dict:
    """Time the safety net planning `count` open loans from scratch, as if their disbursement task had been lost; the
    whole job is rolled back.

    The loans are the open ones (disbursed by today) with the fewest touched follow-ups of the plan, so that a book
    whose loans are mostly followed up already still has `count` of them to plan: on the 100k bench book only about
    3,000 open loans have an untouched plan. Their follow-ups of the plan's kinds, touched or not, become `extra`
    follow-ups for the run (one UPDATE: no cascade to their attempts and records, no history rows), so each loan has
    no follow-up of the plan, which is what the safety net looks for, and it creates every loan's whole plan, as it
    would after a lost disbursement task. The time also covers its scans of the whole book for loans without a plan
    and overdue episodes without a call. The result says how many loans were planned."""
    touched = Count(
        "followups",
        filter=Q(followups__kind__in=PLANNED_KINDS) & ~Q(followups__status=FollowUpStatus.PLANNED),
    )
    ids = list(
        Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE], disbursed_on__lte=local_today())
        .annotate(touched=touched)
        .order_by("touched", "-pk")
        .values_list("pk", flat=True)[:count]
    )
    if not ids:
        raise CommandError("No open loan to plan again.")
    found = {}
    try:
        with transaction.atomic():
            FollowUp.objects.filter(loan_id__in=ids, kind__in=PLANNED_KINDS).update(kind=FollowUpKind.EXTRA)
            started = time.perf_counter()
            found["created"] = followups_sweep_missing()
            found["seconds"] = round(time.perf_counter() - started, 2)
            found["loans"] = len(ids)
            raise Rollback
    except Rollback:
        pass
    return found


def sweep_next_day() -> dict:
    """Tomorrow's daily sweep over the whole book, rolled back: a real day's work (every open loan moves a day: penalty
    rows, days past due + 1, each quiet loan swept through tomorrow), where today's sweep of a book generated today
    finds nothing to do. One transaction, so the chunks do not commit on their own as in production."""
    found = {}
    try:
        with transaction.atomic():
            found.update(sweep_daily(business_date=local_today() + timedelta(days=1)).as_dict())
            raise Rollback
    except Rollback:
        pass
    return found


def dashboard_figures() -> dict:
    """What the dashboards' figures cost to compute (dashboard.figures): each tab for head office's default view,
    timed one by one, then the beat task that refreshes every branch scope's default view."""
    manager = User.objects.filter(groups__name=Role.MANAGER, branch__is_head_office=True).order_by("pk").first()
    if manager is None:
        raise CommandError("No head-office manager to compute the dashboards for.")
    scope = DashboardFilterForm(None, user=manager).scope()
    found = {}
    for tab in FIGURES:
        started = time.perf_counter()
        FIGURES[tab](scope)
        found[tab] = round(time.perf_counter() - started, 2)
    found["refresh all scopes"] = figures_refresh_defaults()
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
    help = "Time one batch job of the bench (planning, export, sweep-next-day) and print what it did as JSON."

    def add_arguments(self, parser):
        parser.add_argument("job", choices=["planning", "export", "sweep-next-day", "dashboard"])
        parser.add_argument("--loans", type=int, help="required by planning and export; sweep-next-day sweeps all")
        parser.add_argument("--format", dest="file_format", choices=["xlsx", "csv"], default="xlsx")

    def handle(self, *args, job: str, loans: int | None, file_format: str, **options):
        if job == "sweep-next-day":
            self.stdout.write(json.dumps(sweep_next_day()))
            return
        if job == "dashboard":
            self.stdout.write(json.dumps(dashboard_figures()))
            return
        if loans is None or loans < 1:
            raise CommandError("planning and export need --loans, at least 1.")
        found = plan_loans(loans) if job == "planning" else export_loans(loans, file_format)
        self.stdout.write(json.dumps(found))
