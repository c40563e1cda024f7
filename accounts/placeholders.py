"""Role home pages that a later issue builds: a URL that already checks the role and says what will be there."""

from django.urls import path

from core.views import planned_page

from .permissions import action_required


def planned_path(route: str, name: str, *, action: str, title, issue: int, purpose):
    view = action_required(action)(planned_page)
    return path(route, view, {"title": title, "issue": issue, "purpose": purpose}, name=name)
