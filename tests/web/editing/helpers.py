"""What the catalog-editing tests share: a librarian's browser, the forms' valid bodies, reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
from starlette.testclient import TestClient

from tests.accounts.helpers import LIBBY, add_account, sign_in
from tests.db import sql
from tests.html import parse

# What the paths of the librarians' editing routes have in them: their pages, the checks made
# as one types, and the book form's choice of author.
EDITING_WORDS = ("/create", "/update", "/delete", "/_check/", "/_authors")

# A valid ISBN-13 that the demo catalog does not use, and one it does not either, for clashes.
FREE_ISBN = "9780000000019"
OTHER_FREE_ISBN = "9780000000026"


def as_librarian(client: TestClient, database_url: str) -> TestClient:
    add_account(database_url, LIBBY)
    assert sign_in(client, LIBBY).status_code == 303
    return client


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
Pairs = list[tuple[str, str]]


def post(client: TestClient, path: str, pairs: Pairs) -> httpx.Response:
    """Send a form as a browser does (repeated names for multiple choices, in this order);
    a redirect is not followed."""
    return client.post(path, content=urlencode(pairs), headers=FORM, follow_redirects=False)


def first(database_url: str, statement: str, **params: Any) -> Any:
    rows = sql(database_url, statement, **params)
    assert rows, statement
    return rows[0][0]


def form_fields(
    response: httpx.Response, selector: str = "form.edit-form"
) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would send with the page's form, as it stands."""
    form = parse(response.text).css_first(selector)
    assert form is not None, response.text[:2000]
    pairs: list[tuple[str, str]] = []
    for node in form.css("input, textarea, select"):
        name = node.attributes.get("name")
        if not name:
            continue
        kind = node.attributes.get("type")
        if node.tag == "select":
            pairs += [
                (name, option.attributes.get("value") or "")
                for option in node.css("option")
                if "selected" in option.attributes
            ]
        elif node.tag == "textarea":
            pairs.append((name, node.text()))
        elif kind in ("checkbox", "radio"):
            if "checked" in node.attributes:
                pairs.append((name, node.attributes.get("value") or ""))
        else:
            pairs.append((name, node.attributes.get("value") or ""))
    return pairs


def replaced(pairs: list[tuple[str, str]], **values: str | list[str]) -> list[tuple[str, str]]:
    """The pairs with the named fields' values replaced (a list for a multiple choice)."""
    kept = [(name, value) for name, value in pairs if name not in values]
    for name, value in values.items():
        kept += [(name, item) for item in value] if isinstance(value, list) else [(name, value)]
    return kept


def book_body(database_url: str, **values: str | list[str]) -> list[tuple[str, str]]:
    author_id = first(database_url, "SELECT min(id) FROM catalog_author")
    language_id = first(database_url, "SELECT min(id) FROM catalog_language")
    genre_id = first(database_url, "SELECT min(id) FROM catalog_genre")
    body = [
        ("title", "A new book"),
        ("author_id", str(author_id)),
        ("summary", "What happens in it."),
        ("isbn", FREE_ISBN),
        ("language_id", str(language_id)),
        ("genres", str(genre_id)),
    ]
    return replaced(body, **values)
