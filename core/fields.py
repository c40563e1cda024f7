"""Model fields that encrypt their value at rest."""

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.utils.translation import gettext_lazy as _

from core.crypto import decrypt_text, encrypt_text


class EncryptedTextField(models.TextField):
    """A TextField stored as a Fernet token and read back as plaintext.

    Every save produces a different token, so the column cannot be filtered, ordered or made unique on; store a
    core.crypto.keyed_hash of the value in a second, indexed column for exact lookups.
    """

    description = _("Text encrypted at rest")

    def from_db_value(self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper) -> str | None:
        """Decrypt a token read from the database."""
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def to_python(self, value: Any) -> str | None:
        """Return the plaintext as a string; values in Python are never tokens."""
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def get_prep_value(self, value: Any) -> str | None:
        """Encrypt the plaintext for the database."""
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)
