"""Load the demo data: every app with a `demo.py` module contributes its part, in INSTALLED_APPS order.

Idempotent: each app's `seed(stdout)` looks rows up by natural keys, so running this twice changes nothing.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create or refresh the demo branches, users and data (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
