"""A follow-up's status and risk level as badges (followups.templatetags.followup_badges)."""

from django.template import Context, Template
from django.utils import translation


def render(template: str) -> str:
    return Template("{% load followup_badges %}" + template).render(Context())


def test_the_status_badge_says_the_status_and_shades_what_waits_on_the_officer():
    with translation.override("en"):
        returned = render("{% followup_status_badge 'returned' %}")
        approved = render("{% followup_status_badge 'approved' %}")
        planned = render("{% followup_status_badge 'planned' %}")
    with translation.override("zh-hans"):
        chinese = render("{% followup_status_badge 'planned' %}")

    assert 'data-status="returned"' in returned and "text-bg-warning" in returned
    assert "Returned for correction" in returned
    assert "Approved" in approved and "text-bg-light border" in approved
    assert "Planned" in planned and "text-bg-primary" in planned
    assert "已计划" in chinese


def test_the_risk_badge_shades_each_level_and_shows_nothing_without_one():
    with translation.override("en"):
        levels = [render(f"{{% risk_level_badge '{level}' %}}") for level in ("high", "medium", "low")]
        none = render("{% risk_level_badge '' %}")

    assert ["text-bg-danger" in levels[0], "text-bg-warning" in levels[1], "text-bg-success" in levels[2]] == [True] * 3
    assert 'data-risk="high"' in levels[0] and ">High<" in levels[0]
    assert none == ""
