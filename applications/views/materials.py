"""Materials of an application: add an item, upload a file, download it, accept or reject it.

Files are reached only through `get_application_for_user`: someone outside the branch gets 404, never the file.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..forms import MaterialAddForm, MaterialCheckForm, MaterialUploadForm, apply_service_errors
from ..models import Application, Material, TransitionError
from .common import detail_url, get_application_for_user, perform
from .detail import render_detail


def _material_of(application: Application, material_pk: int) -> Material:
    """A material of an application already loaded through the access helper (its materials are prefetched)."""
    material = next((item for item in application.materials.all() if item.pk == material_pk), None)
    if material is None:
        raise Http404(_("No such material on this application."))
    material.application = application
    return material


def _materials_tab(application: Application, material: Material | None = None) -> str:
    return detail_url(application, "materials", f"material-{material.pk}" if material else "")


@require_POST
@login_required
def material_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk, action="application.create")
    form = MaterialAddForm(request.POST)
    if not form.is_valid():
        return render_detail(request, application, tab="materials", status=400, forms={"material_add_form": form})
    return perform(
        request,
        application,
        lambda: services.material_add(application=application, by=request.user, **form.cleaned_data),
        success=lambda material: _("“%(name)s” is on the checklist; upload it below.") % {"name": material.name},
        tab="materials",
        form=form,
        form_name="material_add_form",
    )


@require_POST
@login_required
def material_upload(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """Store a file for an item; a file of the wrong type, too large or misnamed is refused with the reason."""
    application = get_application_for_user(request, pk, action="application.create")
    material = _material_of(application, material_pk)
    form = MaterialUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.material_upload(material=material, by=request.user, upload=form.cleaned_data["file"])
        except TransitionError as error:
            messages.error(request, str(error))
            return redirect(_materials_tab(application, material))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("“%(file)s” is uploaded for %(material)s.")
                % {"file": form.cleaned_data["file"].name, "material": material.display_name},
            )
            return redirect(_materials_tab(application, material))
    errors = [message for field_errors in form.errors.values() for message in field_errors]
    return render_detail(
        request,
        application,
        tab="materials",
        status=400,
        forms={"upload_error_for": material.pk, "upload_errors": errors},
    )


@require_GET
@login_required
def material_download(request: HttpRequest, pk: int, material_pk: int) -> FileResponse:
    """The stored file under its original name, to anyone who may see the application."""
    application = get_application_for_user(request, pk)
    material = _material_of(application, material_pk)
    if not material.file:
        raise Http404(_("Nothing has been uploaded for this material yet."))
    try:
        handle = material.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file of this material is missing from storage.")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=material.original_name or material.file.name.rsplit("/", 1)[-1],
        content_type=material.content_type or "application/octet-stream",
    )


def _back_to(request: HttpRequest, application: Application, material: Material) -> str:
    """The review page that posted the check (a safe local `next`), else the materials tab."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return _materials_tab(application, material)


@require_POST
@login_required
def material_check(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """A reviewer or approver accepts an uploaded file, or rejects it with a reason the borrower will read."""
    application = get_application_for_user(request, pk, action="material.check")
    material = _material_of(application, material_pk)
    form = MaterialCheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept or reject."))
        return redirect(_back_to(request, application, material))
    accepted = form.cleaned_data["decision"] == MaterialCheckForm.ACCEPT
    try:
        services.material_check(
            material=material, by=request.user, accepted=accepted, reason=form.cleaned_data["reason"]
        )
    except (TransitionError, ValidationError) as error:
        messages.error(request, " ".join(error.messages) if isinstance(error, ValidationError) else str(error))
    else:
        if accepted:
            messages.success(request, _("%(material)s is accepted.") % {"material": material.display_name})
        else:
            messages.success(
                request,
                _("%(material)s is rejected; the borrower is told what to fix.") % {"material": material.display_name},
            )
    return redirect(_back_to(request, application, material))
