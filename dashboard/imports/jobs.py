"""The dry run and the import of a job, chunk by chunk, each row in its own savepoint; the job's progress and counts;
and the sweep that sends again the jobs whose message was lost or whose worker died."""

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require, sees_all_branches
from applications.models import TransitionError
from applications.services import borrower_find, borrower_import
from core.queue import enqueue_on_commit
from postloan.models import Contract
from postloan.services.migration import loan_import

from ..models import ImportJob, ImportKind, ImportStatus
from .checks import Checker, RowCheck, details_in_file
from .columns import COLUMNS, column_label
from .files import FileProblem, SheetRow, read_rows

logger = logging.getLogger(__name__)

# Rows written per transaction; the job's progress is one UPDATE per chunk. Loans hold the application and contract
# number sequences' row locks until their chunk commits, so their chunks are smaller.
CHUNK_ROWS = {ImportKind.BORROWERS: 200, ImportKind.LOANS: 50}
STAGE_IMPORT = "import"  # errors found while importing (the rest are the dry run's)
# pg_try_advisory_lock(WORKER_LOCK_CLASS, job id) is held by the worker checking or importing the job, for as long as
# it works on it ("IMPT" in ASCII; the two-key lock space is apart from the daily sweep's one-key lock).
WORKER_LOCK_CLASS = 0x494D5054
# The sweep sends a job's task again when it has waited this long with no worker on it.
RESEND_AFTER = timedelta(minutes=10)
# The dry run's task stops after 10 minutes; a file still not checked an hour after its upload will not be.
CHECK_GIVE_UP_AFTER = timedelta(hours=1)
RESEND_BATCH = 100


# --- the dry run and the import --------------------------------------------------------------------------------------
def _message(kind: str, row: int, key: str, text: str) -> str:
    if any(column.key == key for column in COLUMNS[kind]):
        return _("Row %(row)s, %(column)s: %(message)s") % {
            "row": row,
            "column": column_label(kind, key),
            "message": text,
        }
    return _("Row %(row)s: %(message)s") % {"row": row, "message": text}


def _error_rows(kind: str, check: RowCheck, stage: str = "") -> list[dict]:
    # Errors in the order of the template's columns, so a row reads left to right.
    order = {column.key: position for position, column in enumerate(COLUMNS[kind])}
    entries = []
    for key, text in sorted(check.errors.items(), key=lambda item: order.get(item[0], len(order))):
        entry = {"row": check.number, "column": key, "message": _message(kind, check.number, key, text)}
        if stage:
            entry["stage"] = stage
        entries.append(entry)
    return entries


def _load(job: ImportJob) -> tuple[list[SheetRow], list[RowCheck]]:
    with job.file.open("rb") as handle:
        data = handle.read()
    rows = read_rows(job.kind, data, job.original_name or job.file.name)
    return rows, Checker(job).check(rows)


