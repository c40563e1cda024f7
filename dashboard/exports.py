"""Exports (issue 8): a staff list — the loan book, the overdue list, applications, late follow-ups, risk warnings,
inquiries — written to Excel or CSV by a Celery task, with the same filters and branch scope as the list page.

- `export_request` records who asked for which list with which filters, and queues the task after commit.
- `export_run` claims the job once (queued → running, a conditional update), then streams the rows from one
  server-side cursor into a temporary file, chunk by chunk, so memory stays flat however long the list is; it saves
  the file on the job and marks it done, or marks it failed with a message and keeps no half-written file.
- Each list's rows come from the very form and selector its page uses, so an export is exactly what the page shows.
- Cells: money and rates are numbers, dates are dates (Asia/Shanghai for moments), statuses are labels in the
  language of the person who asked; identity numbers are the stored masked copies (nothing is decrypted); text that
  a spreadsheet would run as a formula gets a leading apostrophe.
"""

import logging
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AuditEvent, User
from accounts.permissions import can, has_role, require
from accounts.roles import Role
from accounts.services import audit_record
from applications import selectors as application_selectors
from applications.forms import ApplicationFilterForm
from applications.models import ApplicationStatus
from applications.models.applications import Channel as ApplicationChannel
from core.dates import SHANGHAI, date_text, local_today
from core.masking import mask_phone
from core.queue import enqueue_on_commit
from core.schedules import ScheduleMethod
from followups import selectors as followup_selectors
from followups.forms import TeamFilterForm
from followups.inquiry_forms import InquiryFilterForm
from followups.models import FollowUpKind, FollowUpStatus, InquiryStatus, WarningStatus
from followups.models.followups import RiskLevel, RiskSignal
from followups.models.inquiries import InquiryCategory
from followups.review_forms import WarningFilterForm
from followups.services.warnings import warnings_queue
from postloan import selectors as loan_selectors
from postloan.forms import LoanFilterForm, OverdueFilterForm
from postloan.models import Bucket, Classification, LoanStatus

from .export_writers import DAY, INTEGER, MOMENT, MONEY, RATE, TEXT, WRITERS, Column, cell_value
from .models.exports import ExportFormat, ExportJob, ExportKind, JobStatus

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# One person's exports waiting or being written at once; more is a double click or a script, not a need.
MAX_ACTIVE_PER_USER = 3
# Files and rows older than this are deleted by the sweep.
KEEP_DAYS = 7
# A job still "running" this long after it started lost its worker (the task's hard limit is shorter).
STALE_RUNNING = timedelta(minutes=40)
# A job still "queued" this long lost its message (a broker outage): the sweep sends it again; after a day, it gives up.
REQUEUE_AFTER = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(days=1)
# Query-string keys that are not filters of the list.
NOT_FILTERS = frozenset({"csrfmiddlewaretoken", "kind", "file_format", "page"})
MAX_PARAMS, MAX_PARAM_LENGTH = 40, 200


class ExportError(Exception):
    """A failure with a message for the person who asked (already translated)."""


# --- columns ------------------------------------------------------------------------------------------------------
# Each column names the fields it reads; a list's values() query asks for the union, so the two never disagree.
def _plain(header, field: str, kind: str = TEXT, width: int = 14) -> Column:
    return Column(header, (field,), lambda row: row[field], kind, width)


def _label(header, field: str, choices: Iterable[tuple[str, Any]], width: int = 14) -> Column:
    """A status or kind as its label in the active language (columns are built inside the job's language)."""
    labels = {value: str(label) for value, label in choices}
    return Column(header, (field,), lambda row: labels.get(row[field], row[field]), TEXT, width)


def _labels(header, field: str, choices: Iterable[tuple[str, Any]], width: int = 30) -> Column:
    """A JSON list of choice values (risk signals) as their labels, separated by semicolons."""
    labels = {value: str(label) for value, label in choices}
    return Column(header, (field,), lambda row: "; ".join(labels.get(v, str(v)) for v in row[field] or []), TEXT, width)


