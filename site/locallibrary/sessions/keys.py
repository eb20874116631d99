"""Session keys: 32 characters from a fixed 36-letter alphabet, drawn with `secrets` (165 bits)."""

from __future__ import annotations

import secrets
import string

ALPHABET = string.ascii_lowercase + string.digits
KEY_LENGTH = 32
_ALPHABET_SET = frozenset(ALPHABET)


def new_session_key() -> str:
    """One uniform draw below 36**32, written in base 36 with leading zeros."""
    number = secrets.randbelow(len(ALPHABET) ** KEY_LENGTH)
    digits = []
    for _ in range(KEY_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(digits)


def is_well_formed(key: str) -> bool:
    """Whether `key` could be one of ours; anything else is never looked up."""
    return len(key) == KEY_LENGTH and _ALPHABET_SET.issuperset(key)