@contextmanager
def _job_worker(job_id: int) -> Iterator[bool]:
    """Whether this worker may work on the job: False while another one holds the job's lock.

    The lock is a PostgreSQL session advisory lock, so it goes with a dead worker's connection: the sweep can tell
    a job nobody works on any more from one a live worker is still importing. Other databases (SQLite, one developer)
    have no such lock: always True.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [WORKER_LOCK_CLASS, job_id])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [WORKER_LOCK_CLASS, job_id])
            except DatabaseError:
                logger.warning("Import %s: could not release the worker lock (the connection went with it)", job_id)


def import_check(*, job_id: int) -> ImportJob:
    """The dry run: read the file, check every row, keep the counts and the row errors on the job (in the
    uploader's language). Writes nothing else; running it again gives the same answer, and a second delivery of
    the task while a worker is checking the job does nothing."""
    with _job_worker(job_id) as mine:
        job = ImportJob.objects.select_related("uploaded_by__branch").get(pk=job_id)
        if not mine or job.status != ImportStatus.CHECKING:
            return job
        return _check(job)


def _check(job: ImportJob) -> ImportJob:
    with translation.override(job.language):
        try:
            _rows, checks = _load(job)
        except FileProblem as problem:
            job.status, job.error, job.checked_at = ImportStatus.FAILED, str(problem), timezone.now()
            job.save(update_fields=["status", "error", "checked_at"])
            return job
        errors = [entry for check in checks for entry in _error_rows(job.kind, check)]
    valid = [check for check in checks if check.valid]
    job.rows_total, job.rows_valid, job.rows_invalid = len(checks), len(valid), len(checks) - len(valid)
    job.rows_skipped = sum(1 for check in valid if check.present)  # what the import will find already present
    job.errors, job.error, job.status, job.checked_at = errors, "", ImportStatus.CHECKED, timezone.now()
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKING).update(
        rows_total=job.rows_total,
        rows_valid=job.rows_valid,
        rows_invalid=job.rows_invalid,
        rows_skipped=job.rows_skipped,
        errors=job.errors,
        error="",
        status=ImportStatus.CHECKED,
        checked_at=job.checked_at,
    )
    return job


def import_upload(*, by: User, kind: str, upload: UploadedFile) -> ImportJob:
    """Keep an uploaded file (under a random name) as a new job and queue its dry run after commit. The file's type
    and size were checked by the upload form; the rows are checked by the dry run."""
    require(by, "book.import")
    extension = os.path.splitext(upload.name or "")[1].lower()
    with transaction.atomic():
        job = ImportJob(
            uploaded_by=by,
            kind=ImportKind(kind),
            original_name=os.path.basename(upload.name or "")[:200],
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        job.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
        job.save()
        enqueue_on_commit(_task("check_import"), job.pk)
    return job


def import_start(*, job: ImportJob, by: User) -> bool:
    """checked → queued, once, and the import task queued after commit; a double click finds the job queued already
    and changes nothing (False). Someone of the uploader's branch (or head office) may start it."""
    require(by, "book.import")
    if not sees_all_branches(by) and job.uploaded_by.branch_id != by.branch_id:
        raise PermissionDenied(_("This import belongs to another branch."))
    with transaction.atomic():
        started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED, rows_valid__gt=0).update(
            status=ImportStatus.QUEUED
        )
        if started:
            enqueue_on_commit(_task("run_import"), job.pk)
    return bool(started)


def _task(name: str):
    from .. import tasks  # the tasks call back into this module

    return getattr(tasks, name)


def _row_error(refused: Exception) -> dict[str, str]:
    """A refusal of a domain service as errors by column key (a key that is no column makes a row-level message)."""
    if isinstance(refused, ValidationError) and hasattr(refused, "error_dict"):
        return {key: " ".join(messages) for key, messages in refused.message_dict.items()}
    if isinstance(refused, ValidationError):
        return {"": " ".join(refused.messages)}
    return {"": str(refused) or _("Your role does not allow this.")}


def _import_borrower(job: ImportJob, check: RowCheck) -> bool:
    """Returns whether a borrower was created (False: one with this identity was there already)."""
    _borrower, created = borrower_import(
        by=job.uploaded_by,
        branch=check.branch,
        identity_type=check.identity[0],
        identity_number=check.identity[1],
        **check.borrower,
    )
    return created


def _import_loan(job: ImportJob, check: RowCheck, file_details: dict) -> bool:
    """Returns whether a loan was created (False: its contract number was there already)."""
    terms = check.loan
    number = terms["contract_number"]
    if Contract.objects.filter(number=number).exists():  # a loan's number is its contract's
        return False
    identity_type, identity_number = check.identity
    details = check.borrower or file_details.get(check.identity)
    if details:
        # Found, or created from this row's details (or those another row of the file gives for this borrower).
        borrower, _created = borrower_import(
            by=job.uploaded_by,
            branch=check.branch,
            identity_type=identity_type,
            identity_number=identity_number,
            **details,
        )
    else:
        borrower = borrower_find(identity_type=identity_type, identity_number=identity_number)
        if borrower is None:
            raise ValidationError(
                {
                    "identity_number": _(
                        "No borrower with this identity number is in LoanTrack or in this file: fill in the "
                        "borrower's details."
                    )
                }
            )
    loan_import(
        borrower=borrower,
        product=terms["product"],
        branch=check.branch,
        officer=terms["officer"],
        contract_number=number,
        principal=terms["principal"],
        annual_rate=terms["annual_rate"],
        term_months=terms["term_months"],
        method=terms["method"],
        disbursed_on=terms["disbursed_on"],
        first_due_date=terms["first_due_date"],
        paid_installments=terms["paid_installments"],
        purpose=terms["purpose"],
        by=job.uploaded_by,
        import_job=job.pk,
    )
    return True


