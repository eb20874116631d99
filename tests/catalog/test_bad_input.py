"""Bad input gets the site's styled 404 page, never a 500 or a traceback."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.html import parse, text


def assert_styled_404(response_text: str) -> None:
    tree = parse(response_text)
    assert text(tree.css_first("h1")) == "Page not found"
    assert tree.css_first("nav.sidebar") is not None, "the 404 page uses the site's layout"
    assert "Traceback" not in response_text


@pytest.mark.parametrize(
    "path",
    [
        "/catalog/books/?page=abc",
        "/catalog/books/?page=0",
        "/catalog/books/?page=-3",
        "/catalog/books/?page=99999999",
        "/catalog/books/?page=1.5",
        "/catalog/books/?page=%D9%A3",  # an Arabic-Indic digit: a digit to Python, not a page
        "/catalog/books/?page=" + "9" * 5000,
        "/catalog/authors/?page=abc",
        "/catalog/authors/?page=99999999",
        "/catalog/book/0",
        "/catalog/book/99999999999999999999",
        "/catalog/book/9223372036854775807",
        "/catalog/book/2147483648",
        "/catalog/book/9999999999",
        "/catalog/book/0000000000",
        "/catalog/book/00000000001",  # one digit more than an id can have
        "/catalog/book/" + "9" * 5000,  # past Python's integer-string conversion limit
        "/catalog/book/" + "0" * 4999 + "1",
        "/catalog/book/abc",
        "/catalog/book/-1",
        "/catalog/author/0",
        "/catalog/author/99999999999999999999",
        "/catalog/author/2147483648",
        "/catalog/author/" + "9" * 5000,
        "/catalog/author/abc",
        "/no/such/page",
        "/catalog/" + "x" * 6000,
        "/static/no-such-file.css",
    ],
)
def test_bad_paths_get_a_styled_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_styled_404(response.text)


@pytest.mark.parametrize("path", ["/catalog/book/0000000001", "/catalog/author/0000000001"])
def test_an_id_with_leading_zeros_up_to_ten_digits_is_still_that_id(
    client: TestClient, path: str
) -> None:
    assert client.get(path).status_code == 200


def test_a_long_query_string_is_ignored_where_it_means_nothing(client: TestClient) -> None:
    response = client.get("/catalog/?" + "q=" + "x" * 7000)
    assert response.status_code == 200


def test_wrong_method_gets_a_styled_405(client: TestClient) -> None:
    response = client.delete("/catalog/books/")
    assert response.status_code == 405
    assert text(parse(response.text).css_first("h1")) == "Method not allowed"


@pytest.mark.parametrize(
    "path,fields",
    [
        ("/catalog/preferences/per-page", {"list": "books", "per_page": "25"}),
        ("/catalog/notice/dismiss", {"next": "/catalog/"}),
    ],
)
def test_a_file_posted_to_a_form_is_a_400(
    client: TestClient, path: str, fields: dict[str, str]
) -> None:
    """The forms have no file fields: a file is refused before it is spooled to disk."""
    response = client.post(path, data=fields, files={"upload": ("a.txt", b"x" * 100)})
    assert response.status_code == 400
    assert text(parse(response.text).css_first("h1")) == "Bad request"
