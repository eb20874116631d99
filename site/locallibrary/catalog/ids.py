"""Catalog ids as they appear in URLs: a bounded run of digits, so a route never overflows.

Starlette's `int` convertor matches any number of digits and converts them with `int()`, which
raises past Python's integer-string conversion limit: that error happens while the router
matches, before any view or error page, and becomes a 500. Ours matches no more digits than the
largest id has, so a longer path matches no route and gets the site's 404 page, and converting
what it does match cannot fail.
"""

from __future__ import annotations

from starlette.convertors import Convertor

# The id columns are 32-bit INTEGERs, and a larger number cannot be a row (PostgreSQL's driver
# would refuse it, SQLite's would overflow past 64 bits).
MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))


class CatalogIdConvertor(Convertor[int]):
    """`{id:catalog_id}`: up to MAX_ID_DIGITS digits, leading zeros included, as an int.

    Ten digits can still be zero or above MAX_ID; the queries answer those with no row, and the
    view with a 404 that says so.
    """

    regex = f"[0-9]{{1,{MAX_ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        assert 0 < value <= MAX_ID, f"{value} is not a catalog id"
        return str(value)