def _present(job: ImportJob, check: RowCheck) -> bool:
    if job.kind == ImportKind.LOANS:
        return Contract.objects.filter(number=check.loan["contract_number"]).exists()
    return borrower_find(identity_type=check.identity[0], identity_number=check.identity[1]) is not None


def import_row(job: ImportJob, check: RowCheck, file_details: dict) -> str:
    """Import one valid row in its own savepoint: "created", "present", or "failed" (its errors set on `check`)."""
    try:
        if job.kind == ImportKind.LOANS:
            # The row's borrower and loan go in together or not at all.
            with transaction.atomic():
                created = _import_loan(job, check, file_details)
        else:
            created = _import_borrower(job, check)  # borrower_import is atomic itself: its savepoint is the row's
    except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
        raise  # the database went away, or time is up: the task retries and resumes after the last committed chunk
    except IntegrityError:
        # Someone (another import, an officer) wrote the same key a moment ago.
        if _present(job, check):
            return "present"
        logger.exception("Import %s, row %s: integrity error", job.pk, check.number)
        check.errors = {"": _("This row could not be imported because of an unexpected error.")}
        return "failed"
    except (ValidationError, PermissionDenied, TransitionError) as refused:
        check.errors = _row_error(refused)
        return "failed"
    except Exception:
        logger.exception("Import %s, row %s failed", job.pk, check.number)
        check.errors = {"": _("This row could not be imported because of an unexpected error.")}
        return "failed"
    return "created" if created else "present"


def import_run(*, job_id: int) -> ImportJob:
    """Import the rows the dry run found valid, chunk by chunk; rows already present are counted and skipped.

    Claims a queued job (or resumes a running one after a crash or a retry, after its last committed chunk);
    a finished job is left alone, and so is one another worker is importing (a second delivery of the task).
    Rows that fail now (the data changed since the dry run, or an unexpected error) are added to the job's errors
    and leave nothing behind.
    """
    with _job_worker(job_id) as mine:
        if not mine:
            return ImportJob.objects.get(pk=job_id)
        return _run(job_id)


def _run(job_id: int) -> ImportJob:
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), rows_done=0, rows_created=0, rows_skipped=0
    )
    job = ImportJob.objects.select_related("uploaded_by__branch").get(pk=job_id)
    if not claimed and job.status != ImportStatus.RUNNING:
        return job
    with translation.override(job.language):
        try:
            _rows, checks = _load(job)
        except FileProblem as problem:
            job.status, job.error, job.finished_at = ImportStatus.FAILED, str(problem), timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
            return job
        file_details = details_in_file(checks)
        invalid_at_check = {entry["row"] for entry in job.errors if entry.get("stage") != STAGE_IMPORT}
        candidates = [check for check in checks if check.number not in invalid_at_check]
        size = CHUNK_ROWS[job.kind]
        try:
            for start in range(job.rows_done, len(candidates), size):
                _import_chunk(job, candidates[start : start + size], file_details, done_before=start)
        except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
            raise
        except Exception:
            logger.exception("Import %s stopped", job.pk)
            job.status, job.finished_at = ImportStatus.FAILED, timezone.now()
            job.error = _(
                "The import stopped because of an unexpected error. The rows imported so far are kept; upload the "
                "file again to import the rest."
            )
            job.save(update_fields=["status", "error", "finished_at"])
            return job
    job.status, job.finished_at = ImportStatus.DONE, timezone.now()
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=ImportStatus.DONE, finished_at=job.finished_at
    )
    return job


