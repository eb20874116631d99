"""Raw bytes outside ASCII in a query string reach the site percent-encoded, as browsers send them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.asgi import InProcessSite, RawRequest, in_process_site
from tests.html import parse


@pytest.fixture
def site(settings: Settings) -> Iterator[InProcessSite]:
    with in_process_site(create_app(settings)) as site:
        yield site


def get(site: InProcessSite, target: bytes) -> tuple[int, str]:
    response = site.send(RawRequest("GET", target, ((b"host", b"testserver"),)))
    return response.status, response.body.decode("utf-8")


def test_a_page_that_names_its_own_url_takes_a_query_that_is_not_utf8(site: InProcessSite) -> None:
    status, page = get(site, b"/catalog/?\xff\xfe=\xc3\x28")
    assert status == 200
    # The notice's form sends the visitor back to this URL, as a browser would have written it.
    assert parse(page).css_first('input[name="next"]').attributes["value"] == (
        "/catalog/?%FF%FE=%C3("
    )


def test_the_slash_redirect_takes_a_query_that_is_not_utf8(site: InProcessSite) -> None:
    response = site.send(RawRequest("GET", b"/catalog/books?page=\xff", ((b"host", b"t"),)))
    assert response.status == 307
    assert response.header("location") == "http://t/catalog/books/?page=%FF"