def _person(header, prefix: str) -> Column:
    """A user's name as User.__str__ gives it: display name, else full name, else username."""
    names = tuple(f"{prefix}__{name}" for name in ("display_name", "first_name", "last_name", "username"))

    def value(row: dict) -> str:
        display, first, last, username = (row[name] for name in names)
        return display or f"{first or ''} {last or ''}".strip() or username or ""

    return Column(header, names, value)


def _bilingual(header, zh: str, en: str, width: int = 20) -> Column:
    """A name kept in both languages (products, branches): English when the job is in English and it has one."""
    english = (translation.get_language() or "").startswith("en")
    return Column(header, (zh, en), lambda row: (row[en] if english and row[en] else row[zh]) or "", TEXT, width)


def _branch() -> Column:
    return _bilingual(gettext_lazy("Branch"), "branch__name", "branch__name_en")


def _masked_phone(field: str) -> Column:
    return Column(gettext_lazy("Mobile (masked)"), (field,), lambda row: mask_phone(row[field]))


def _masked_identity(field: str) -> Column:
    # The masked copy stored beside the encrypted number: exporting never decrypts an identity number.
    return _plain(gettext_lazy("Identity number (masked)"), field, width=22)


def _loan_columns() -> list[Column]:
    return [
        _plain(gettext_lazy("Loan number"), "number"),
        _plain(gettext_lazy("Contract number"), "contract__number"),
        _plain(gettext_lazy("Borrower"), "borrower__name", width=20),
        _masked_identity("borrower__identity_masked"),
        _masked_phone("borrower__mobile"),
        _bilingual(
            gettext_lazy("Product"),
            "product__name_zh",
            "product__name_en",
        ),
        _branch(),
        _person(gettext_lazy("Officer"), "officer"),
        _plain(gettext_lazy("Principal"), "principal", MONEY),
        _plain(gettext_lazy("Annual rate (%)"), "annual_rate", RATE, width=10),
        _plain(gettext_lazy("Term (months)"), "term_months", INTEGER, width=10),
        _label(gettext_lazy("Repayment method"), "method", ScheduleMethod.choices),
        _plain(gettext_lazy("Disbursed on"), "disbursed_on", DAY, width=12),
        _plain(gettext_lazy("Maturity date"), "maturity_date", DAY, width=12),
        _label(gettext_lazy("Status"), "status", LoanStatus.choices),
        _plain(gettext_lazy("Outstanding principal"), "outstanding_principal", MONEY),
        _plain(gettext_lazy("Next due date"), "next_due_date", DAY, width=12),
        _plain(gettext_lazy("Next due amount"), "next_due_amount", MONEY),
        _plain(gettext_lazy("Days past due"), "dpd", INTEGER, width=10),
        _label(gettext_lazy("Aging bucket"), "bucket", Bucket.choices, width=20),
        _label(gettext_lazy("Classification"), "classification", Classification.choices),
    ]


def _overdue_columns() -> list[Column]:
    return [
        _plain(gettext_lazy("Loan number"), "number"),
        _plain(gettext_lazy("Borrower"), "borrower__name", width=20),
        _masked_identity("borrower__identity_masked"),
        _masked_phone("borrower__mobile"),
        _branch(),
        _person(gettext_lazy("Officer"), "officer"),
        _label(gettext_lazy("Aging bucket"), "bucket", Bucket.choices, width=20),
        _plain(gettext_lazy("Days past due"), "dpd", INTEGER, width=10),
        _plain(gettext_lazy("Overdue since"), "overdue_since", DAY, width=12),
        _plain(gettext_lazy("Past due amount"), "overdue_amount", MONEY),
        _plain(gettext_lazy("Outstanding principal"), "outstanding_principal", MONEY),
        _plain(gettext_lazy("Next due date"), "next_due_date", DAY, width=12),
        _label(gettext_lazy("Classification"), "classification", Classification.choices),
    ]


