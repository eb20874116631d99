"""The site in a real browser: the counts box, boosted navigation, pagination, no-JS and layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from locallibrary.catalog.pagination import DEFAULT_PER_PAGE

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the browser fixtures skip (or fail) every test before this matters
    pass

from tests.browser.helpers import (
    BOOK_LINKS,
    DEMO,
    TITLES,
    assert_no_full_load,
    set_marker,
    sidebar_link,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser

PAGES = -(-len(TITLES) // DEFAULT_PER_PAGE)


def page_titles(number: int) -> list[str]:
    start = (number - 1) * DEFAULT_PER_PAGE
    return TITLES[start : start + DEFAULT_PER_PAGE]


def page_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Pages").get_by_role("link", name=name, exact=True)


def test_home_page_shows_the_record_counts(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/")
    counts = page.locator("#catalog-counts")
    expect(counts).to_be_visible()
    expect(counts.locator("[data-count=books]")).to_have_text(str(len(DEMO["books"])))
    expect(counts.locator("[data-count=authors]")).to_have_text(str(len(DEMO["authors"])))
    expect(counts.locator("[data-count=genres]")).to_have_text(str(len(DEMO["genres"])))
    for kind in ("copies", "copies_available"):
        expect(counts.locator(f"[data-count={kind}]")).to_have_text(re.compile(r"^\s*\d+\s*$"))


def test_sidebar_link_swaps_the_page_without_a_reload(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/")
    wait_for_htmx(page)
    set_marker(page)

    sidebar_link(page, "All books").click()

    expect(page).to_have_url(f"{live_url}/catalog/books/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(1))
    expect(page).to_have_title(re.compile("All books"))
    assert_no_full_load(page)


def test_pagination_swaps_the_list_and_back_restores_it(page: Page, live_url: str) -> None:
    assert PAGES >= 2, "the demo catalog fills more than one page"
    page.goto(f"{live_url}/catalog/books/")
    wait_for_htmx(page)
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(1))
    expect(page.locator(".pagination-current")).to_have_text(f"Page 1 of {PAGES}")
    set_marker(page)

    page_link(page, "next").click()

    expect(page).to_have_url(f"{live_url}/catalog/books/?page=2")
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(2))
    expect(page.locator(".pagination-current")).to_have_text(f"Page 2 of {PAGES}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    expect(page.locator("#book-list")).to_have_count(1)  # swapped, not nested
    assert_no_full_load(page)

    page.go_back()

    expect(page).to_have_url(f"{live_url}/catalog/books/")
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(1))
    expect(page.locator(".pagination-current")).to_have_text(f"Page 1 of {PAGES}")
    expect(page.locator("#book-list")).to_have_count(1)


def test_links_work_without_javascript(new_page: Callable[..., Page], live_url: str) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/catalog/")
    expect(page.locator("#catalog-counts")).to_be_visible()

    sidebar_link(page, "All books").click()
    expect(page).to_have_url(f"{live_url}/catalog/books/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(1))

    page_link(page, "next").click()
    expect(page).to_have_url(f"{live_url}/catalog/books/?page=2")
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(2))
    expect(page.locator(".pagination-current")).to_have_text(f"Page 2 of {PAGES}")
    # A full page, not the list fragment alone.
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    page_link(page, "previous").click()
    expect(page).to_have_url(f"{live_url}/catalog/books/?page=1")
    expect(page.locator(BOOK_LINKS)).to_have_text(page_titles(1))

    sidebar_link(page, "All authors").click()
    expect(page).to_have_url(f"{live_url}/catalog/authors/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Author list")

    sidebar_link(page, "Home").click()
    expect(page).to_have_url(f"{live_url}/catalog/")
    expect(page.locator("#catalog-counts")).to_be_visible()


VIEWPORTS = {390: 844, 1280: 800}


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_nothing_overflows_horizontally(
    new_page: Callable[..., Page], live_url: str, artifacts_dir: Path, width: int
) -> None:
    page = new_page(viewport={"width": width, "height": VIEWPORTS[width]})

    page.goto(f"{live_url}/catalog/books/")
    first_book = page.locator(BOOK_LINKS).first
    expect(first_book).to_have_text(TITLES[0])
    book_url = first_book.get_attribute("href")
    assert book_url is not None and book_url.startswith("/catalog/book/")

    for name, path, heading in [
        ("home", "/catalog/", "Local Library home"),
        ("books", "/catalog/books/", "Book list"),
        ("book", book_url, f"Title: {TITLES[0]}"),
    ]:
        page.goto(f"{live_url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.screenshot(path=artifacts_dir / f"{name}-{width}.png", full_page=True)
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, (
            f"{path} at {width} px wide: the page is {scroll_width} px wide, "
            f"wider than the {inner_width} px window"
        )
