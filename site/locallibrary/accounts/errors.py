"""What goes wrong with an account in a way a person can fix: one line that says what to change."""

from __future__ import annotations


class AccountError(ValueError):
    """Bad input for an account (an email, a name, a password); the message is one line."""


class EmailTaken(AccountError):
    """The email already belongs to an account, in this spelling or another case of it."""