def _application_columns() -> list[Column]:
    return [
        _plain(gettext_lazy("Application number"), "number"),
        _plain(gettext_lazy("Borrower"), "borrower__name", width=20),
        _masked_identity("borrower__identity_masked"),
        _bilingual(gettext_lazy("Product"), "product__name_zh", "product__name_en"),
        _plain(gettext_lazy("Amount requested"), "amount", MONEY),
        _plain(gettext_lazy("Term (months)"), "term_months", INTEGER, width=10),
        _label(gettext_lazy("Repayment method"), "method", ScheduleMethod.choices),
        _plain(gettext_lazy("Annual rate (%)"), "annual_rate", RATE, width=10),
        _plain(gettext_lazy("Purpose"), "purpose", width=20),
        _label(gettext_lazy("Channel"), "channel", ApplicationChannel.choices),
        _branch(),
        _person(gettext_lazy("Officer"), "officer"),
        _label(gettext_lazy("Status"), "status", ApplicationStatus.choices, width=18),
        _plain(gettext_lazy("Created at"), "created_at", MOMENT, width=17),
        _plain(gettext_lazy("Submitted at"), "submitted_at", MOMENT, width=17),
        _plain(gettext_lazy("Review due by"), "sla_due_at", MOMENT, width=17),
        _plain(gettext_lazy("Approved amount"), "approved_amount", MONEY),
        _plain(gettext_lazy("Approved at"), "approved_at", MOMENT, width=17),
    ]


def _followup_columns() -> list[Column]:
    today = local_today()
    number, borrower = ("loan__number", "application__number"), ("loan__borrower__name", "application__borrower__name")
    return [
        # A follow-up is about a loan, or (a pre-loan contact) about an application.
        Column(gettext_lazy("Loan or application"), number, lambda row: row[number[0]] or row[number[1]] or ""),
        Column(gettext_lazy("Borrower"), borrower, lambda row: row[borrower[0]] or row[borrower[1]] or "", width=20),
        _label(gettext_lazy("Kind"), "kind", FollowUpKind.choices, width=24),
        _label(gettext_lazy("Status"), "status", FollowUpStatus.choices),
        _plain(gettext_lazy("Due on"), "due_on", DAY, width=12),
        Column(gettext_lazy("Days late"), ("due_on",), lambda row: max((today - row["due_on"]).days, 0), INTEGER, 10),
        _plain(gettext_lazy("Failed contact attempts"), "failed_attempts", INTEGER, width=10),
        _person(gettext_lazy("Officer"), "officer"),
        _branch(),
    ]


def _warning_columns() -> list[Column]:
    yes, no = _("Yes"), _("No")
    return [
        _plain(gettext_lazy("Loan number"), "loan__number"),
        _plain(gettext_lazy("Borrower"), "loan__borrower__name", width=20),
        _label(gettext_lazy("Risk level"), "level", RiskLevel.choices, width=10),
        _labels(gettext_lazy("Risk signals"), "signals", RiskSignal.choices),
        _label(gettext_lazy("Status"), "status", WarningStatus.choices),
        _plain(gettext_lazy("Opened at"), "opened_at", MOMENT, width=17),
        _plain(gettext_lazy("Acknowledge by"), "acknowledge_due_at", MOMENT, width=17),
        Column(
            gettext_lazy("Past the deadline"), ("is_ack_breached",), lambda row: yes if row["is_ack_breached"] else no
        ),
        _person(gettext_lazy("Acknowledged by"), "acknowledged_by"),
        _plain(gettext_lazy("Acknowledged at"), "acknowledged_at", MOMENT, width=17),
        _plain(gettext_lazy("What was found"), "summary", width=40),
        _branch(),
    ]


def _inquiry_columns() -> list[Column]:
    yes, no, now = _("Yes"), _("No"), timezone.now()

    def late(row: dict) -> str:
        # The inbox's "late": still waiting after the promised time, or answered after it (Inquiry.is_breached).
        return yes if (row["answered_at"] or now) > row["due_at"] else no

    return [
        _plain(gettext_lazy("Inquiry number"), "number"),
        _plain(gettext_lazy("Borrower"), "borrower__name", width=20),
        _label(gettext_lazy("Category"), "category", InquiryCategory.choices),
        _plain(gettext_lazy("Question"), "question", width=40),
        _plain(gettext_lazy("Asked at"), "created_at", MOMENT, width=17),
        _plain(gettext_lazy("Reply due by"), "due_at", MOMENT, width=17),
        _person(gettext_lazy("Assigned to"), "assignee"),
        _label(gettext_lazy("Status"), "status", InquiryStatus.choices),
        _plain(gettext_lazy("First reply at"), "answered_at", MOMENT, width=17),
        _plain(gettext_lazy("Response time (working minutes)"), "response_minutes", INTEGER, width=12),
        Column(gettext_lazy("Late"), ("answered_at", "due_at"), late, TEXT, 8),
        _branch(),
    ]