def _import_chunk(job: ImportJob, chunk: list[RowCheck], file_details: dict, *, done_before: int) -> None:
    """One transaction: the chunk's rows, each in its savepoint, and the job's progress in one UPDATE."""
    failed = []
    with transaction.atomic():
        for check in chunk:
            if not check.valid:
                # Valid in the dry run, not any more: e.g. the product's range changed since.
                failed.append(check)
                continue
            outcome = import_row(job, check, file_details)
            if outcome == "created":
                job.rows_created += 1
            elif outcome == "present":
                job.rows_skipped += 1
            else:
                failed.append(check)
        job.rows_done = done_before + len(chunk)
        progress = {"rows_done": job.rows_done, "rows_created": job.rows_created, "rows_skipped": job.rows_skipped}
        if failed:
            new = [entry for check in failed for entry in _error_rows(job.kind, check, STAGE_IMPORT)]
            job.errors = sorted([*job.errors, *new], key=lambda entry: entry["row"])
            job.rows_invalid += len(failed)
            progress |= {"errors": job.errors, "rows_invalid": job.rows_invalid}
        ImportJob.objects.filter(pk=job.pk).update(**progress)


def import_percent(job: ImportJob) -> int:
    """How far the import is, 0–100, for the progress bar."""
    if job.status == ImportStatus.DONE:
        return 100
    if not job.rows_valid:
        return 0
    return min(100, job.rows_done * 100 // job.rows_valid)


# --- the safety net ---------------------------------------------------------------------------------------------------
def _worker_on(job_id: int) -> bool:
    with _job_worker(job_id) as free:
        return not free


def _give_up_checks(now: datetime) -> int:
    """Fail the dry runs still not done CHECK_GIVE_UP_AFTER after the upload (each try ran out of time or broke)."""
    hopeless = ImportJob.objects.filter(status=ImportStatus.CHECKING, created_at__lt=now - CHECK_GIVE_UP_AFTER)
    ended = 0
    for job_id, language in hopeless.order_by("pk").values_list("pk", "language")[:RESEND_BATCH]:
        with translation.override(language):
            error = _("The file could not be checked. Upload it again, or split it into smaller files.")
        ended += ImportJob.objects.filter(pk=job_id, status=ImportStatus.CHECKING).update(
            status=ImportStatus.FAILED, error=error, checked_at=now
        )
    return ended


def imports_resume_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every 10 minutes from beat: send again the task of each job left waiting more than RESEND_AFTER with no
    worker on it, because its message was lost (checking, queued) or its worker died (running); fail the dry runs
    that never finish. Idempotent and safe to miss: it reads only the jobs' rows and locks.

    The tasks take that: the dry run acts only on a checking job, the import claims a queued job once and resumes a
    running one after its last committed chunk, and a second delivery while a worker holds the job does nothing.
    A running job is judged by its lock, so only on PostgreSQL: elsewhere a long import cannot be told from a dead one.
    """
    from ..tasks import check_import, run_import

    now = now or timezone.now()
    stale = now - RESEND_AFTER
    found = {"gave_up": _give_up_checks(now), "checking": 0, "queued": 0, "running": 0}
    waiting = [
        ("checking", check_import, ImportJob.objects.filter(status=ImportStatus.CHECKING, created_at__lt=stale)),
        # No column says when a job was queued; a duplicate message for a job queued since is harmless (one claim).
        ("queued", run_import, ImportJob.objects.filter(status=ImportStatus.QUEUED, checked_at__lt=stale)),
    ]
    if connection.vendor == "postgresql":
        waiting.append(
            ("running", run_import, ImportJob.objects.filter(status=ImportStatus.RUNNING, started_at__lt=stale))
        )
    for state, task, jobs in waiting:
        for job_id in jobs.order_by("pk").values_list("pk", flat=True)[:RESEND_BATCH]:
            if _worker_on(job_id):
                continue
            enqueue_on_commit(task, job_id)
            found[state] += 1
    return found
