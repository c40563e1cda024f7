"""Exports through the pages: "My exports", asking for one from a list page's Export button, its progress (htmx
polling, or a refreshing page without JavaScript) and the download. Only the person who asked sees or downloads an
export (404 for anyone else); managers and risk officers may export (403 for other roles)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import action_required, can

from .exports import (
    export_downloaded,
    export_filename,
    export_filter_labels,
    export_percent,
    export_request,
    filter_params,
)
from .models.exports import ExportJob, ExportKind, JobStatus

PAGE_SIZE = 25
# The list pages that have an Export button, and the permission to open each (the team page is the manager's).
LIST_PAGES = {
    ExportKind.LOANS: ("postloan:list", "loan.view"),
    ExportKind.OVERDUE: ("postloan:overdue", "loan.view"),
    ExportKind.APPLICATIONS: ("applications:list", "application.view"),
    ExportKind.FOLLOWUPS: ("followups:team", "followup.reassign"),
    ExportKind.WARNINGS: ("followups:warnings", "warning.view"),
    ExportKind.INQUIRIES: ("followups:inquiries", "inquiry.view"),
}


def _get_export_for_user(request: HttpRequest, pk: int) -> ExportJob:
    """The one access check for an export: only the person who asked for it; 404 for anyone else."""
    try:
        return ExportJob.objects.get(pk=pk, requested_by=request.user)
    except ExportJob.DoesNotExist:
        raise Http404(_("No such export of yours.")) from None


def _progress_context(job: ExportJob) -> dict:
    return {
        "job": job,
        "percent": export_percent(job),
        "active": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
    }


def _list_url(job: ExportJob) -> str:
    """The list page with the filters the export was asked for with."""
    url = reverse(LIST_PAGES[job.kind][0])
    query = urlencode(job.params or {}, doseq=True)
    return f"{url}?{query}" if query else url


@require_GET
@action_required("report.export")
def export_list(request: HttpRequest) -> HttpResponse:
    """The user's exports, newest first, 25 a page."""
    jobs = ExportJob.objects.filter(requested_by=request.user).order_by("-created_at", "-pk")
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/exports/list.html",
        {
            "page_obj": page,
            "list_pages": [
                (ExportKind(kind).label, url) for kind, (url, action) in LIST_PAGES.items() if can(request.user, action)
            ],
        },
    )


@require_POST
@action_required("report.export")
def export_create(request: HttpRequest) -> HttpResponse:
    """Ask for an export of a list with the filters the page had; then follow its progress."""
    try:
        job = export_request(
            user=request.user,
            kind=request.POST.get("kind", ""),
            file_format=request.POST.get("file_format", ""),
            params=filter_params(request.POST),
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("dashboard:exports")
    except PermissionDenied as refused:
        messages.error(request, str(refused))
        return redirect("dashboard:exports")
    # No "being prepared" message: the page says where the job is, and a fast export is already ready there.
    return redirect("dashboard:export_detail", pk=job.pk)


@require_GET
@action_required("report.export")
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_export_for_user(request, pk)
    context = {"list_url": _list_url(job), "filters": export_filter_labels(job)}
    return render(request, "dashboard/exports/detail.html", _progress_context(job) | context)


@require_GET
@action_required("report.export")
def export_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial that the detail page polls every second while the export is queued or running."""
    job = _get_export_for_user(request, pk)
    return render(request, "dashboard/exports/_progress.html", _progress_context(job))


@require_GET
@action_required("report.export")
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _get_export_for_user(request, pk)
    if job.status != JobStatus.DONE or not job.file:
        raise Http404(_("This export has no file to download."))
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("This export's file is no longer kept. Ask for the export again.")) from None
    export_downloaded(job=job, by=request.user, ip_address=request.META.get("REMOTE_ADDR"))
    return FileResponse(handle, as_attachment=True, filename=export_filename(job))
