"""Upload checks by content, not by name: a file is what its first bytes say it is."""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from .models import MAX_UPLOAD_BYTES

# Leading bytes of the formats borrowers' documents come in.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {"application/pdf": (".pdf",), "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}


def sniff_content_type(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return next((content_type for signature, content_type in SIGNATURES if head.startswith(signature)), None)


def check_upload(upload: UploadedFile) -> str:
    """Return the real content type of an acceptable upload, or raise ValidationError saying what is wrong."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is %(size).1f MB; the largest file accepted is %(limit)d MB.")
            % {"size": upload.size / 1024 / 1024, "limit": MAX_UPLOAD_BYTES // 1024 // 1024},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise ValidationError(
            _("Only PDF, JPEG and PNG files are accepted, and this file is none of them."), code="wrong_type"
        )
    name = (upload.name or "").lower()
    if not name.endswith(EXTENSIONS[content_type]):
        raise ValidationError(
            _("The file name says one type but the content is %(kind)s. Rename it or upload the right file.")
            % {"kind": {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}[content_type]},
            code="type_mismatch",
        )
    return content_type
