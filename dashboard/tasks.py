"""Celery tasks of the dashboard app: thin wrappers around one service each."""

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .reports import weekly_summary_sweep


@shared_task(
    name="dashboard.tasks.sweep_weekly_summary",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_weekly_summary(today: str | None = None) -> int:
    """Queue the managers' weekly portfolio summary; Mondays 08:00 from beat, once per manager and week."""
    return weekly_summary_sweep(today=date.fromisoformat(today) if today else None)


@shared_task(
    name="dashboard.tasks.run_export",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=3,
    # A whole loan book to a file: more than the default 240 s is allowed (the sweep ends a job stuck past 40 min).
    soft_time_limit=1800,
    time_limit=1900,
)
def run_export(job_id: int) -> bool:
    """Write one export's file; a second delivery of the same job does nothing (the job is claimed once)."""
    from .exports import export_run

    return export_run(job_id=job_id)


@shared_task(
    name="dashboard.tasks.sweep_exports",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_exports() -> dict:
    """Resend lost export jobs, end dead ones, delete exports older than 7 days; every 10 minutes from beat."""
    from .exports import export_sweep

    return export_sweep()


@shared_task(
    name="dashboard.tasks.check_import",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def check_import(job_id: int) -> str:
    """The dry run of an uploaded import file; a second delivery finds the job checked and does nothing."""
    from .imports import import_check

    return import_check(job_id=job_id).status


@shared_task(
    name="dashboard.tasks.run_import",
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=3,
    # A big file may take minutes; at the soft limit the task hands over to a retry, which resumes after the last
    # committed chunk.
    soft_time_limit=1800,
    time_limit=1900,
)
def run_import(self, job_id: int) -> str:
    """Import the valid rows of a checked file; a retry or a second delivery resumes (or finds it done)."""
    from celery.exceptions import SoftTimeLimitExceeded

    from .imports import import_run

    try:
        return import_run(job_id=job_id).status
    except SoftTimeLimitExceeded as exc:
        raise self.retry(exc=exc, countdown=1) from exc


@shared_task(
    name="dashboard.tasks.sweep_stale_imports",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_stale_imports() -> dict:
    """Send again the import jobs whose message was lost or whose worker died; every 10 minutes from beat."""
    from .imports.jobs import imports_resume_sweep

    return imports_resume_sweep()


@shared_task(
    name="dashboard.tasks.refresh_dashboard_figures",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
    # Every tab for every branch scope: seconds at 100,000 loans, more at 1 M; the next tick skips while it runs.
    soft_time_limit=900,
    time_limit=960,
)
def refresh_dashboard_figures() -> dict:
    """Recompute the dashboards' default views (head office and each branch); every 10 minutes from beat."""
    from .figures import figures_refresh_defaults

    return figures_refresh_defaults()
