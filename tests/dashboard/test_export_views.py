"""The export pages: who may use them, asking for an export from a list page's Export button, the progress that
htmx polls, and the download that only the person who asked gets (and that the audit log records)."""

import re
from datetime import date

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import AuditEvent
from dashboard.models.exports import ExportJob, JobStatus
from tests.postloan.factories import disbursed_loan, on

TODAY = date(2026, 3, 15)


@pytest.fixture
def people(staff):
    """The staff read the pages in English (a signed-in user's stored language wins over everything else)."""
    for user in staff.values():
        user.preferred_language = "en"
        user.save(update_fields=["preferred_language"])
    return staff


@pytest.fixture
def loan(people, product):
    return disbursed_loan(people)


def _job(user, **fields) -> ExportJob:
    return ExportJob.objects.create(requested_by=user, kind="loans", file_format="xlsx", language="en", **fields)


def _urls(job: ExportJob) -> dict[str, str]:
    return {
        "list": reverse("dashboard:exports"),
        "detail": reverse("dashboard:export_detail", args=[job.pk]),
        "progress": reverse("dashboard:export_progress", args=[job.pk]),
        "download": reverse("dashboard:export_download", args=[job.pk]),
    }


def test_anonymous_people_sign_in_first_and_other_roles_are_refused(client, people):
    job = _job(people["manager"])
    login = reverse("accounts:login")
    for url in _urls(job).values():
        assert client.get(url)["Location"].startswith(login)
    assert client.post(reverse("dashboard:export_create"), {"kind": "loans"})["Location"].startswith(login)

    client.force_login(people["officer"])
    assert {name: client.get(url).status_code for name, url in _urls(job).items()} == dict.fromkeys(_urls(job), 403)
    assert client.post(reverse("dashboard:export_create"), {"kind": "loans", "file_format": "csv"}).status_code == 403
    assert ExportJob.objects.count() == 1


def test_the_export_button_posts_the_list_filters_and_the_file_is_ready_to_download(
    client, people, loan, django_capture_on_commit_callbacks
):
    client.force_login(people["manager"])
    with on(TODAY):
        page = client.get(reverse("postloan:list"), {"status": "active", "page": "1"}).content.decode()
    form = re.search(r'<form method="post"\s+action="/dashboard/exports/new/".*?</form>', page, re.S).group(0)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert hidden["kind"] == "loans" and hidden["status"] == "active"
    assert "page" not in hidden  # a page number is not a filter

    with django_capture_on_commit_callbacks(execute=True), on(TODAY):
        answer = client.post(reverse("dashboard:export_create"), hidden | {"file_format": "xlsx"})

    job = ExportJob.objects.get()
    assert answer["Location"] == reverse("dashboard:export_detail", args=[job.pk])
    assert (job.requested_by, job.kind, job.params) == (people["manager"], "loans", {"status": ["active"]})
    assert job.language == "en"
    assert job.status == JobStatus.DONE and job.rows_done == 1
    text = client.get(answer["Location"]).content.decode()
    assert "Status: Active" in text  # the filters named as the list names them
    assert 'data-testid="export-download"' in text and "Download the Excel file" in text
    assert "every 1s" not in text  # finished: nothing polls any more
    assert f'href="{reverse("postloan:list")}?status=active"' in text  # back to the list with the same filters


def test_a_bad_list_is_refused_with_a_message_and_nothing_is_recorded(client, people):
    client.force_login(people["manager"])

    answer = client.post(reverse("dashboard:export_create"), {"kind": "borrowers", "file_format": "xlsx"}, follow=True)

    assert answer.redirect_chain == [(reverse("dashboard:exports"), 302)]
    assert "Choose a list to export." in answer.content.decode()
    assert not ExportJob.objects.exists()


def test_the_progress_partial_polls_while_the_job_works_and_stops_when_it_ends(client, people):
    manager = people["manager"]
    client.force_login(manager)
    queued = _job(manager)
    running = _job(manager, status=JobStatus.RUNNING, rows_total=8000, rows_done=2000)
    failed = _job(manager, status=JobStatus.FAILED, error="The export was interrupted. Ask again.")

    def partial(job) -> str:
        return client.get(reverse("dashboard:export_progress", args=[job.pk])).content.decode()

    assert 'hx-trigger="every 1s"' in partial(queued) and "Waiting for a free worker" in partial(queued)
    running_html = partial(running)
    assert 'hx-trigger="every 1s"' in running_html and 'hx-swap="outerHTML"' in running_html
    assert 'aria-valuenow="25"' in running_html and "2000 of 8000 rows written" in running_html
    failed_html = partial(failed)
    assert "hx-trigger" not in failed_html
    assert "The export was interrupted. Ask again." in failed_html
    # Without JavaScript the detail page refreshes itself while the job works, and not after.
    assert '<meta http-equiv="refresh" content="3">' in client.get(_urls(running)["detail"]).content.decode()
    assert "http-equiv" not in client.get(_urls(failed)["detail"]).content.decode()