# --- the lists: the page's own form and selector, so an export holds exactly the rows the page lists ---------------
def _form_data(params: dict) -> QueryDict | None:
    """The list page's query string back from the job, None when empty (the page's `request.GET or None`)."""
    data = QueryDict(mutable=True)
    for key, values in params.items():
        data.setlist(key, values if isinstance(values, list) else [values])
    return data or None


def _loan_form(user: User, data: QueryDict | None) -> LoanFilterForm:
    return LoanFilterForm(data, user=user, is_officer=has_role(user, Role.OFFICER))


def _loans(user: User, form: LoanFilterForm) -> QuerySet:
    return loan_selectors.loan_list(user=user, **form.filters())


def _overdue(user: User, form: OverdueFilterForm) -> QuerySet:
    return loan_selectors.overdue_list(user=user, **form.filters())


def _application_form(user: User, data: QueryDict | None) -> ApplicationFilterForm:
    return ApplicationFilterForm(data, is_officer=has_role(user, Role.OFFICER), user=user)


def _applications(user: User, form: ApplicationFilterForm) -> QuerySet:
    return application_selectors.application_list(user=user, **form.filters())


def _followups(user: User, form: TeamFilterForm) -> QuerySet:
    # The team page's late follow-ups.
    return followup_selectors.late_followups(user=user, today=local_today(), **form.filters())


def _warnings(user: User, form: WarningFilterForm) -> QuerySet:
    queue = form.narrow(warnings_queue(user=user, now=timezone.now()))
    # The page's "show" choice, as warning_list applies it (the form leaves it out of narrow(): the page counts
    # each status of what narrow() keeps).
    shown = form.cleaned_data.get("status") if form.is_valid() else ""
    if shown == "open":
        queue = queue.filter(status=WarningStatus.OPEN)
    elif shown == "breached":
        queue = queue.filter(is_ack_breached=True)
    return queue


def _inquiries(user: User, form: InquiryFilterForm) -> QuerySet:
    return form.apply(followup_selectors.inquiries_for(user), now=timezone.now()).order_by("due_at", "pk")


def _user_form(form_class: type[forms.Form]) -> Callable[[User, QueryDict | None], forms.Form]:
    """The list forms that take only the viewer."""
    return lambda user, data: form_class(data, user=user)


@dataclass(frozen=True)
class ExportList:
    form: Callable[[User, QueryDict | None], forms.Form]  # the page's filter form, bound to the saved filters
    rows: Callable[[User, forms.Form], QuerySet]  # the page's queryset for that form
    columns: Callable[[], list[Column]]  # built inside the job's language
    view_action: str  # the permission to see the list at all


LISTS: dict[str, ExportList] = {
    ExportKind.LOANS: ExportList(_loan_form, _loans, _loan_columns, "loan.view"),
    ExportKind.OVERDUE: ExportList(_user_form(OverdueFilterForm), _overdue, _overdue_columns, "loan.view"),
    ExportKind.APPLICATIONS: ExportList(_application_form, _applications, _application_columns, "application.view"),
    ExportKind.FOLLOWUPS: ExportList(_user_form(TeamFilterForm), _followups, _followup_columns, "followup.view"),
    ExportKind.WARNINGS: ExportList(_user_form(WarningFilterForm), _warnings, _warning_columns, "warning.view"),
    ExportKind.INQUIRIES: ExportList(_user_form(InquiryFilterForm), _inquiries, _inquiry_columns, "inquiry.view"),
}


def export_rows(job: ExportJob) -> tuple[list[Column], QuerySet]:
    """The columns (in the active language) and the values() queryset of a job's list: one query for every row."""
    spec = LISTS[job.kind]
    columns = spec.columns()
    fields = dict.fromkeys(field for column in columns for field in column.fields)
    form = spec.form(job.requested_by, _form_data(job.params or {}))
    return columns, spec.rows(job.requested_by, form).values(*fields)


