"""Imports through the pages: upload a spreadsheet (the dry run starts at once), read its report, import the valid
rows and follow the progress (htmx polling, or a refreshing page without JavaScript). Managers only (403 for other
roles); an import is seen by its uploader's branch, head office sees all (404 for anyone else)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import action_required, scope

from . import imports as services
from .forms import ImportUploadForm
from .imports import COLUMNS, FILE_FORMATS, column_label, import_percent, template_file, template_filename
from .models import ImportJob, ImportKind, ImportStatus

PAGE_SIZE = 20
ERRORS_PAGE_SIZE = 50
ACTIVE = (ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING)
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _imports_for(request: HttpRequest):
    return scope(ImportJob.objects.select_related("uploaded_by"), request.user, "uploaded_by__branch")


def _get_import_for_user(request: HttpRequest, pk: int, *, with_errors: bool = True) -> ImportJob:
    """The one access check for an import: the uploader's branch (head office: all); 404 for anyone else.
    Without `with_errors` the row errors (up to megabytes of JSON) stay in the database."""
    jobs = _imports_for(request) if with_errors else _imports_for(request).defer("errors")
    try:
        return jobs.get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404(_("No such import in your branch.")) from None


def _progress_context(job: ImportJob) -> dict:
    return {"job": job, "percent": import_percent(job), "active": job.status in ACTIVE}


@require_http_methods(["GET", "POST"])
@action_required("book.import")
def import_list(request: HttpRequest) -> HttpResponse:
    """The upload form, the templates with their columns explained, and the recent imports of the branch."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.import_upload(by=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"])
        messages.success(request, _("The file is uploaded. Its rows are being checked; nothing is imported yet."))
        return redirect("dashboard:import_detail", pk=job.pk)
    jobs = _imports_for(request).defer("errors").order_by("-created_at", "-pk")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/imports/list.html",
        {
            "form": form,
            "page_obj": page,
            "templates": [
                {"kind": kind, "label": label, "columns": COLUMNS[kind], "formats": FILE_FORMATS}
                for kind, label in ImportKind.choices
            ],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_GET
@action_required("book.import")
def import_template(request: HttpRequest, kind: str, file_format: str) -> HttpResponse:
    """The empty template, with headers in the user's language."""
    if kind not in ImportKind.values or file_format not in FILE_FORMATS:
        raise Http404(_("No such template."))
    response = HttpResponse(template_file(kind, file_format), content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{template_filename(kind, file_format)}"'
    return response


@require_GET
@action_required("book.import")
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The dry run's report (counts and the row errors, 50 a page), the import button, the progress and the result."""
    job = _get_import_for_user(request, pk)
    errors = Paginator(job.errors, ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [entry | {"column_label": column_label(job.kind, entry.get("column", ""))} for entry in errors]
    return render(
        request,
        "dashboard/imports/detail.html",
        _progress_context(job) | {"errors_page": errors, "error_rows": rows, "param": "page"},
    )


@require_GET
@action_required("book.import")
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The status card the detail page polls every second while the job is active; once the job is finished the
    page reloads itself (HX-Refresh) to show the report."""
    job = _get_import_for_user(request, pk, with_errors=False)
    response = render(request, "dashboard/imports/progress.html", _progress_context(job))
    if request.headers.get("HX-Request") and job.status not in ACTIVE:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@action_required("book.import")
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Import the valid rows: checked → queued once; a second click finds it queued and queues nothing."""
    job = _get_import_for_user(request, pk)
    started = services.import_start(job=job, by=request.user)
    if started:
        messages.success(request, _("The import has started. You can leave this page; it goes on without you."))
    elif job.status == ImportStatus.CHECKED and not job.rows_valid:
        messages.error(request, _("This file has no valid rows to import."))
    else:
        messages.info(request, _("This import has already been started."))
    return redirect("dashboard:import_detail", pk=job.pk)
