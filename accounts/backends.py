"""The sign-in backend: Django's ModelBackend, with the signed-in user read together with their branch."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# The path sessions record; portal sign-in and the bench name it too.
USER_BACKEND = "accounts.backends.UserBackend"


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        """The user of a session, joined to their branch: almost every staff page narrows its rows to the branch
        (accounts.permissions.scope), which cost a query of its own on each request."""
        model = get_user_model()
        try:
            user = model._default_manager.select_related("branch").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
