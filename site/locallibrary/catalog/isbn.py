"""ISBN-13: the form librarians type it in, and its check digit."""

from __future__ import annotations

# Librarians copy ISBNs from books and catalogues, which group the digits with these.
SEPARATORS = str.maketrans("", "", " -")


def normalized_isbn(typed: str) -> str:
    """The ISBN as it is stored: the digits only."""
    return typed.translate(SEPARATORS)


def isbn_problem(isbn: str) -> str | None:
    """What is wrong with a normalized ISBN-13, or None if nothing is."""
    if len(isbn) != 13 or not isbn.isascii() or not isbn.isdigit():
        return "An ISBN has 13 digits (spaces and hyphens between them are fine)."
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(isbn[:12]))
    if (10 - total % 10) % 10 != int(isbn[12]):
        return "That ISBN's last digit, its check digit, does not match the others: a typo?"
    return None
