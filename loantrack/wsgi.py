"""
WSGI config for loantrack project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loantrack.settings.local")

application = get_wsgi_application()

# What is loaded by now (Django, the apps and models, every view module through the URL conf: about 140,000 objects)
# lives as long as the worker. Frozen, the garbage collector stops walking it on each full collection, which came
# every few dozen requests and took 80-120 ms: the loan list's slowest of 150 requests went from 101 to 29 ms
# (docs/performance.md).
import_module(settings.ROOT_URLCONF)
gc.freeze()
