"""Uploaded materials: checked by content and size before anything touches the disk, stored under random names."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from applications import services
from applications.models import ApplicationEvent, Material, TransitionError
from applications.uploads import check_upload

from .factories import PDF_BYTES, PNG_BYTES, make_application, pdf, submitted

pytestmark = pytest.mark.django_db

EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def material(staff, product) -> Material:
    application = make_application(staff["officer"])
    return application.materials.get(requirement__code="bank_statement")


def refused_upload(material: Material, officer, upload) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        services.material_upload(material=material, by=officer, upload=upload)
    return excinfo.value


@pytest.mark.parametrize(
    ("upload", "code", "words"),
    [
        (SimpleUploadedFile("photo.pdf", PNG_BYTES, "application/pdf"), "type_mismatch", "the content is PNG"),
        (SimpleUploadedFile("scan.png", PDF_BYTES, "image/png"), "type_mismatch", "the content is PDF"),
        (
            SimpleUploadedFile("statement.pdf", PDF_BYTES + b"\x00" * (11 * 1024 * 1024), "application/pdf"),
            "too_large",
            "the largest file accepted is 10 MB",
        ),
        (SimpleUploadedFile("x.pdf", EXE_BYTES, "application/pdf"), "wrong_type", "Only PDF, JPEG and PNG"),
        (SimpleUploadedFile("x.exe", EXE_BYTES, "application/octet-stream"), "wrong_type", "Only PDF, JPEG and PNG"),
        (SimpleUploadedFile("empty.pdf", b"", "application/pdf"), "empty", "The file is empty."),
    ],
    ids=["png-named-pdf", "pdf-named-png", "11-mb", "exe-named-pdf", "exe", "empty"],
)
def test_it_refuses_a_bad_file_and_stores_nothing(staff, material, upload, code, words):
    events_before = ApplicationEvent.objects.filter(application=material.application).count()

    error = refused_upload(material, staff["officer"], upload)

    assert error.code == code
    assert words in error.messages[0]
    assert stored_files() == []
    material.refresh_from_db()
    assert material.status == "missing"
    assert (material.file.name, material.original_name, material.size) == ("", "", 0)
    assert ApplicationEvent.objects.filter(application=material.application).count() == events_before
    assert "Missing material: Bank statements, 6 months" in services.submission_blockers(material.application)


def test_it_names_the_size_of_a_file_that_is_too_large(staff, material):
    upload = SimpleUploadedFile("big.pdf", PDF_BYTES + b"\x00" * (11 * 1024 * 1024), "application/pdf")

    error = refused_upload(material, staff["officer"], upload)

    assert error.messages == ["The file is 11.0 MB; the largest file accepted is 10 MB."]


def test_it_accepts_a_file_of_exactly_ten_megabytes(db):
    upload = SimpleUploadedFile("big.pdf", PDF_BYTES.ljust(10 * 1024 * 1024, b"\x00"), "application/pdf")

    assert check_upload(upload) == "application/pdf"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("statement.PDF", PDF_BYTES, "application/pdf"),
        ("id.jpeg", JPEG_BYTES, "image/jpeg"),
        ("id.JPG", JPEG_BYTES, "image/jpeg"),
        ("id.png", PNG_BYTES, "image/png"),
    ],
)
def test_it_recognises_the_accepted_types_by_content(db, name, content, content_type):
    # The browser's claimed type is ignored: only the first bytes count.
    upload = SimpleUploadedFile(name, content, "application/octet-stream")

    assert check_upload(upload) == content_type


def test_it_stores_a_valid_pdf_under_a_random_name_and_keeps_the_original_name(staff, material):
    officer = staff["officer"]

    stored = services.material_upload(material=material, by=officer, upload=pdf("李明 银行流水.pdf"))

    material.refresh_from_db()
    assert material.status == "uploaded"
    assert material.original_name == "李明 银行流水.pdf"
    assert material.content_type == "application/pdf"
    assert material.size == len(PDF_BYTES)
    assert material.uploaded_by == officer
    assert material.uploaded_at is not None
    assert material.file.name.startswith(f"materials/{material.application_id}/")
    assert material.file.name.endswith(".pdf")
    assert "银行流水" not in material.file.name
    assert len(Path(material.file.name).stem) == 32  # 16 random bytes in hex
    (path,) = stored_files()
    assert path.read_bytes() == PDF_BYTES
    assert stored.pk == material.pk
    event = ApplicationEvent.objects.filter(application=material.application, kind="material").get()
    assert event.data == {"material": material.name, "status": "uploaded", "replaced": False}


def test_it_gives_two_uploads_of_the_same_name_different_files(staff, product):
    officer = staff["officer"]
    application = make_application(officer)
    first, second = application.materials.all()

    services.material_upload(material=first, by=officer, upload=pdf("scan.pdf"))
    services.material_upload(material=second, by=officer, upload=pdf("scan.pdf"))

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.file.name != second.file.name
    assert len(stored_files()) == 2


def test_it_replaces_a_rejected_file_and_clears_the_rejection(staff, product):
    officer, reviewer = staff["officer"], staff["reviewer"]
    application = submitted(officer)
    material = application.materials.get(requirement__code="id_card")
    services.material_check(material=material, by=reviewer, accepted=False, reason="看不清")
    services.application_review_initial(application=application, by=reviewer, decision="return", comment="补身份证")

    services.material_upload(material=material, by=officer, upload=pdf("id-new.pdf"))

    material.refresh_from_db()
    assert (material.status, material.original_name, material.rejection_reason) == ("uploaded", "id-new.pdf", "")
    assert material.reviewed_by is None
    event = ApplicationEvent.objects.filter(application=application, kind="material").last()
    assert event.data["replaced"] is True


def test_it_refuses_uploads_once_the_application_is_submitted(staff, product):
    application = submitted(staff["officer"])
    material = application.materials.first()
    before = (material.file.name, len(stored_files()))

    with pytest.raises(TransitionError):
        services.material_upload(material=material, by=staff["officer"], upload=pdf("late.pdf"))

    material.refresh_from_db()
    assert (material.file.name, len(stored_files())) == before


def test_it_lets_only_the_assigned_officer_upload(staff, material):
    with pytest.raises(PermissionDenied):
        services.material_upload(material=material, by=staff["officer2"], upload=pdf())

    assert stored_files() == []
    material.refresh_from_db()
    assert material.status == "missing"
