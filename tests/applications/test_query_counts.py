"""The list and detail pages cost the same number of queries whatever their rows (DESIGN.md: joined up front)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications import services

from .factories import RESIDENT_IDS, complete, make_application, make_borrower

pytestmark = pytest.mark.django_db

TABS = ("summary", "borrower", "materials", "assessment", "reviews", "timeline")


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def add_applications(officer, count: int) -> None:
    borrowers = [
        make_borrower(officer, number=number, name=f"借款人{index}") for index, number in enumerate(RESIDENT_IDS)
    ]
    for index in range(count):
        make_application(officer, borrower=borrowers[index % len(borrowers)])


@pytest.mark.parametrize("who", ["officer", "reviewer"])
def test_it_lists_3_or_30_applications_with_the_same_queries(client, staff, product, who):
    add_applications(staff["officer"], 3)
    client.force_login(staff[who])
    url = reverse("applications:list") + ("?show=branch" if who == "officer" else "")
    few = count_queries(client, url)

    add_applications(staff["officer"], 27)
    many = count_queries(client, url)

    assert few == many
    assert many <= 12


def grow(application, officer, *, materials: int, notes: int) -> None:
    for index in range(materials):
        services.material_add(application=application, by=officer, name=f"补充材料{index}", is_required=False)
    for index in range(notes):
        services.application_add_note(application=application, by=officer, text=f"备注{index}")


@pytest.mark.parametrize("tab", TABS)
def test_it_shows_2_or_12_materials_and_events_with_the_same_queries(client, staff, product, tab):
    small = complete(make_application(staff["officer"]), staff["officer"])
    large = complete(make_application(staff["officer"], borrower=small.borrower), staff["officer"])
    grow(large, staff["officer"], materials=10, notes=10)
    services.party_add(application=large, by=staff["officer"], role="guarantor", name="张伟", mobile="13912345678")
    assert small.materials.count() == 2
    assert large.materials.count() == 12
    assert large.events.count() >= small.events.count() + 10
    client.force_login(staff["officer"])

    few = count_queries(client, reverse("applications:detail", args=[small.pk]) + f"?tab={tab}")
    many = count_queries(client, reverse("applications:detail", args=[large.pk]) + f"?tab={tab}")

    assert few == many
    assert many <= 25


def test_it_shows_the_detail_page_to_a_manager_with_the_same_queries(client, staff, product):
    small = make_application(staff["officer"])
    large = make_application(staff["officer"], borrower=small.borrower)
    grow(large, staff["officer"], materials=10, notes=10)
    client.force_login(staff["manager"])

    few = count_queries(client, reverse("applications:detail", args=[small.pk]))
    many = count_queries(client, reverse("applications:detail", args=[large.pk]))

    assert few == many
