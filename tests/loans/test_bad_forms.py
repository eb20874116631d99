"""Generated bad bodies on the desk's and patrons' forms, sent by a signed-in librarian: never a
500, the field's own message, and nothing stored.

Each body mixes the form's real fields, some with good values and some with bad ones (never
all good), with unknown fields and bytes that are not UTF-8; hypothesis writes no example
database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import hypothesis
import pytest
from hypothesis import strategies as st
from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.accounts.helpers import ANN, LIBBY, add_account, sign_in
from tests.db import sql
from tests.loans.helpers import available_copy

TODAY = dt.date.today()
BAD_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "9" * 5000,
            "-1",
            "0",
            "2147483648",
            "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
        ]
    ),
)
BAD_DATES = st.one_of(
    BAD_TEXT,
    st.sampled_from(["2026-02-30", "99999-01-01", "0000-01-01", "1-1-1", "31/12/2026"]),
    st.integers(-40, 60).map(lambda days: (TODAY + dt.timedelta(days=days)).isoformat()),
)
STORED = ("loans", "holds", "catalog_bookinstance")


def encoded(pairs: list[tuple[str, str]]) -> bytes:
    return b"&".join(
        quote_from_bytes(key.encode("utf-8", "surrogatepass")).encode()
        + b"="
        + quote_from_bytes(value.encode("utf-8", "surrogatepass")).encode()
        for key, value in pairs
    )


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {table: sql(database_url, f"SELECT * FROM {table} ORDER BY 1") for table in STORED}


@pytest.fixture
def librarian(settings: Settings, database_url: str) -> Iterator[TestClient]:
    add_account(database_url, LIBBY)
    add_account(database_url, ANN)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        assert sign_in(client, LIBBY).status_code == 303
        yield client


def test_bad_bodies_on_the_loans_forms_get_no_500_and_store_nothing(
    librarian: TestClient, database_url: str
) -> None:
    copy_id, book_id = available_copy(database_url)
    lend_values = {
        "copy": st.one_of(BAD_TEXT, st.just(copy_id.hex), st.just(str(copy_id).upper())),
        "patron": st.one_of(BAD_TEXT, st.just(ANN.email), st.just(ANN.name)),
        "due_back": BAD_DATES,
    }

    def is_good(field: str, value: str) -> bool:
        if field == "copy":
            return value.strip().lower().replace("-", "") == copy_id.hex
        if field == "patron":
            return value.strip().lower() in (ANN.email, ANN.name.lower())
        try:
            return TODAY <= dt.date.fromisoformat(value) <= TODAY + dt.timedelta(days=28)
        except ValueError:
            return False

    before = snapshot(database_url)

    @hypothesis.settings(max_examples=60, deadline=None, database=None)
    @hypothesis.given(
        fields=st.fixed_dictionaries({}, optional=lend_values),
        extra=st.lists(st.tuples(st.sampled_from(["copy", "x", "loan", "only"]), BAD_TEXT)),
        target=st.sampled_from(["lend", "return", "renew", "check", "hold", "cancel"]),
    )
    def any_body(fields: dict[str, str], extra: list[tuple[str, str]], target: str) -> None:
        if target == "lend":
            hypothesis.assume(not all(is_good(f, fields.get(f, "")) for f in lend_values))
        pairs = [*fields.items(), *extra]
        paths = {
            "lend": "/loans/lend",
            "return": "/loans/return",
            "renew": "/loans/1/renew",  # no loan is open: a renewal of it changes nothing
            "hold": f"/loans/holds/book/{book_id}",  # a copy is on the shelf: refused
            "cancel": "/loans/holds/1/cancel",
        }
        if target == "check":
            response = librarian.get("/loans/due-date/check?" + encoded(pairs).decode())
        else:
            response = librarian.post(
                paths[target],
                content=encoded(pairs),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        assert response.status_code < 500, response.text[:2000]
        assert response.headers["content-type"].startswith("text/html")
        if target == "lend":
            assert response.status_code == 200  # the form again, with its messages
        assert snapshot(database_url) == before

    any_body()
