"""Session keys: 32 characters from a fixed 36-letter alphabet, drawn from `os.urandom` (165 bits).

The cookie carries the key; the store keeps only its hash (`stored_id`).
"""

from __future__ import annotations

import hashlib
import os
import string

ALPHABET = string.ascii_lowercase + string.digits
KEY_LENGTH = 32
_ALPHABET_SET = frozenset(ALPHABET)

# Each random byte below 252 (7 × 36) becomes one letter, byte % 36: every letter is equally
# likely. The four bytes above are dropped, so a draw of 40 bytes almost always holds 32 letters.
_ACCEPTED = 7 * len(ALPHABET)
_LETTER_OF_BYTE = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(_ACCEPTED)).ljust(
    256, b"-"
)
_DROPPED = bytes(range(_ACCEPTED, 256))


def new_session_key() -> str:
    """32 letters, each drawn uniformly and independently from ALPHABET."""
    letters = b""
    while len(letters) < KEY_LENGTH:
        letters += os.urandom(KEY_LENGTH + 8).translate(_LETTER_OF_BYTE, _DROPPED)
    return letters[:KEY_LENGTH].decode("ascii")


def is_well_formed(key: str) -> bool:
    """Whether `key` could be one of ours; anything else is never looked up."""
    return len(key) == KEY_LENGTH and _ALPHABET_SET.issuperset(key)


def stored_id(key: str) -> str:
    """What the store keeps in place of `key`: its SHA-256, hex (64 characters).

    Someone who reads the sessions table or a backup learns no cookie that would let them in,
    as Rails stores session ids since CVE-2019-16782. The key is 165 random bits, so a plain
    hash is enough: there is nothing to guess, and no salt or slow hash would add anything.
    """
    return hashlib.sha256(key.encode()).hexdigest()
