"""core.pagination: a page read with the count the list already has, and that count taken from status counts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Branch
from core.pagination import count_of_status, counted_page

COUNTS = {"active": 3, "overdue": 2, "paid_off": 5}


def test_a_status_filter_counts_its_statuses_and_no_filter_counts_them_all():
    assert count_of_status(COUNTS, "") == 10
    assert count_of_status(COUNTS, "overdue") == 2
    assert count_of_status(COUNTS, "written_off") == 0
    assert count_of_status(COUNTS, "open", groups={"open": ("active", "overdue")}) == 5


def test_a_counted_page_reads_only_its_rows(branches):
    names = list(Branch.objects.order_by("code").values_list("code", flat=True))
    with CaptureQueriesContext(connection) as captured:
        page = counted_page(Branch.objects.order_by("code"), count=len(names), number="2", per_page=2)
        rows = [branch.code for branch in page]
    assert rows == names[2:4]
    assert len(captured) == 1 and "COUNT(" not in captured[0]["sql"] and "OFFSET 2" in captured[0]["sql"]
    assert counted_page(Branch.objects.order_by("code"), count=len(names), number="99", per_page=2).number == 2
