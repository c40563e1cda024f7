from decimal import Decimal

import pytest
from django.template import Context, Template


def render(template: str, **context) -> str:
    return Template("{% load loantrack %}" + template).render(Context(context))


def test_it_formats_yuan_in_templates():
    assert render("{{ amount|yuan }}", amount=Decimal("1234567.885")) == "¥1,234,567.89"
    assert render("{{ amount|yuan }}", amount=None) == "—"


def test_it_formats_rates_in_templates():
    assert render("{{ value|rate }}", value=Decimal("4.3500")) == "4.35%"


@pytest.mark.parametrize("bad", [1.5, "abc"])
def test_it_renders_bad_money_as_empty_instead_of_failing(bad):
    assert render("{{ amount|yuan }}|{{ amount|rate }}", amount=bad) == "|"


def test_it_masks_phones_and_identity_numbers_in_templates():
    assert render("{{ phone|mask_phone }}", phone="13812345678") == "138****5678"
    assert render("{{ number|mask_id }}", number="11010519491231002X") == "110105********002X"


def test_it_escapes_masked_values():
    assert render("{{ phone|mask_phone }}", phone="<script>1234") == "********1234"
    assert render("{{ value|mask_id }}", value="<b>x</b>") == "&lt;*****b&gt;"


def test_row_url_gives_each_row_the_link_reverse_gives_it():
    from django.urls import reverse

    html = render(
        "{% for pk in keys %}{% row_url 'postloan:detail' pk %} {% row_url 'applications:detail' pk %};{% endfor %}",
        keys=[1, 42, 918273645, 10**12],
    )
    expected = "".join(
        f"{reverse('postloan:detail', args=[pk])} {reverse('applications:detail', args=[pk])};"
        for pk in [1, 42, 918273645, 10**12]
    )
    assert html == expected


def test_a_row_link_needs_an_integer_key_in_its_path():
    from django.urls import NoReverseMatch

    from core.links import pk_url

    with pytest.raises(ValueError):
        pk_url("postloan:detail")("42/../../admin")
    with pytest.raises(NoReverseMatch):
        pk_url("accounts:home")


def test_it_shows_a_moment_to_the_minute_in_china_time_as_the_date_filter_does():
    from datetime import UTC, datetime

    moment = datetime(2026, 3, 15, 6, 5, 59, tzinfo=UTC)  # 14:05 in Shanghai
    assert render("{{ at|local_minute }}", at=moment) == "2026-03-15 14:05"
    assert render("{{ at|local_minute }}", at=moment) == render('{{ at|date:"Y-m-d H:i" }}', at=moment)
    assert render('{{ at|local_minute:"%m-%d" }}', at=moment) == "03-15 14:05"
    assert render("[{{ at|local_minute }}]", at=None) == "[]"


def test_it_names_a_term_in_months_in_each_language():
    from django.utils import translation

    with translation.override("en"):
        assert render("{{ n|months }}|{{ one|months }}", n=12, one=1) == "12 months|1 month"
    with translation.override("zh-hans"):
        assert render("{{ n|months }}", n=36) == "36 个月"


def test_an_age_is_told_in_its_largest_unit_in_each_language():
    from datetime import UTC, datetime, timedelta

    from django.utils import translation

    now = datetime(2026, 3, 15, 6, 5, tzinfo=UTC)
    ages = "{{ a|age:now }}|{{ b|age:now }}|{{ c|age:now }}|{{ d|age:now }}|[{{ none|age:now }}]"
    moments = {
        "a": now - timedelta(days=3, hours=23),
        "b": now - timedelta(hours=1, minutes=59),
        "c": now - timedelta(seconds=59),
        "d": now + timedelta(minutes=5),  # a clock a little ahead: not a negative age
        "none": None,
        "now": now,
    }
    with translation.override("en"):
        assert render(ages, **moments) == "3\xa0days|1\xa0hour|0\xa0minutes|0\xa0minutes|[]"
    with translation.override("zh-hans"):
        assert render(ages, **moments) == "3\xa0天|1\xa0小时|0\xa0分钟|0\xa0分钟|[]"
