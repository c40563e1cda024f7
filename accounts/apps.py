from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from .receivers import record_sign_in
        from .services import role_permissions_sync

        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(record_sign_in, dispatch_uid="accounts.record_sign_in")

        # Model permissions exist only after post_migrate has created them, so the admin group is granted them here.
        post_migrate.connect(role_permissions_sync, dispatch_uid="accounts.role_permissions_sync")
