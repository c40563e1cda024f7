"""Receivers of Django's sign-in signal."""

from django.conf import settings
from django.utils import timezone

from .models import User
from .services import user_set_language


def record_sign_in(sender, request, user, **kwargs) -> None:
    """Replace Django's update_last_login: a queryset update adds no empty row to the user's audit history.

    A language chosen on the sign-in page (the cookie) becomes the user's stored preference, so it is not lost.
    """
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) if request is not None else None
    if chosen in dict(settings.LANGUAGES):
        user_set_language(user=user, language=chosen)
