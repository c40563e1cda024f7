from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.dates import local_today
from core.identity import (
    birth_date_from_resident_id,
    normalize_mobile,
    normalize_resident_id,
    resident_id_check_char,
    uscc_check_char,
    validate_mobile,
    validate_passport,
    validate_resident_id,
    validate_uscc,
)

# The example from the GB 11643-1999 standard.
PUBLIC_EXAMPLE_ID = "11010519491231002X"
VALID_USCC = "91350100M000100Y43"


def make_resident_id(region: str = "110101", birth: str = "19900307", sequence: str = "123") -> str:
    first17 = f"{region}{birth}{sequence}"
    return first17 + resident_id_check_char(first17)


def wrong_check_char(number: str) -> str:
    right = number[17]
    return number[:17] + ("0" if right != "0" else "1")


def assert_rejected(validator, value, code):
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    assert excinfo.value.code == code


def test_it_computes_the_check_character_of_the_public_example():
    assert resident_id_check_char(PUBLIC_EXAMPLE_ID[:17]) == "X"
    assert resident_id_check_char("11010119900307123") == "3"


@pytest.mark.parametrize("first17", ["1101051949123100", "1101051949123100A", "110105194912310021"])
def test_it_refuses_to_compute_a_check_character_from_bad_input(first17):
    with pytest.raises(ValueError):
        resident_id_check_char(first17)


def test_it_accepts_the_public_example():
    assert validate_resident_id(PUBLIC_EXAMPLE_ID) == PUBLIC_EXAMPLE_ID


def test_it_accepts_generated_numbers_across_regions():
    for region in ("110101", "440305", "650102", "710000", "810000", "820000", "830000"):
        number = make_resident_id(region=region)
        assert validate_resident_id(number) == number


def test_it_normalizes_spaces_and_a_lower_case_x():
    assert normalize_resident_id(" 110105 19491231 002x ") == PUBLIC_EXAMPLE_ID
    assert validate_resident_id("110105\u300019491231002x") == PUBLIC_EXAMPLE_ID


def test_it_rejects_a_wrong_check_digit():
    assert_rejected(validate_resident_id, "110105194912310021", "resident_id_check_digit")
    assert_rejected(validate_resident_id, wrong_check_char(make_resident_id()), "resident_id_check_digit")


def test_it_explains_a_wrong_check_digit():
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            validate_resident_id("110105194912310021")
        # The message is lazy: read it while English is active.
        assert excinfo.value.messages == ["The check digit does not match: this identity number has a typo."]
    with translation.override("zh-hans"):
        assert excinfo.value.messages == ["校验码不符：此身份证号码可能有输入错误。"]


@pytest.mark.parametrize("value", ["11010519491231002", "11010519491231002X1", "", None])
def test_it_rejects_a_wrong_length(value):
    assert_rejected(validate_resident_id, value, "resident_id_length")


@pytest.mark.parametrize("value", ["11010519491231002A", "1101051949123100X2", "11010519491231OO2X"])
def test_it_rejects_letters_other_than_a_final_x(value):
    assert_rejected(validate_resident_id, value, "resident_id_format")


@pytest.mark.parametrize("region", ["990101", "000101", "160101", "840101"])
def test_it_rejects_an_unknown_region(region):
    assert_rejected(validate_resident_id, make_resident_id(region=region), "resident_id_region")


@pytest.mark.parametrize("birth", ["19990230", "19991301", "19990000", "20230229"])
def test_it_rejects_a_birth_date_that_does_not_exist(birth):
    assert_rejected(validate_resident_id, make_resident_id(birth=birth), "resident_id_birth_date")


def test_it_rejects_a_birth_date_in_the_future():
    tomorrow = local_today() + timedelta(days=1)
    number = make_resident_id(birth=tomorrow.strftime("%Y%m%d"))
    assert_rejected(validate_resident_id, number, "resident_id_birth_date_future")


def test_it_accepts_a_birth_date_of_today():
    number = make_resident_id(birth=local_today().strftime("%Y%m%d"))
    assert validate_resident_id(number) == number


def test_it_rejects_a_birth_date_before_1900():
    assert_rejected(validate_resident_id, make_resident_id(birth="18991231"), "resident_id_birth_date_too_early")


def test_it_checks_the_birth_date_before_the_check_digit():
    number = wrong_check_char(make_resident_id(birth="19990230"))
    assert_rejected(validate_resident_id, number, "resident_id_birth_date")


def test_it_reads_the_birth_date():
    assert birth_date_from_resident_id(PUBLIC_EXAMPLE_ID) == date(1949, 12, 31)
    assert birth_date_from_resident_id(make_resident_id(birth="20000229")) == date(2000, 2, 29)


def test_it_refuses_to_read_the_birth_date_of_an_invalid_number():
    with pytest.raises(ValidationError):
        birth_date_from_resident_id("110105194912310021")


def test_it_accepts_and_upper_cases_a_passport_number():
    assert validate_passport(" e1234 5678 ") == "E12345678"
    assert validate_passport("G1234") == "G1234"
    assert validate_passport("A" * 20) == "A" * 20


@pytest.mark.parametrize("value", ["E123", "A" * 21, "E1234-5678", "护照12345", ""])
def test_it_rejects_a_malformed_passport_number(value):
    assert_rejected(validate_passport, value, "passport_format")


def test_it_accepts_a_valid_unified_social_credit_code():
    assert validate_uscc(VALID_USCC) == VALID_USCC
    assert validate_uscc(" 91350100m000100y43 ") == VALID_USCC
    assert uscc_check_char(VALID_USCC[:17]) == "3"


@pytest.mark.parametrize("position", [0, 8, 15, 17])
def test_it_rejects_a_unified_social_credit_code_with_one_character_changed(position):
    replacement = "1" if VALID_USCC[position] != "1" else "2"
    changed = VALID_USCC[:position] + replacement + VALID_USCC[position + 1 :]
    assert_rejected(validate_uscc, changed, "uscc_check_digit")


def test_it_rejects_letters_outside_the_credit_code_alphabet():
    assert_rejected(validate_uscc, "91350100M000100I43", "uscc_format")


@pytest.mark.parametrize("value", ["91350100M000100Y4", "91350100M000100Y433", ""])
def test_it_rejects_a_credit_code_of_the_wrong_length(value):
    assert_rejected(validate_uscc, value, "uscc_length")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
    ],
)
def test_it_normalizes_mobile_numbers(raw, normalized):
    assert normalize_mobile(raw) == normalized
    assert validate_mobile(raw) == normalized


def test_it_keeps_a_leading_86_that_is_not_a_country_code():
    assert normalize_mobile("861234567") == "861234567"


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "23812345678", "+1 13812345678", ""])
def test_it_rejects_numbers_that_are_not_mainland_mobiles(value):
    assert_rejected(validate_mobile, value, "mobile_format")
