"""Strict NHS number validation.

Wraps the nhs-number package's check-digit algorithm with the rules it leaves out: exactly ten
ASCII digits (``str.isdigit`` and ``\\d`` accept other scripts' digits), no repdigits (every
repdigit passes modulus 11), and the 999 test range only where the deployment allows it.
"""

from __future__ import annotations

import nhs_number as _nhs

ASCII_DIGITS = frozenset("0123456789")


class InvalidNhsNumber(ValueError):
    """The value is not a valid NHS number; the message says why."""


def normalise(raw: str) -> str:
    """Drop the spaces and hyphens people type between the 3-3-4 groups."""
    return raw.replace(" ", "").replace("-", "")


def check_digit_ok(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(number[9])


def validate(raw: str, *, allow_test_range: bool) -> str:
    """Return the normalised NHS number or raise InvalidNhsNumber naming the problem."""
    if not isinstance(raw, str):
        raise InvalidNhsNumber("NHS number must be text")
    number = normalise(raw.strip())
    if len(number) != 10 or not set(number) <= ASCII_DIGITS:
        raise InvalidNhsNumber("NHS number must be 10 digits")
    if len(set(number)) == 1:
        raise InvalidNhsNumber("NHS number is not valid (repeated digit)")
    if not check_digit_ok(number) or not _nhs.is_valid(number):
        raise InvalidNhsNumber("NHS number is not valid (check digit does not match)")
    if number.startswith("9") and not allow_test_range:
        raise InvalidNhsNumber("NHS number is in the test range and cannot be used here")
    return number


def is_valid(raw: str, *, allow_test_range: bool) -> bool:
    try:
        validate(raw, allow_test_range=allow_test_range)
    except InvalidNhsNumber:
        return False
    return True


def with_check_digit(first_nine: str) -> str | None:
    """Complete nine digits into a valid NHS number, or None when no check digit exists."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return None
    return f"{first_nine}{check}"
