"""Money helpers: every amount is a Decimal rounded once, half up, to the fen (0.01 yuan)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MONEY_QUANTUM = Decimal("0.01")
# Rates are stored as percent per year with 4 decimals.
RATE_QUANTUM = Decimal("0.0001")
EMPTY_DISPLAY = "—"


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert an amount to a finite Decimal, refusing floats."""
    # bool is an int subclass; True yuan is always a bug.
    if isinstance(value, float | bool):
        raise TypeError(f"Money values must be Decimal, int or str, not {type(value).__name__}.")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        result = _parse_decimal(value)
    else:
        raise TypeError(f"Money values must be Decimal, int or str, not {type(value).__name__}.")
    if not result.is_finite():
        raise ValueError(f"Not a finite amount: {value!r}")
    return result


def _parse_decimal(text: str) -> Decimal:
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"Not a number: {text!r}") from None


def round_money(value: Decimal | int | str) -> Decimal:
    """Round an amount to 0.01 with ROUND_HALF_UP: the only rounding rule for money."""
    return to_decimal(value).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)


def round_rate(value: Decimal | int | str) -> Decimal:
    """Round a percent-per-year rate to the 4 decimals the rate columns keep (ROUND_HALF_UP): the one place."""
    return to_decimal(value).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def format_yuan(amount: Decimal | int | str | None, *, symbol: bool = True) -> str:
    """Format an amount as "¥1,234.56" (or "-¥1,234.56"); None becomes "—"."""
    if amount is None:
        return EMPTY_DISPLAY
    rounded = round_money(amount)
    sign = "-" if rounded < 0 else ""  # "-0.00" after rounding a tiny negative must not show a sign
    prefix = "¥" if symbol else ""
    return f"{sign}{prefix}{abs(rounded):,.2f}"


def rate_number(value: Decimal | int | str) -> str:
    """A percent-per-year rate as a plain number with at least 2 decimals: Decimal("4.3500") -> "4.35", 10 -> "10.00".

    Not Decimal.normalize() alone: that turns 10 into "1E+1"."""
    rate = round_rate(value).normalize()
    if rate.as_tuple().exponent > -2:
        rate = rate.quantize(MONEY_QUANTUM)
    return f"{rate:f}"


def percent(value: Decimal | int | str | None) -> str:
    """Format a percent-per-year rate: Decimal("4.3500") -> "4.35%", keeping at least 2 decimals."""
    if value is None:
        return EMPTY_DISPLAY
    return f"{rate_number(value)}%"
