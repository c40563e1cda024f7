"""Badges are remembered per state and language (core.badges.per_language): a list shows the same badges many times."""

from django.template import Context, Template
from django.utils import translation


def render(template: str, **context) -> str:
    return Template("{% load loan_badges application_badges %}" + template).render(Context(context))


def test_a_remembered_badge_follows_the_active_language():
    template = (
        "{% loan_status_badge 'overdue' %} {% installment_badge 'paid' %} {% application_status_badge 'approved' %}"
    )
    with translation.override("zh-hans"):
        chinese = render(template)
    with translation.override("en"):
        english = render(template)
    with translation.override("zh-hans"):
        again = render(template)

    assert "逾期" in chinese and "已还清" in chinese and "Overdue" not in chinese
    assert "Overdue" in english and "Paid" in english and "Approved" in english and "逾期" not in english
    assert again == chinese


def test_each_state_and_days_past_due_get_their_own_badge():
    class Loan:
        def __init__(self, dpd: int, bucket: str):
            self.dpd, self.bucket = dpd, bucket

    with translation.override("en"):
        current = render("{% dpd_badge loan %}", loan=Loan(0, "current"))
        late = render("{% dpd_badge loan %}", loan=Loan(45, "31_60"))
        later = render("{% dpd_badge loan %}", loan=Loan(120, "91_180"))
        states = render("{% installment_badge 'paid' %}|{% installment_badge 'overdue' %}|{% installment_badge 'x' %}")

    assert ">Current<" in current
    assert "45 days past due" in late and "text-bg-warning" in late
    assert "120 days past due" in later and "text-bg-danger" in later
    assert states.split("|")[0] != states.split("|")[1]
    assert 'data-state="not_due"' in states.split("|")[2]
