from decimal import Decimal

import pytest

from core.money import MONEY_QUANTUM, format_yuan, percent, rate_number, round_money, round_rate, to_decimal


def test_it_keeps_decimals_and_ints_exact():
    assert to_decimal(Decimal("12.345")) == Decimal("12.345")
    assert to_decimal(7) == Decimal(7)


def test_it_parses_strings_with_spaces_and_thousands_commas():
    assert to_decimal(" 1,234,567.89 ") == Decimal("1234567.89")
    assert to_decimal("1 000") == Decimal(1000)
    assert to_decimal("-0.5") == Decimal("-0.5")


@pytest.mark.parametrize("value", [1.5, 0.0, True])
def test_it_refuses_floats_and_bools(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize("value", [None, [1], object()])
def test_it_refuses_other_types(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize("value", ["", "abc", "1.2.3", "¥12", "NaN", "Infinity", Decimal("NaN")])
def test_it_rejects_garbage_and_non_finite_values(value):
    with pytest.raises(ValueError):
        to_decimal(value)


def test_it_rounds_half_up_to_the_fen():
    assert Decimal("0.01") == MONEY_QUANTUM
    assert round_money(Decimal("2.675")) == Decimal("2.68")
    assert round_money("-2.675") == Decimal("-2.68")
    assert round_money("2.674999") == Decimal("2.67")
    assert round_money(Decimal("0.005")) == Decimal("0.01")


def test_it_always_returns_two_decimal_places():
    assert str(round_money(5)) == "5.00"
    assert str(round_money("1,000.1")) == "1000.10"


def test_it_refuses_floats_when_rounding():
    with pytest.raises(TypeError):
        round_money(2.675)


def test_it_formats_yuan_with_grouping_and_sign():
    assert format_yuan(Decimal("1234567.89")) == "¥1,234,567.89"
    assert format_yuan(Decimal("-1234.56")) == "-¥1,234.56"
    assert format_yuan(0) == "¥0.00"
    assert format_yuan("999.995") == "¥1,000.00"


def test_it_formats_none_as_a_dash():
    assert format_yuan(None) == "—"


def test_it_formats_yuan_without_symbol():
    assert format_yuan(Decimal("1234.5"), symbol=False) == "1,234.50"
    assert format_yuan(Decimal("-1234.5"), symbol=False) == "-1,234.50"


def test_it_does_not_show_a_sign_for_an_amount_that_rounds_to_zero():
    assert format_yuan("-0.001") == "¥0.00"


def test_it_formats_rates_keeping_at_least_two_decimals():
    assert percent(Decimal("4.3500")) == "4.35%"
    assert percent(Decimal("4.3560")) == "4.356%"
    assert percent(Decimal("4.3565")) == "4.3565%"
    assert percent(Decimal("5.0000")) == "5.00%"
    assert percent(Decimal("0")) == "0.00%"
    assert percent(Decimal("100.0000")) == "100.00%"
    assert percent(Decimal("4.1000")) == "4.10%"


def test_it_writes_a_rate_inside_a_sentence_without_exponent_notation():
    # Decimal("10.0000").normalize() is "1E+1": a product rate range of 10% must not read "1E+1%".
    assert rate_number(Decimal("10.0000")) == "10.00"
    assert rate_number(Decimal("24.0000")) == "24.00"
    assert rate_number(Decimal("4.3500")) == "4.35"


def test_it_formats_a_missing_rate_as_a_dash():
    assert percent(None) == "—"


def test_it_refuses_float_rates():
    with pytest.raises(TypeError):
        percent(4.35)


def test_it_rounds_rates_half_up_to_four_decimals():
    assert round_rate("4.35005") == Decimal("4.3501")
    assert round_rate("4.35004") == Decimal("4.3500")
    assert round_rate(6) == Decimal("6.0000")
