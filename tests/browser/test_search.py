"""Search in a real browser: results narrowing as the visitor types, Back in one step, the same
without JavaScript, the announced count, and markup in a title that never runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

try:
    from playwright.sync_api import Dialog, Page, expect
except ImportError:  # the browser fixtures skip (or fail) every test before this matters
    pass

from tests.browser.helpers import assert_no_full_load, set_marker, wait_for_htmx
from tests.db import sql

pytestmark = pytest.mark.browser

TITLE = "The Picture of Dorian Gray"
RESULTS = "#search-results .results li > a"
COUNT = re.compile(r"^(\d+) books? found\.$")


def announced(page: Page) -> int:
    """The number of results the live region announces."""
    status = page.get_by_role("status")
    expect(status).to_have_text(COUNT)
    match = COUNT.match(status.inner_text().strip())
    assert match is not None
    return int(match.group(1))


def search_from_the_header(page: Page, typed: str) -> None:
    box = page.get_by_role("searchbox", name="Search the catalog")
    box.fill(typed)
    box.press("Enter")


def test_results_narrow_as_the_visitor_types_and_back_leaves_in_one_step(
    page: Page, live_url: str
) -> None:
    page.goto(f"{live_url}/catalog/")
    wait_for_htmx(page)
    search_from_the_header(page, "the")
    expect(page).to_have_url(f"{live_url}/catalog/search?q=the")
    wait_for_htmx(page)
    counts = [announced(page)]
    set_marker(page)

    box = page.get_by_role("searchbox", name="Search the catalog")
    box.press("End")
    for more, words in (
        (" pic", ("the", "pic")),
        ("ture of dorian", ("the", "picture", "of", "dorian")),
    ):
        box.press_sequentially(more, delay=120)  # a visitor typing, not pasting
        # The URL follows (htmx encodes a space as %20, a form as +).
        expect(page).to_have_url(re.compile(r"\?q=" + "(%20|\\+)".join(words) + "$"))
        wait_for_htmx(page)
        counts.append(announced(page))
    expect(page.locator(RESULTS).first).to_have_text(TITLE)
    assert counts[0] > counts[1] >= counts[2] == 1, counts
    assert_no_full_load(page)  # the results were swapped in, under the box that kept its text
    expect(box).to_have_value("the picture of dorian")

    page.go_back()
    expect(page).to_have_url(f"{live_url}/catalog/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Local Library home")


def test_search_works_without_javascript(new_page: Callable[..., Page], live_url: str) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/catalog/")
    search_from_the_header(page, "the")
    expect(page).to_have_url(f"{live_url}/catalog/search?q=the")
    first = announced(page)
    # Without JavaScript each search is a page of its own: the narrower one is a second page.
    search_from_the_header(page, "the picture of dorian")
    expect(page).to_have_url(f"{live_url}/catalog/search?q=the+picture+of+dorian")
    assert announced(page) == 1 < first
    expect(page.locator(RESULTS)).to_have_text([TITLE])
    expect(page.get_by_role("heading", level=1)).to_have_text("Search the catalog")

    page.go_back()  # one step: to the previous search
    expect(page).to_have_url(f"{live_url}/catalog/search?q=the")
    assert announced(page) == first
    page.go_back()  # and one more leaves the search page
    expect(page).to_have_url(f"{live_url}/catalog/")

    # The empty box offers the searches made, newest first: going Back loaded "the" again.
    page.goto(f"{live_url}/catalog/search")
    expect(page.locator(".recent-searches a")).to_have_text(["the", "the picture of dorian"])


def test_markup_in_a_title_or_a_query_never_runs(
    page: Page, live_url: str, database_url: str
) -> None:
    title = "<script>alert('title')</script><img src=x onerror=alert('img')> Tolkien's Rival"
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's loop holds this thread
        pool.submit(
            sql,
            database_url,
            "INSERT INTO catalog_book (title, summary, isbn) VALUES (:t, '', '9780000000086')",
            t=title,
        ).result()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{live_url}/catalog/search")
    wait_for_htmx(page)
    box = page.get_by_role("searchbox", name="Search the catalog")
    box.press_sequentially("<script>alert('title')</script> rival", delay=20)
    expect(page.locator(RESULTS)).to_have_text([title])  # as text, highlighted, not as markup
    expect(page.locator(f"{RESULTS} mark").first).to_have_text("script")
    assert announced(page) == 1
    box.press("Enter")
    expect(page.locator(RESULTS)).to_have_text([title])
    assert page.locator("#search-results img, #search-results script").count() == 0
    assert dialogs == []
