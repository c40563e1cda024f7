"""The post-loan tables in the Django admin: every list and detail page renders, and nothing can be changed there."""

from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from postloan import models
from postloan.services import repayment_reverse

from .factories import disbursed_loan, on, post

pytestmark = pytest.mark.django_db

TABLES = [
    models.Contract,
    models.Disbursement,
    models.Loan,
    models.ScheduleVersion,
    models.Installment,
    models.Repayment,
    models.RepaymentReversal,
    models.Allocation,
    models.PenaltyAccrual,
    models.LoanEvent,
]


@pytest.fixture
def loan_with_history(staff, product):
    loan = disbursed_loan(staff)
    with on(date(2026, 2, 5)):
        repayment = post(loan, "100.00", paid_on=date(2026, 2, 5), reference="ADMIN-1", by=staff["officer"])
        repayment_reverse(repayment=repayment, by=staff["manager"], reason="test")
    models.PenaltyAccrual.objects.create(
        loan=loan,
        installment=loan.installments.first(),
        accrual_date=date(2026, 2, 11),
        overdue_principal="10000.00",
        penalty_rate="9.0000",
        amount="2.50",
    )
    return loan


@pytest.mark.parametrize("model", TABLES, ids=lambda model: model.__name__)
def test_it_lists_and_shows_every_table_read_only(admin_client, loan_with_history, model):
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:postloan_{opts.model_name}_changelist"), {"q": "HT"})
    detail = admin_client.get(reverse(f"admin:postloan_{opts.model_name}_change", args=[model.objects.first().pk]))

    assert changelist.status_code == 200
    assert detail.status_code == 200
    model_admin = admin.site._registry[model]
    request = changelist.wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_it_never_shows_the_full_account_number(admin_client, loan_with_history):
    disbursement = models.Disbursement.objects.get()

    page = admin_client.get(reverse("admin:postloan_disbursement_change", args=[disbursement.pk]))

    assert disbursement.account_number not in page.content.decode()
    assert "**** 0123" in page.content.decode()
