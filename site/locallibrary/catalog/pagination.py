"""Page numbers from untrusted query strings, and the arithmetic of a paginated list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

PER_PAGE_CHOICES = (10, 25, 50, 100)
DEFAULT_PER_PAGE = PER_PAGE_CHOICES[0]


class InvalidPage(Exception):
    """The requested page does not exist; the message says why, for the 404 page."""


def page_number(raw: str | None, total: int, per_page: int) -> int:
    """The 1-based page asked for by `raw` (`?page=`), or InvalidPage when there is none such."""
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise InvalidPage("That page number is not a whole number.")
    number = int(raw)
    if not 1 <= number <= page_count(total, per_page):
        raise InvalidPage(f"There is no page {number}.")
    return number


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def count(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count
