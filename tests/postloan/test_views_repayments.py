"""Money on a loan through its pages: the htmx preview of a repayment, posting it (once, however often the form is
sent), reversing it with a reason by someone else, and the payoff quote and posting."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from postloan.models import Loan, Repayment

from .factories import disbursed_loan, on, post

pytestmark = pytest.mark.django_db

PAY_DAY = date(2026, 2, 5)


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def url(name: str, loan, *args) -> str:
    return reverse(name, args=[loan.pk, *args])


def payment(**overrides) -> dict:
    return {
        "amount": "10600.00",
        "paid_on": "2026-02-05",
        "channel": "bank_transfer",
        "reference": "ICBC-0001",
        "overpayment": "credit",
        "idempotency_key": "HT-KEY-1",
    } | overrides


# --- the form and its preview -------------------------------------------------------------------------------------
def test_it_shows_the_form_with_today_and_a_fresh_idempotency_key(client, staff, loan):
    client.force_login(staff["officer"])

    with on(PAY_DAY):
        first = client.get(url("postloan:repayment_post", loan))
        second = client.get(url("postloan:repayment_post", loan))

    assert first.status_code == 200
    content = first.content.decode()
    assert 'value="2026-02-05"' in content
    assert f'hx-post="{url("postloan:repayment_preview", loan)}"' in content
    keys = [response.context["form"].initial["idempotency_key"] for response in (first, second)]
    assert keys[0] != keys[1] and keys[0].startswith(loan.number)


def test_it_previews_the_allocation_as_an_htmx_fragment_and_writes_nothing(client, staff, loan):
    client.force_login(staff["officer"])

    with on(PAY_DAY):
        response = client.post(
            url("postloan:repayment_preview", loan), payment(amount="11000.00"), headers={"HX-Request": "true"}
        )

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content  # a fragment, not a page
    line = re.search(r'data-testid="preview-line-1">(.*?)</tr>', content, re.S).group(1)
    assert re.findall(r"¥[\d,.]+", line) == ["¥0.00", "¥600.00", "¥10,000.00", "¥10,600.00"]
    assert "¥400.00 is kept as credit for the next installments." in text(response)
    assert 'data-testid="confirm-repayment"' in content
    assert not Repayment.objects.exists()


def test_it_previews_a_refused_overpayment_without_a_confirm_button(client, staff, loan):
    client.force_login(staff["officer"])

    with on(PAY_DAY):
        response = client.post(
            url("postloan:repayment_preview", loan), payment(amount="11000.00", overpayment="refuse")
        )

    assert 'data-testid="preview-refused"' in response.content.decode()
    assert 'data-testid="confirm-repayment"' not in response.content.decode()


def test_it_explains_why_a_payment_cannot_be_previewed_in_the_users_language(client, staff, loan):
    client.force_login(staff["officer"])
    with on(PAY_DAY):
        response = client.post(url("postloan:repayment_preview", loan), payment(paid_on="2026-02-06"))
        assert "A repayment cannot be dated in the future." in text(response)
        assert 'data-testid="confirm-repayment"' not in response.content.decode()

        User.objects.filter(pk=staff["officer"].pk).update(preferred_language="zh-hans")
        response = client.post(url("postloan:repayment_preview", loan), payment(paid_on="2026-02-06"))
    assert "还款日期不能晚于今天。" in response.content.decode()


def test_it_shows_the_preview_on_a_full_page_without_htmx(client, staff, loan):
    client.force_login(staff["officer"])

    with on(PAY_DAY):
        response = client.post(url("postloan:repayment_post", loan), payment(preview="1"))

    assert response.status_code == 200
    assert "<html" in response.content.decode() and 'data-testid="allocation-preview"' in response.content.decode()
    assert not Repayment.objects.exists()


# --- posting ------------------------------------------------------------------------------------------------------
def test_it_posts_the_repayment_and_shows_it_on_the_loan(client, staff, loan):
    client.force_login(staff["officer"])

    with on(PAY_DAY):
        response = client.post(url("postloan:repayment_post", loan), payment(confirm="1"), follow=True)

    repayment = Repayment.objects.get()
    assert (repayment.reference, repayment.amount, repayment.posted_by) == (
        "ICBC-0001",
        Decimal("10600.00"),
        staff["officer"],
    )
    assert response.redirect_chain[-1][0].endswith(f"?tab=repayments#repayment-{repayment.pk}")
    assert "Repayment of ¥10,600.00 is posted (reference ICBC-0001)." in messages_of(response)
    loan.refresh_from_db()
    assert loan.outstanding_principal == Decimal("110000.00")


def test_it_posts_a_double_submit_once_and_says_so(client, staff, loan):
    client.force_login(staff["officer"])
    form = payment(confirm="1", reference="")  # cash without a receipt number: the hidden key is the reference

    with on(PAY_DAY):
        client.post(url("postloan:repayment_post", loan), form)
        again = client.post(url("postloan:repayment_post", loan), form, follow=True)

    assert Repayment.objects.count() == 1
    assert Repayment.objects.get().reference == "HT-KEY-1"
    assert any(
        "was already posted" in message and "nothing new was recorded" in message for message in messages_of(again)
    )
    assert Loan.objects.get(pk=loan.pk).outstanding_principal == Decimal("110000.00")


def test_it_shows_form_errors_and_posts_nothing(client, staff, loan):
    client.force_login(staff["officer"])

    with on(PAY_DAY):
        response = client.post(url("postloan:repayment_post", loan), payment(confirm="1", amount="-5"))
        assert response.status_code == 400
        response = client.post(
            url("postloan:repayment_post", loan), payment(confirm="1", amount="11000.00", overpayment="refuse")
        )

    assert response.status_code == 400
    assert "At most ¥10,600.00 is payable now; this payment is ¥400.00 more." in text(response)
    assert not Repayment.objects.exists()


def test_it_refuses_posting_to_other_roles_and_branches(client, staff, loan):
    with on(PAY_DAY):
        client.force_login(staff["manager"])
        assert client.get(url("postloan:repayment_post", loan)).status_code == 403
        assert client.post(url("postloan:repayment_preview", loan), payment()).status_code == 403
        assert client.post(url("postloan:repayment_post", loan), payment(confirm="1")).status_code == 403
        client.force_login(staff["other_officer"])
        assert client.post(url("postloan:repayment_post", loan), payment(confirm="1")).status_code == 404
        assert client.post(url("postloan:repayment_preview", loan), payment()).status_code == 404
    assert not Repayment.objects.exists()


# --- reversal -----------------------------------------------------------------------------------------------------
@pytest.fixture
def repayment(staff, loan):
    with on(PAY_DAY):
        return post(loan, "10600.00", paid_on=PAY_DAY, reference="ICBC-0001", by=staff["officer"])


def test_it_reverses_a_repayment_with_a_reason(client, staff, loan, repayment):
    client.force_login(staff["manager"])

    with on(date(2026, 2, 6)):
        form = client.get(url("postloan:repayment_reverse", loan, repayment.pk))
        assert "ICBC-0001" in text(form) and "¥10,600.00" in text(form)
        response = client.post(url("postloan:repayment_reverse", loan, repayment.pk), {"reason": "退票"}, follow=True)

    repayment.refresh_from_db()
    assert repayment.is_reversed and repayment.reversal.reason == "退票"
    assert Loan.objects.get(pk=loan.pk).outstanding_principal == Decimal("120000.00")
    assert "Repayment ICBC-0001 of ¥10,600.00 is reversed; the loan's balances are recomputed." in messages_of(response)


def test_it_requires_a_reason_and_reverses_nothing_without_one(client, staff, loan, repayment):
    client.force_login(staff["risk"])

    with on(date(2026, 2, 6)):
        response = client.post(url("postloan:repayment_reverse", loan, repayment.pk), {"reason": "  "})

    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert not Repayment.objects.get().is_reversed


def test_it_refuses_reversal_to_the_poster_other_roles_and_branches(
    client, staff, loan, repayment, make_user, branches
):
    poster = make_user("poster_manager", "officer", "manager", branch=branches["BJ"], preferred_language="en")
    with on(date(2026, 2, 5)):
        own = post(loan, "100.00", paid_on=PAY_DAY, reference="CASH-1", by=poster)
    with on(date(2026, 2, 6)):
        client.force_login(poster)
        response = client.post(url("postloan:repayment_reverse", loan, own.pk), {"reason": "mine"}, follow=True)
        assert "another colleague must review or confirm it" in " ".join(messages_of(response))
        client.force_login(staff["officer2"])
        assert client.get(url("postloan:repayment_reverse", loan, repayment.pk)).status_code == 403
        client.force_login(staff["other_manager"])
        assert client.get(url("postloan:repayment_reverse", loan, repayment.pk)).status_code == 404
        other_loan = disbursed_loan(staff, identity="110105199001011232")
        client.force_login(staff["manager"])
        assert client.get(url("postloan:repayment_reverse", other_loan, repayment.pk)).status_code == 404
    assert not Repayment.objects.filter(is_reversed=True).exists()


# --- payoff -------------------------------------------------------------------------------------------------------
def test_it_quotes_and_posts_the_payoff(client, staff, loan):
    client.force_login(staff["officer"])

    with on(date(2026, 1, 25)):
        page = client.get(url("postloan:payoff", loan))
        # 15 days of interest on 120,000 at 6 % (day count 360): 300.00.
        assert "¥120,300.00" in text(page)
        quote = client.get(url("postloan:payoff_quote", loan), {"on_date": "2026-01-20"})
        assert "<html" not in quote.content.decode()
        assert re.search(r'data-testid="payoff-total">\s*¥120,200.00', quote.content.decode())
        form = {
            "on_date": "2026-01-25",
            "channel": "bank_transfer",
            "reference": "PAYOFF-1",
            "expected_total": "120300.00",
            "idempotency_key": "K",
        }
        response = client.post(url("postloan:payoff", loan), form, follow=True)

    assert "Payoff of ¥120,300.00 is posted: the loan is paid off." in messages_of(response)
    assert Loan.objects.get(pk=loan.pk).status == "paid_off"


def test_it_refuses_a_payoff_whose_amount_changed_since_the_quote(client, staff, loan):
    client.force_login(staff["officer"])
    form = {
        "on_date": "2026-01-25",
        "channel": "bank_transfer",
        "reference": "PAYOFF-1",
        "expected_total": "120000.00",
        "idempotency_key": "K",
    }

    with on(date(2026, 1, 25)):
        response = client.post(url("postloan:payoff", loan), form)

    assert response.status_code == 400
    assert "The payoff amount is now ¥120,300.00, not ¥120,000.00" in text(response)
    assert Loan.objects.get(pk=loan.pk).status == "active"
    assert not Repayment.objects.exists()
