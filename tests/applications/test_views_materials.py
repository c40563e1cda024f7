"""Materials: upload (checked by content), download only for those who may see the application, accept or reject."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from applications import services
from applications.models import Material

from .factories import PDF_BYTES, PNG_BYTES, make_application, pdf, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


@pytest.fixture
def draft(staff, product):
    return make_application(staff["officer"])


def upload_url(material) -> str:
    return reverse("applications:material_upload", args=[material.application_id, material.pk])


def download_url(material) -> str:
    return reverse("applications:material_download", args=[material.application_id, material.pk])


def check_url(material) -> str:
    return reverse("applications:material_check", args=[material.application_id, material.pk])


def stored_files(settings) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- upload -----------------------------------------------------------------------------------------------------


def test_it_stores_an_uploaded_pdf_and_marks_the_material_uploaded(client, staff, draft, settings):
    material = draft.materials.first()
    client.force_login(staff["officer"])

    response = client.post(upload_url(material), {"file": pdf("身份证.pdf")}, follow=True)

    material.refresh_from_db()
    assert material.status == Material.Status.UPLOADED
    assert material.original_name == "身份证.pdf"
    assert material.content_type == "application/pdf"
    assert material.uploaded_by == staff["officer"]
    assert "身份证.pdf" not in material.file.name  # stored under a random name
    assert len(stored_files(settings)) == 1
    assert response.redirect_chain[-1][0].endswith(f"?tab=materials#material-{material.pk}")
    assert "“身份证.pdf” is uploaded for Identity card copy." in messages_of(response)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "scan.pdf",
            PNG_BYTES,
            "The file name says one type but the content is PNG. Rename it or upload the right file.",
        ),
        (
            "big.pdf",
            b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024),
            "The file is 11.0 MB; the largest file accepted is 10 MB.",
        ),
        ("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Only PDF, JPEG and PNG files are accepted"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Only PDF, JPEG and PNG files are accepted"),
    ],
    ids=["png-named-pdf", "11-mb", "executable-named-pdf", "executable"],
)
def test_it_refuses_a_bad_file_with_a_clear_message_and_stores_nothing(
    client, staff, draft, settings, name, content, message
):
    material = draft.materials.first()
    client.force_login(staff["officer"])

    response = client.post(upload_url(material), {"file": SimpleUploadedFile(name, content)})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["upload_error_for"] == material.pk
    material.refresh_from_db()
    assert material.status == Material.Status.MISSING
    assert not material.file
    assert stored_files(settings) == []
    assert not draft.events.filter(kind="material").exists()


def test_it_asks_for_a_file_when_none_was_chosen(client, staff, draft):
    material = draft.materials.first()
    client.force_login(staff["officer"])

    response = client.post(upload_url(material), {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_it_adds_another_material_to_the_checklist(client, staff, draft):
    client.force_login(staff["officer"])

    response = client.post(
        reverse("applications:material_add", args=[draft.pk]), {"name": "租赁合同", "is_required": "on"}, follow=True
    )

    extra = draft.materials.get(name="租赁合同")
    assert extra.is_required
    assert extra.requirement is None
    assert "租赁合同" in response.content.decode()
    assert "Missing material: 租赁合同" in client.get(reverse("applications:detail", args=[draft.pk])).content.decode()


def test_it_refuses_uploads_once_submitted(client, staff, product):
    application = submitted(staff["officer"])
    material = application.materials.first()
    client.force_login(staff["officer"])

    response = client.post(upload_url(material), {"file": pdf()}, follow=True)

    assert any("can be changed only as a draft or after it was returned" in m for m in messages_of(response))
    material.refresh_from_db()
    assert material.original_name != "statement.pdf"


# --- download ---------------------------------------------------------------------------------------------------


@pytest.fixture
def uploaded(staff, draft):
    material = draft.materials.first()
    return services.material_upload(material=material, by=staff["officer"], upload=pdf("银行流水 2026.pdf"))


@pytest.mark.parametrize("who", ["officer", "officer2", "reviewer", "approver", "manager", "hq_manager"])
def test_it_downloads_the_file_under_its_original_name(client, staff, uploaded, who):
    client.force_login(staff[who])

    response = client.get(download_url(uploaded))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E9%93%B6%E8%A1%8C%E6%B5%81%E6%B0%B4%202026.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF_BYTES


@pytest.mark.parametrize("who", ["other_officer", "other_reviewer"])
def test_it_hides_the_file_from_another_branch(client, staff, uploaded, who):
    client.force_login(staff[who])

    assert client.get(download_url(uploaded)).status_code == 404


def test_it_sends_an_anonymous_download_to_sign_in(client, uploaded):
    response = client.get(download_url(uploaded))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_it_answers_404_for_a_material_not_uploaded_or_of_another_application(client, staff, draft, uploaded):
    missing = draft.materials.exclude(pk=uploaded.pk).first()
    other = make_application(staff["officer"], borrower=draft.borrower)
    client.force_login(staff["officer"])

    assert client.get(download_url(missing)).status_code == 404
    wrong_pair = reverse("applications:material_download", args=[other.pk, uploaded.pk])
    assert client.get(wrong_pair).status_code == 404


# --- checking ---------------------------------------------------------------------------------------------------


def test_it_lets_a_reviewer_accept_and_reject_with_a_reason(client, staff, product):
    application = submitted(staff["officer"])
    first, second = application.materials.order_by("pk")
    client.force_login(staff["reviewer"])

    page = client.get(reverse("applications:detail", args=[application.pk]) + "?tab=materials").content.decode()
    assert check_url(first) in page
    client.post(check_url(first), {"decision": "accept"})
    refused = client.post(check_url(second), {"decision": "reject", "reason": " "}, follow=True)
    assert any("Say why the material is rejected" in m for m in messages_of(refused))
    client.post(check_url(second), {"decision": "reject", "reason": "流水不足6个月"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Material.Status.ACCEPTED
    assert second.status == Material.Status.REJECTED
    assert second.rejection_reason == "流水不足6个月"
    assert (
        "流水不足6个月"
        in client.get(reverse("applications:detail", args=[application.pk]) + "?tab=materials").content.decode()
    )


def test_it_goes_back_to_a_safe_next_page_only(client, staff, product):
    application = submitted(staff["officer"])
    first, second = application.materials.order_by("pk")
    client.force_login(staff["reviewer"])
    review_page = reverse("applications:review_initial", args=[application.pk])

    local = client.post(check_url(first), {"decision": "accept", "next": review_page})
    foreign = client.post(check_url(second), {"decision": "accept", "next": "https://evil.example.com/"})

    assert local.url == review_page
    assert foreign.url.endswith(f"?tab=materials#material-{second.pk}")


def test_it_refuses_checking_to_the_officer(client, staff, product):
    application = submitted(staff["officer"])
    material = application.materials.first()
    client.force_login(staff["officer"])

    assert client.post(check_url(material), {"decision": "accept"}).status_code == 403
    material.refresh_from_db()
    assert material.status == Material.Status.UPLOADED


def test_it_explains_that_materials_are_checked_only_in_review(client, staff, draft, uploaded):
    client.force_login(staff["reviewer"])

    response = client.post(check_url(uploaded), {"decision": "accept"}, follow=True)

    assert "Materials are checked while the application is in review." in messages_of(response)
    uploaded.refresh_from_db()
    assert uploaded.status == Material.Status.UPLOADED
