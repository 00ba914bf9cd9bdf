"""RPPS numbers: 11 digits, the last a Luhn check digit over the first ten.

A number that is not 11 digits is refused with a form error. A number whose Luhn check fails is
accepted but recorded as "to verify": some numbers published as examples fail the check, so the
support team confirms them instead of the form refusing a real practitioner.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_check_digit(first_ten: str) -> str:
    """The digit that makes ``first_ten + digit`` pass the Luhn check."""
    for digit in "0123456789":
        if luhn_ok(first_ten + digit):
            return digit
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def normalise_rpps(value: str) -> str:
    return "".join(str(value).split())


def validate_rpps(value: str) -> None:
    value = normalise_rpps(value)
    if len(value) != 11 or not value.isdigit():
        raise ValidationError(
            _("An RPPS number has exactly 11 digits (you entered “%(value)s”)."),
            code="invalid_rpps",
            params={"value": value},
        )
