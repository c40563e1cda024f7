"""Production settings: everything in base, hardened. `python manage.py check --deploy` passes with zero warnings."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEV_FIELD_ENCRYPTION_KEY, DEV_FIELD_HASH_KEY, FIELD_ENCRYPTION_KEY, FIELD_HASH_KEY, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters in production.")
# Personal data encrypted with a key published in this repository would not be protected at all.
if DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEY or FIELD_HASH_KEY == DEV_FIELD_HASH_KEY:
    raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEY and FIELD_HASH_KEY for production (see .env.example).")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
