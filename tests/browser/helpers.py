"""What the browser tests share: the demo catalog's titles and small page helpers."""

from __future__ import annotations

import re
from collections.abc import Callable

from locallibrary.catalog.seed import demo_catalog

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the browser fixtures skip (or fail) every test before this matters
    pass

DEMO = demo_catalog()
TITLES = sorted(book["title"] for book in DEMO["books"])
BOOK_LINKS = "#book-list .items li > a"


def sidebar_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def set_marker(page: Page) -> None:
    """Mark this document: the mark survives htmx swaps and disappears on a full page load."""
    page.evaluate("window.__marker = 1")


def assert_no_full_load(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was fully reloaded"


def settled_after(page: Page, action: Callable[[], None]) -> None:
    """Do `action` (a click htmx answers with a swap; no poll on the page) and wait until htmx
    has settled what that request swapped in: only then are the new content's triggers in
    place, so that typing is seen. A swap before it, still settling, does not count."""
    page.evaluate(
        """() => { window.__settled = new Promise(resolve => {
            document.body.addEventListener("htmx:beforeRequest", started => {
                const xhr = started.detail.xhr;
                document.body.addEventListener("htmx:afterSettle", function settled(event) {
                    if (event.detail.xhr !== xhr) return;
                    document.body.removeEventListener("htmx:afterSettle", settled);
                    resolve(true);
                });
            }, {once: true});
        }) }"""
    )
    action()
    page.evaluate(
        """() => Promise.race([window.__settled, new Promise((_, reject) => setTimeout(
            () => reject(new Error("htmx did not settle the swap within 10 s")), 10000))])"""
    )


def wait_for_htmx(page: Page) -> None:
    """htmx is loaded (deferred script) and has processed the page."""
    page.wait_for_function("() => window.htmx !== undefined")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bhtmx-request\b"))