def test_only_the_person_who_asked_downloads_and_the_audit_log_records_it(
    client, people, loan, django_capture_on_commit_callbacks
):
    client.force_login(people["manager"])
    with django_capture_on_commit_callbacks(execute=True), on(TODAY):
        client.post(reverse("dashboard:export_create"), {"kind": "loans", "file_format": "csv", "status": "active"})
    job = ExportJob.objects.get()
    urls = _urls(job)

    answer = client.get(urls["download"])
    body = b"".join(answer.streaming_content)
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="loantrack-loans-20260315-1000.csv"'
    assert body.startswith(b"\xef\xbb\xbf") and loan.number.encode() in body
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_id, event.detail["rows"], event.detail["params"]) == (
        people["manager"],
        str(job.pk),
        1,
        {"status": ["active"]},
    )

    # A colleague of the same branch, head office and a Shanghai risk officer: as if it did not exist.
    for other in ("risk", "hq_manager", "other_risk"):
        client.force_login(people[other])
        assert {name: client.get(url).status_code for name, url in urls.items() if name != "list"} == {
            "detail": 404,
            "progress": 404,
            "download": 404,
        }
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_a_job_without_a_file_has_nothing_to_download(client, people):
    client.force_login(people["manager"])
    for job in (_job(people["manager"]), _job(people["manager"], status=JobStatus.FAILED)):
        assert client.get(_urls(job)["download"]).status_code == 404
    assert not AuditEvent.objects.exists()


def test_my_exports_lists_mine_newest_first_with_their_state(client, people):
    manager = people["manager"]
    _job(manager, status=JobStatus.DONE, rows_total=12, rows_done=12, file="exports/x.xlsx")
    _job(manager, status=JobStatus.FAILED)
    _job(people["risk"])
    client.force_login(manager)

    page = client.get(reverse("dashboard:exports"))

    text = page.content.decode()
    assert page.context["page_obj"].paginator.count == 2
    assert [job.status for job in page.context["page_obj"]] == ["failed", "done"]
    assert text.count('data-testid="export-row"') == 2 and ">Download<" in text

    client.force_login(people["risk"])
    assert "Loan book" in client.get(reverse("dashboard:exports")).content.decode()
    client.force_login(people["other_manager"])
    empty = client.get(reverse("dashboard:exports")).content.decode()
    assert 'data-testid="empty-state"' in empty and reverse("postloan:overdue") in empty
    assert reverse("followups:team") in empty
    client.force_login(people["other_risk"])  # the team page is the manager's: no link a risk officer cannot open
    empty = client.get(reverse("dashboard:exports")).content.decode()
    assert reverse("followups:warnings") in empty and reverse("followups:team") not in empty


@pytest.mark.parametrize(
    ("url_name", "kind"),
    [
        ("postloan:list", "loans"),
        ("postloan:overdue", "overdue"),
        ("applications:list", "applications"),
        ("followups:team", "followups"),
        ("followups:warnings", "warnings"),
        ("followups:inquiries", "inquiries"),
    ],
)
def test_every_exported_list_has_the_button_for_those_who_may_export(client, people, url_name, kind):
    client.force_login(people["manager"])
    page = client.get(reverse(url_name)).content.decode()
    assert 'data-testid="export-form"' in page
    assert f'<input type="hidden" name="kind" value="{kind}">' in page


def test_an_officer_sees_no_export_button(client, people):
    client.force_login(people["officer"])
    for url_name in ("postloan:list", "postloan:overdue", "applications:list", "followups:inquiries"):
        page = client.get(reverse(url_name))
        assert page.status_code == 200
        assert 'data-testid="export-form"' not in page.content.decode()


def test_the_button_costs_no_query_once_the_page_knows_the_viewer(people, django_assert_num_queries):
    request = RequestFactory().get("/loans/", {"status": "overdue", "q": "=1+1"})
    request.user = people["manager"]
    template = Template('{% include "dashboard/includes/export_button.html" with kind="loans" %}')
    template.render(Context({"request": request}))  # the roles are read once per request (the page's access check)

    with django_assert_num_queries(0):
        html = template.render(Context({"request": request}))

    assert '<input type="hidden" name="status" value="overdue">' in html
    assert '<input type="hidden" name="q" value="=1+1">' in html
