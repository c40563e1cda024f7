"""Mask personal data for display: enough to recognise a record, not enough to reuse it."""

import re

from core.identity import normalize_mobile

_NON_DIGITS_RE = re.compile(r"\D")


def _keep_ends(value: str, head: int, tail: int) -> str:
    # Too short to keep both ends and still hide something: hide everything.
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_identity_number(value: str | None) -> str:
    """Mask an identity number: "110101********1234" for 18 characters, else keep the first 1 and last 2."""
    number = (value or "").strip()
    if len(number) == 18:
        return _keep_ends(number, 6, 4)
    return _keep_ends(number, 1, 2)


def mask_phone(value: str | None) -> str:
    """Mask a phone number: "13812345678" -> "138****5678"; other numbers keep their last 4 digits."""
    number = normalize_mobile(value or "")
    if len(number) == 11:
        return _keep_ends(number, 3, 4)
    return _keep_ends(number, 0, 4)


def mask_name(value: str | None) -> str:
    """Mask a name word by word, keeping each first character: "张三" -> "张*", "John Smith" -> "J*** S****"."""
    words = (value or "").split()
    if len(words) == 1 and len(words[0]) == 1:
        return "*"  # a one-character name would otherwise be shown whole
    return " ".join(word[0] + "*" * (len(word) - 1) for word in words)


def mask_bank_account(value: str | None) -> str:
    """Mask a bank account number, keeping its last 4 digits: "**** 0123"."""
    digits = _NON_DIGITS_RE.sub("", value or "")
    if not digits:
        return ""
    if len(digits) <= 4:
        return "****"
    return f"**** {digits[-4:]}"
