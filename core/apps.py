from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from .periodic import sync_periodic_tasks

        def after_migrate(sender, **kwargs):
            # post_migrate fires once per app; the beat tables exist once django_celery_beat has migrated.
            if sender.label == "django_celery_beat":
                sync_periodic_tasks()

        post_migrate.connect(after_migrate, weak=False, dispatch_uid="core.sync_periodic_tasks")