def export_filter_labels(job: ExportJob) -> list[tuple[str, str]]:
    """The job's filters as the list page names them: (field label, chosen value), e.g. ("Branch", "北京朝阳支行")."""
    form = LISTS[job.kind].form(job.requested_by, _form_data(job.params or {}))
    if not form.is_valid():
        return []
    labels = []
    for name, value in form.cleaned_data.items():
        if name not in (job.params or {}) or value in (None, "", False, [], ()):
            continue
        field = form.fields[name]
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            value = dict(field.choices).get(value, value)
        elif value is True:
            value = _("yes")
        elif isinstance(value, date):
            value = date_text(value, translation.get_language() or settings.LANGUAGE_CODE)
        labels.append((str(field.label), str(value)))
    return labels


def may_export(user: User, kind: str) -> bool:
    """Whether the user may take this list out: the export role and the right to see the list."""
    spec = LISTS.get(kind)
    return spec is not None and can(user, "report.export") and can(user, spec.view_action)


# --- asking for an export -----------------------------------------------------------------------------------------
def filter_params(data: QueryDict) -> dict[str, list[str]]:
    """A list page's filters from a query string or form: every key but paging and the export's own."""
    params: dict[str, list[str]] = {}
    for key, values in data.lists():
        if key in NOT_FILTERS or len(params) >= MAX_PARAMS:
            continue
        kept = [value[:MAX_PARAM_LENGTH] for value in values if value != ""]
        if kept:
            params[key[:MAX_PARAM_LENGTH]] = kept
    return params


def export_request(*, user: User, kind: str, file_format: str, params: dict) -> ExportJob:
    """Record an export of a list with the page's filters and queue it after commit; ValidationError for an unknown
    list or format or too many exports at once, PermissionDenied for a role that may not export."""
    require(user, "report.export")
    if kind not in LISTS:
        raise ValidationError(_("Choose a list to export."), code="kind")
    if file_format not in ExportFormat.values:
        raise ValidationError(_("Choose Excel or CSV."), code="file_format")
    if not may_export(user, kind):
        raise PermissionDenied(_("Your role does not allow this."))
    from .tasks import run_export  # the task module imports this one

    with transaction.atomic():
        # Lock the requester's row so two clicks at once cannot both pass the limit below.
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = ExportJob.objects.filter(requested_by=user, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).count()
        if active >= MAX_ACTIVE_PER_USER:
            raise ValidationError(
                _("You already have %(count)s exports being prepared. Wait for one to finish, then ask again.")
                % {"count": active},
                code="busy",
            )
        job = ExportJob.objects.create(
            requested_by=user,
            kind=kind,
            file_format=file_format,
            params=params,
            language=translation.get_language() or user.preferred_language or settings.LANGUAGE_CODE,
        )
        enqueue_on_commit(run_export, job.pk)
    return job


def export_downloaded(*, job: ExportJob, by: User, ip_address: str | None = None) -> None:
    """Record in the audit log that a file of personal data left the system, and what it held."""
    audit_record(
        actor=by,
        action=AuditEvent.Action.EXPORT,
        obj=job,
        detail={"kind": job.kind, "file_format": job.file_format, "params": job.params, "rows": job.rows_done},
        ip_address=ip_address,
    )


def export_percent(job: ExportJob) -> int:
    """How far the job is, 0–100, for the progress bar."""
    if job.status == JobStatus.DONE:
        return 100
    if not job.rows_total:
        return 0
    return min(100, job.rows_done * 100 // job.rows_total)


def export_filename(job: ExportJob) -> str:
    """The name the browser saves: loantrack-<list>-<asked for at, Shanghai>.<format>."""
    stamp = job.created_at.astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    return f"loantrack-{job.kind}-{stamp}.{job.file_format}"


# --- writing the file ---------------------------------------------------------------------------------------------
def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, error=message, finished_at=timezone.now()
    )


