"""Password strength as the CNIL asks it (deliberation 2022-100): about 80 bits of entropy.

The CNIL counts entropy as length × log2(size of the alphabet used): 12 characters mixing
upper case, lower case, digits and symbols; 14 without symbols; 16 of letters only; and so on.
"""

import math
import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASSES = (
    (set(string.ascii_lowercase), 26),
    (set(string.ascii_uppercase), 26),
    (set(string.digits), 10),
)
SYMBOLS = 32  # printable ASCII punctuation; accented letters and other characters count here
# 12 characters over the 94 printable ASCII characters: the CNIL's own reference example.
REQUIRED_BITS = 12 * math.log2(26 + 26 + 10 + SYMBOLS) - 0.01


def entropy_bits(password: str) -> float:
    alphabet = 0
    for chars, size in CLASSES:
        if any(c in chars for c in password):
            alphabet += size
    if any(not any(c in chars for chars, _ in CLASSES) for c in password):
        alphabet += SYMBOLS
    return len(password) * math.log2(alphabet) if alphabet else 0.0


class CnilPasswordValidator:
    """Refuse passwords weaker than 12 mixed characters (CNIL 2022-100, about 80 bits)."""

    def validate(self, password: str, user=None) -> None:
        if entropy_bits(password) < REQUIRED_BITS:
            raise ValidationError(self.get_help_text(), code="password_too_weak")

    def get_help_text(self) -> str:
        return _(
            "Use at least 12 characters mixing upper case, lower case, digits and symbols, "
            "or a longer password: 14 characters without symbols, 16 of letters only, "
            "or 20 or more in a passphrase."
        )
