"""Validators for Chinese identity documents, company codes and mobile numbers.

Each validator raises django.core.exceptions.ValidationError with a translated message and a `code`, and returns the
normalized value so that forms can store exactly what was checked.
"""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.dates import local_today

# GB 11643-1999: the check character is CHECK_CHARS[sum(digit * weight) % 11].
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"
RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$")
# Province-level codes (GB/T 2260); 71 Taiwan, 81 Hong Kong, 82 Macao, 83 residence permits for Taiwan residents.
PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82, 83]
)
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")

# GB 32100-2015: the unified social credit code alphabet leaves out I, O, S, V and Z.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MOBILE_COUNTRY_PREFIX_RE = re.compile(r"^(?:\+86|0086|86)(\d{11})$")
_SPACES_RE = re.compile(r"\s+")


def _compact(value: object) -> str:
    # Users paste numbers with spaces (including the full-width one) and in lower case.
    return _SPACES_RE.sub("", "" if value is None else str(value)).upper()


def normalize_resident_id(value: object) -> str:
    """Strip spaces and upper-case a trailing x."""
    return _compact(value)


def resident_id_check_char(first17: str) -> str:
    """Compute the GB 11643-1999 check character for the first 17 digits of a resident identity number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"Expected 17 digits, got {first17!r}.")
    total = sum(int(digit) * weight for digit, weight in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


def validate_resident_id(value: object) -> str:
    """Validate an 18-character PRC resident identity number and return it normalized."""
    number = normalize_resident_id(value)
    if len(number) != 18:
        raise ValidationError(
            _("A resident identity number has 18 characters; this one has %(length)d."),
            code="resident_id_length",
            params={"length": len(number)},
        )
    if not RESIDENT_ID_RE.match(number):
        raise ValidationError(
            _("A resident identity number is 17 digits followed by a digit or X."),
            code="resident_id_format",
        )
    if int(number[:2]) not in PROVINCE_CODES:
        raise ValidationError(
            _("The region code %(region)s at the start of this identity number does not exist."),
            code="resident_id_region",
            params={"region": number[:2]},
        )
    _check_birth_date(number[6:14])
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The check digit does not match: this identity number has a typo."),
            code="resident_id_check_digit",
        )
    return number


def _check_birth_date(text: str) -> date:
    try:
        birth = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise ValidationError(
            _("The birth date %(date)s in this identity number is not a real date."),
            code="resident_id_birth_date",
            params={"date": text},
        ) from None
    if birth > local_today():
        raise ValidationError(
            _("The birth date %(date)s in this identity number is in the future."),
            code="resident_id_birth_date_future",
            params={"date": birth.isoformat()},
        )
    if birth < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            _("The birth date %(date)s in this identity number is before 1900."),
            code="resident_id_birth_date_too_early",
            params={"date": birth.isoformat()},
        )
    return birth


def birth_date_from_resident_id(value: object) -> date:
    """Return the birth date encoded in a valid resident identity number."""
    return _check_birth_date(validate_resident_id(value)[6:14])


def validate_passport(value: object) -> str:
    """Validate a passport number (5 to 20 letters or digits) and return it upper-cased."""
    number = _compact(value)
    if not PASSPORT_RE.match(number):
        raise ValidationError(
            _("A passport number is 5 to 20 letters or digits."),
            code="passport_format",
        )
    return number


def uscc_check_char(first17: str) -> str:
    """Compute the GB 32100-2015 check character for the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(char not in USCC_CHARS for char in first17):
        raise ValueError(f"Expected 17 characters from {USCC_CHARS}, got {first17!r}.")
    total = sum(USCC_CHARS.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(value: object) -> str:
    """Validate an 18-character unified social credit code (统一社会信用代码) and return it normalized."""
    code = _compact(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(length)d."),
            code="uscc_length",
            params={"length": len(code)},
        )
    if any(char not in USCC_CHARS for char in code):
        raise ValidationError(
            _("A unified social credit code uses only digits and capital letters other than I, O, S, V and Z."),
            code="uscc_format",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character does not match: this unified social credit code has a typo."),
            code="uscc_check_digit",
        )
    return code


def normalize_mobile(value: object) -> str:
    """Strip spaces, hyphens and a leading +86, 0086 or 86 country code from a mobile number."""
    number = re.sub(r"[\s\-]", "", "" if value is None else str(value))
    match = MOBILE_COUNTRY_PREFIX_RE.match(number)
    return match.group(1) if match else number


def validate_mobile(value: object) -> str:
    """Validate a mainland China mobile number and return it as 11 digits."""
    number = normalize_mobile(value)
    if not MOBILE_RE.match(number):
        raise ValidationError(
            _("Enter a mainland China mobile number: 11 digits starting with 13 to 19."),
            code="mobile_format",
        )
    return number
