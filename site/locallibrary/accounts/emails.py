"""Email addresses: checked and normalized by email-validator, and the key that makes one account.

Two spellings of one address are one account: the key case-folds the local part (no mail
provider we know of tells `Ann` from `ann`) and takes the domain in its IDNA ASCII form, which
is how DNS compares domains. The domain is not case-folded as text: that would make `straße.de`
and `strasse.de`, two different domains, one.
"""

from __future__ import annotations

from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email

from locallibrary.accounts.errors import AccountError

# The width of the `email` and `email_key` columns (the longest address SMTP carries).
MAX_EMAIL_LENGTH = 254


class Email(NamedTuple):
    address: str  # as typed, normalized: where mail goes
    key: str  # what is unique


def parse_email(email: str) -> Email:
    """The address and its key, or AccountError saying what is wrong with it."""
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"That is not an email address: {error}") from error
    except UnicodeError as error:  # an unpaired surrogate, from a badly decoded argument
        raise AccountError(
            "That is not an email address: it holds an unreadable character."
        ) from error
    key = f"{checked.local_part.casefold()}@{checked.ascii_domain.lower()}"
    # Case-folding can lengthen the local part (ß becomes ss).
    if len(key) > MAX_EMAIL_LENGTH or len(checked.normalized) > MAX_EMAIL_LENGTH:
        raise AccountError("That email address is too long.")
    return Email(checked.normalized, key)


def email_key(email: str) -> str | None:
    """The account key of `email`, or None when it is not an address anyone can have."""
    try:
        return parse_email(email).key
    except AccountError:
        return None
