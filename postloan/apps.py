from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostloanConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "postloan"
    verbose_name = _("Post-loan")