def export_run(*, job_id: int) -> bool:
    """Write the job's file if it is still queued; False when another worker had it (or it is gone)."""
    started = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=started, rows_done=0, rows_total=None, error=""
    )
    if not claimed:
        return False
    job = ExportJob.objects.select_related("requested_by__branch").get(pk=job_id)
    with translation.override(job.language):
        try:
            _write(job)
        except (OperationalError, InterfaceError):
            # The database went away: give the job back so the task's retry claims it again (best effort; if the
            # database is still down, the sweep ends the job once it is stale).
            try:
                ExportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(status=JobStatus.QUEUED)
            except (OperationalError, InterfaceError):
                logger.warning("Could not give export %s back to the queue", job_id)
            raise
        except ExportError as refused:
            _fail(job_id, str(refused))
        except SoftTimeLimitExceeded:
            _fail(job_id, _("The export took too long and was stopped. Narrow the filters and ask again."))
        except Exception:
            logger.exception("Export %s failed", job_id)
            _fail(job_id, _("The file could not be written. Ask again; if it fails again, tell your administrator."))
    return True


def _write(job: ExportJob) -> None:
    user = job.requested_by
    if not may_export(user, job.kind):
        raise ExportError(_("You may no longer export this list."))
    columns, queryset = export_rows(job)
    total = queryset.count()
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
    writer_class = WRITERS[job.file_format]
    title = str(ExportKind(job.kind).label)
    written = 0
    with tempfile.TemporaryDirectory(prefix="loantrack-export-") as folder:
        path = Path(folder) / f"export.{writer_class.extension}"
        writer = writer_class(path, title=title, columns=columns)
        try:
            kinds = [column.kind for column in columns]
            values = [column.value for column in columns]
            for row in queryset.iterator(chunk_size=CHUNK_SIZE):
                writer.write([cell_value(kind, value(row)) for kind, value in zip(kinds, values, strict=True)])
                written += 1
                if written % CHUNK_SIZE == 0:
                    ExportJob.objects.filter(pk=job.pk).update(rows_done=written)
        finally:
            writer.close()
        with open(path, "rb") as handle:
            job.file.save(export_filename(job), File(handle), save=False)
    # The rows as written (the list may have changed a little since it was counted).
    finished = 0
    try:
        finished = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, file=job.file.name, rows_done=written, rows_total=written, finished_at=timezone.now()
        )
    finally:
        if not finished:  # the sweep gave up on it meanwhile, or the update failed: no file without its job
            job.file.delete(save=False)


# --- housekeeping -------------------------------------------------------------------------------------------------
def _end(jobs: QuerySet, message: Callable[[], str], now: datetime) -> int:
    """Mark these jobs failed, each with the message in its own language; a conditional update per job (few rows)."""
    ended = 0
    for job in jobs.only("pk", "status", "language").iterator(chunk_size=500):
        with translation.override(job.language):
            ended += ExportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=JobStatus.FAILED, error=message(), finished_at=now
            )
    return ended


def export_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every few minutes from beat: send again the jobs whose message was lost (a broker outage), end the jobs that
    never started or whose worker died, and delete the files and rows older than KEEP_DAYS. Idempotent and safe to
    miss: every step is a condition on the rows, not on the previous run."""
    from .tasks import run_export

    now = now or timezone.now()
    queued = ExportJob.objects.filter(status=JobStatus.QUEUED)
    running = ExportJob.objects.filter(status=JobStatus.RUNNING)
    gave_up = _end(
        queued.filter(created_at__lt=now - GIVE_UP_AFTER), lambda: _("The export could not be started. Ask again."), now
    )
    interrupted = _end(
        running.filter(started_at__lt=now - STALE_RUNNING), lambda: _("The export was interrupted. Ask again."), now
    )
    # A second message for a job that is merely waiting its turn is harmless: only one worker claims it.
    waiting = list(queued.filter(created_at__lt=now - REQUEUE_AFTER).order_by("pk").values_list("pk", flat=True)[:100])
    for job_id in waiting:
        enqueue_on_commit(run_export, job_id)
    old = ExportJob.objects.filter(created_at__lt=now - timedelta(days=KEEP_DAYS)).exclude(
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
    )
    deleted = 0
    for job in old.only("pk", "file").iterator(chunk_size=500):
        if job.file:
            job.file.delete(save=False)
        deleted += ExportJob.objects.filter(pk=job.pk).delete()[0]
    return {"requeued": len(waiting), "gave_up": gave_up, "interrupted": interrupted, "deleted": deleted}
