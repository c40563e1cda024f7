"""What a borrower does on the portal pages, and what it changes: answering a questionnaire, rating a follow-up,
saving preferences, sending a document, acknowledging the disclosure, and reading an overdue loan."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from applications.models import DisclosureAcknowledgement, Material
from followups import services as followup_services
from followups.models import FollowUp, SatisfactionSurvey
from tests.applications.factories import pdf

ANSWERS = {"q_funds_use": "yes", "q_business_status": "normal", "q_income_change": "same", "q_new_debts": "no"}


def test_answers_to_the_questionnaire_complete_the_follow_up_for_staff(client, world, staff):
    followup = world["questionnaire"].followup
    fresh_link = followup_services.questionnaire_send(followup=followup, by=staff["officer"])  # the old one expired
    client.force_login(world["owner_user"])
    overview = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:questionnaire", args=[fresh_link.pk]) in overview

    response = client.post(reverse("portal:questionnaire", args=[fresh_link.pk]), ANSWERS, follow=True)

    assert "Thank you. Your answers are sent to your loan officer." in response.content.decode()
    followup = FollowUp.objects.get(pk=followup.pk)
    assert (followup.status, followup.channel, followup.subject) == ("completed", "questionnaire", "borrower")
    assert followup.answers["business_status"] == "normal"


def test_an_expired_questionnaire_shows_no_form(client, world):
    client.force_login(world["owner_user"])
    page = client.get(reverse("portal:questionnaire", args=[world["questionnaire"].pk])).content.decode()
    assert 'data-testid="questionnaire-form"' not in page
    assert "There is nothing to answer here any more." in page


def test_the_borrower_rates_a_completed_follow_up_once(client, world):
    followup = world["rated_followup"]  # completed in March: too long ago to ask about
    client.force_login(world["owner_user"])
    url = reverse("portal:followup_rate", args=[followup.pk])
    late = client.post(url, {"rating": "4"}, follow=True)
    assert "This follow-up was more than 30 days ago." in late.content.decode()
    assert not SatisfactionSurvey.objects.exists()

    FollowUp.objects.filter(pk=followup.pk).update(completed_at=timezone.now())
    assert reverse("portal:followup_rate", args=[followup.pk]) in client.get(reverse("portal:home")).content.decode()
    client.post(url, {"rating": "4", "comment": "Friendly call."})
    second = client.post(url, {"rating": "1"}, follow=True)

    survey = SatisfactionSurvey.objects.get(followup=followup)
    assert (survey.rating, survey.comment, survey.channel, survey.officer) == (
        4,
        "Friendly call.",
        "phone",
        staff_officer(world),
    )
    assert "You have already rated this. Thank you." in second.content.decode()
    assert SatisfactionSurvey.objects.filter(followup=followup).count() == 1


def staff_officer(world):
    return world["rated_followup"].completed_by


def test_preferences_are_saved_and_a_bad_window_changes_nothing(client, world):
    owner = world["owner"]
    client.force_login(world["owner_user"])
    url = reverse("portal:preferences")
    good = {"language": "zh-hans", "sms_reminders": "on", "contact_from_hour": "18", "contact_to_hour": "21"}
    assert client.post(url, good).status_code == 302
    owner.refresh_from_db()
    assert (owner.sms_reminders, owner.email_reminders, owner.contact_from_hour, owner.contact_to_hour) == (
        True,
        False,
        18,
        21,
    )
    assert owner.user.preferred_language == "zh-hans"

    bad = client.post(url, good | {"contact_from_hour": "20", "contact_to_hour": "9", "language": "en"})
    assert bad.status_code == 400
    owner.refresh_from_db()
    assert (owner.contact_from_hour, owner.contact_to_hour, owner.user.preferred_language) == (18, 21, "zh-hans")


def test_a_document_is_sent_and_a_fake_pdf_is_refused(client, world):
    material = world["material"]
    client.force_login(world["owner_user"])
    url = reverse("portal:material_upload", args=[world["preparing"].number, material.pk])
    fake = SimpleUploadedFile("statement.pdf", b"MZ this is not a pdf", content_type="application/pdf")

    refused = client.post(url, {f"m{material.pk}-file": fake})

    assert refused.status_code == 400
    assert Material.objects.get(pk=material.pk).status == "missing"
    sent = client.post(url, {f"m{material.pk}-file": pdf()}, follow=True)
    assert Material.objects.get(pk=material.pk).status == "uploaded"
    assert Material.objects.get(pk=material.pk).uploaded_by == world["owner_user"]
    assert "Received, being checked" in sent.content.decode()


def test_the_disclosure_is_acknowledged_once_on_the_portal(client, world):
    application = world["preparing"]
    client.force_login(world["owner_user"])
    url = reverse("portal:disclosure", args=[application.number])
    assert 'data-testid="acknowledge"' in client.get(url).content.decode()

    client.post(url)
    client.post(url)

    acknowledgement = DisclosureAcknowledgement.objects.get(application=application)
    assert acknowledgement.method == "portal"
    page = client.get(url).content.decode()
    assert 'data-testid="disclosure-acknowledged"' in page and 'data-testid="acknowledge"' not in page


def test_an_overdue_loan_is_explained_gently_with_how_to_pay_and_a_payoff_amount(client, world):
    loan = world["loan"]  # disbursed in January 2026 and never repaid: overdue today
    client.force_login(world["owner_user"])
    page = client.get(reverse("portal:loan", args=[loan.number]) + "?on_date=2026-12-31").content.decode()
    assert 'data-testid="overdue-help"' in page
    assert "has not been fully paid yet. Please pay as soon as you can" in page
    assert "**** 0123" in page or "0123" in page  # the account is shown masked
    assert "6222 0212 3456 7890 123" not in page
    assert 'data-testid="payoff-quote"' in page
    assert "To repay the whole loan on" in page
