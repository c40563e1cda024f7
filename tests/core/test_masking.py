import pytest

from core.masking import mask_bank_account, mask_identity_number, mask_name, mask_phone


def test_it_masks_an_18_character_identity_number():
    assert mask_identity_number("110101199001011234") == "110101********1234"
    assert mask_identity_number("11010519491231002X") == "110105********002X"


def test_it_masks_other_identity_numbers_keeping_first_one_and_last_two():
    assert mask_identity_number("E12345678") == "E******78"
    assert mask_identity_number("H1234567") == "H*****67"


@pytest.mark.parametrize(("value", "masked"), [("", ""), (None, ""), ("AB", "**"), ("ABC", "***")])
def test_it_hides_short_or_empty_identity_numbers_entirely(value, masked):
    assert mask_identity_number(value) == masked


def test_it_masks_a_mobile_number():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"


def test_it_keeps_the_last_four_digits_of_other_phone_numbers():
    assert mask_phone("12345678") == "****5678"


@pytest.mark.parametrize(("value", "masked"), [("", ""), (None, ""), ("1234", "****")])
def test_it_hides_short_or_empty_phone_numbers_entirely(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("欧阳小明", "欧***"), ("John Smith", "J*** S****"), (" Mary  Ann Lee ", "M*** A** L**")],
)
def test_it_masks_names_keeping_the_first_character_of_each_word(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(("name", "masked"), [("李", "*"), ("", ""), (None, "")])
def test_it_hides_one_character_and_empty_names_entirely(name, masked):
    assert mask_name(name) == masked


def test_it_masks_a_bank_account_keeping_the_last_four_digits():
    assert mask_bank_account("6222 0212 3456 0123") == "**** 0123"
    assert mask_bank_account("6222-0212-3456-7890-123") == "**** 0123"


@pytest.mark.parametrize(("value", "masked"), [("", ""), (None, ""), ("123", "****"), ("1234", "****")])
def test_it_hides_short_or_empty_bank_accounts_entirely(value, masked):
    assert mask_bank_account(value) == masked
