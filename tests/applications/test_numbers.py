"""Application numbers: LA + the Shanghai year + a 6-digit sequence, consecutive, gap-free on rollback."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from applications.models import Application
from core.models import DocumentSequence, next_document_number

from .factories import make_application, make_borrower

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@time_machine.travel(datetime(2026, 5, 20, 2, 0, tzinfo=UTC), tick=False)
def test_it_numbers_applications_la_year_and_six_digits_consecutively(staff, product):
    officer = staff["officer"]
    borrower = make_borrower(officer)

    numbers = [make_application(officer, borrower=borrower).number for _ in range(3)]

    assert numbers == ["LA2026000001", "LA2026000002", "LA2026000003"]


@time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False)
def test_it_uses_the_shanghai_year_when_utc_is_still_in_the_old_year(staff, product):
    # 16:30 UTC on New Year's Eve is 00:30 on 1 January 2027 in Shanghai.
    application = make_application(staff["officer"])

    assert application.number == "LA2027000001"


def test_it_starts_each_year_at_one(staff, product):
    officer = staff["officer"]
    borrower = make_borrower(officer)
    with time_machine.travel(datetime(2026, 6, 1, 4, 0, tzinfo=UTC), tick=False):
        make_application(officer, borrower=borrower)
        last_of_2026 = make_application(officer, borrower=borrower)
    with time_machine.travel(datetime(2027, 1, 2, 4, 0, tzinfo=UTC), tick=False):
        first_of_2027 = make_application(officer, borrower=borrower)

    assert last_of_2026.number == "LA2026000002"
    assert first_of_2027.number == "LA2027000001"


@time_machine.travel(datetime(2026, 5, 20, 2, 0, tzinfo=UTC), tick=False)
def test_it_gives_the_number_back_when_the_transaction_rolls_back(staff, product):
    officer = staff["officer"]
    borrower = make_borrower(officer)
    make_application(officer, borrower=borrower)

    with pytest.raises(Rollback), transaction.atomic():
        lost = make_application(officer, borrower=borrower)
        assert lost.number == "LA2026000002"
        raise Rollback

    after = make_application(officer, borrower=borrower)

    assert after.number == "LA2026000002"
    assert list(Application.objects.order_by("number").values_list("number", flat=True)) == [
        "LA2026000001",
        "LA2026000002",
    ]


def test_it_keeps_one_counter_per_prefix_and_year(db):
    assert next_document_number("LA", 2026) == "LA2026000001"
    assert next_document_number("LN", 2026) == "LN2026000001"
    assert next_document_number("LA", 2026) == "LA2026000002"
    assert next_document_number("LA", 2027) == "LA2027000001"

    counters = {(s.prefix, s.year): s.last_value for s in DocumentSequence.objects.all()}
    assert counters == {("LA", 2026): 2, ("LN", 2026): 1, ("LA", 2027): 1}
