"""Field encryption (Fernet with key rotation) and keyed hashes for exact lookup of encrypted values."""

import hashlib
import hmac
from collections.abc import Iterable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A token could not be decrypted with any configured key, or is not a Fernet token at all."""


def _configured_keys() -> tuple[str, ...]:
    keys: str | Iterable[str] = settings.FIELD_ENCRYPTION_KEY
    if isinstance(keys, str):  # tolerate a single key or a comma-separated string
        keys = keys.split(",")
    cleaned = tuple(key.strip() for key in keys if key and key.strip())
    if not cleaned:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must hold at least one Fernet key.")
    return cleaned


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    # Keyed on the key tuple, so override_settings in tests gets its own instance.
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY holds an invalid Fernet key: {exc}") from None


def _fernet() -> MultiFernet:
    return _multi_fernet(_configured_keys())


def encrypt_text(plain: str) -> str:
    """Encrypt text with the newest key and return the Fernet token as a string."""
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a Fernet token with any configured key, raising DecryptionError if none fits."""
    try:
        return _fernet().decrypt(token).decode("utf-8")
    except (InvalidToken, TypeError, ValueError) as exc:
        raise DecryptionError("The value cannot be decrypted with any configured FIELD_ENCRYPTION_KEY.") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt a token under the newest key, raising DecryptionError if no configured key opens it."""
    try:
        return _fernet().rotate(token).decode("ascii")
    except (InvalidToken, TypeError, ValueError) as exc:
        raise DecryptionError("The value cannot be decrypted with any configured FIELD_ENCRYPTION_KEY.") from exc


def keyed_hash(value: str) -> str:
    """Return the hex HMAC-SHA256 of the stripped, upper-cased value under FIELD_HASH_KEY."""
    # Upper-casing makes a trailing "x" in an identity number hash like "X". Normalize further before calling.
    message = value.strip().upper().encode("utf-8")
    return hmac.new(settings.FIELD_HASH_KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()
