"""What the session remembers, seen in a real browser: visits, the live counter across tabs, the
poll held back in a hidden tab, results per page, the site notice and the recently viewed books.

Each test has its own server and database, and each `new_page()` its own browser context, that
is its own cookie jar and so its own session.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

try:
    from playwright.sync_api import Locator, Page, Request, expect
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


def author_name(author: dict[str, str]) -> str:
    """As the author list shows it: "Last, First", or the one name (Homer)."""
    first, last = author["first_name"], author["last_name"]
    return f"{last}, {first}" if first else last


AUTHORS = [
    author_name(author)
    for author in sorted(DEMO["authors"], key=lambda a: (a["last_name"], a["first_name"]))
]
AUTHOR_LINKS = "#author-list .items li > a"
COUNTS_PATH = "/catalog/_counts"
# The live server polls every second (COUNTS_POLL_SECONDS=1): a change must show within one
# interval, plus the round trip and some slack for a loaded machine.
WITHIN_ONE_POLL_MS = 3_000


def visits(page: Page) -> Locator:
    return page.locator("#catalog-counts .visits")


def notice(page: Page) -> Locator:
    return page.locator("#site-notice")


def per_page_select(page: Page) -> Locator:
    return page.get_by_label("Results per page")


def is_poll(request: Request) -> bool:
    return request.url.split("?")[0].endswith(COUNTS_PATH)


# --- the visit counter and the live counts box ------------------------------------------------


def test_first_visit_shows_the_counts_and_one_visit(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/")

    counts = page.locator("#catalog-counts")
    expect(counts).to_be_visible()
    expect(counts.locator("[data-count=books]")).to_have_text(str(len(DEMO["books"])))
    expect(counts.locator("[data-count=authors]")).to_have_text(str(len(DEMO["authors"])))
    expect(counts.locator("[data-count=genres]")).to_have_text(str(len(DEMO["genres"])))
    for kind in ("copies", "copies_available"):
        expect(counts.locator(f"[data-count={kind}]")).to_have_text(re.compile(r"^\s*\d+\s*$"))
    expect(visits(page)).to_have_text("You have visited this page 1 time.")


def test_a_visit_in_a_second_tab_shows_in_the_first_without_a_reload(
    page: Page, live_url: str
) -> None:
    page.goto(f"{live_url}/catalog/")
    expect(visits(page)).to_have_text("You have visited this page 1 time.")
    wait_for_htmx(page)
    set_marker(page)

    second_tab = page.context.new_page()  # same context: same cookies, same session
    second_tab.goto(f"{live_url}/catalog/")
    expect(visits(second_tab)).to_have_text("You have visited this page 2 times.")

    expect(visits(page)).to_have_text(
        "You have visited this page 2 times.", timeout=WITHIN_ONE_POLL_MS
    )
    assert_no_full_load(page)
    # The poll only reads: it counted no visit of its own.
    second_tab.reload()
    expect(visits(second_tab)).to_have_text("You have visited this page 3 times.")


HIDE = """hidden => {
    window.__polls = {held: 0, sent: 0};  // counts from here on (see COUNT_POLL_ATTEMPTS)
    Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
    Object.defineProperty(document, "visibilityState",
                          {value: hidden ? "hidden" : "visible", configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""

# Counts, in the page, the counts box's poll attempts: htmx fires htmx:beforeRequest on every
# tick of `hx-trigger="every 1000ms"`, and static/js/poll.js cancels it (preventDefault) while the
# tab is hidden. The listener sits on window, so it runs after poll.js's listener on document
# (the event bubbles up from the box) and sees whether the attempt was held back.
COUNT_POLL_ATTEMPTS = """() => {
    window.addEventListener("htmx:beforeRequest", event => {
        if (event.detail.elt.id === "catalog-counts") {
            window.__polls[event.defaultPrevented ? "held" : "sent"] += 1;
        }
    });
}"""


def wait_for_poll_ticks(page: Page, ticks: int) -> None:
    """Wait until the counts box has ticked `ticks` times since the tab hid; none may have sent."""
    page.wait_for_function(
        f"() => window.__polls.held + window.__polls.sent >= {ticks}",
        timeout=ticks * WITHIN_ONE_POLL_MS,
    )
    polls = page.evaluate("window.__polls")
    assert polls["sent"] == 0, f"htmx sent polls while the tab was hidden: {polls}"


def test_the_poll_pauses_while_the_tab_is_hidden(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/")  # waits for "load": the deferred htmx and poll.js ran
    wait_for_htmx(page)
    with page.expect_request(is_poll, timeout=WITHIN_ONE_POLL_MS):
        pass  # the box polls while the tab is visible
    page.evaluate(COUNT_POLL_ATTEMPTS)

    # A headless tab is always visible, so the test overrides document.hidden (an own property
    # of the document shadows Document.prototype's getter, which poll.js would otherwise read).
    page.evaluate(HIDE, True)
    # A poll sent just before hiding may still be on its way; wait for the first held-back tick,
    # a whole interval later, before counting requests on the network.
    wait_for_poll_ticks(page, 1)
    polls_while_hidden: list[str] = []

    def on_request(request: Request) -> None:
        if is_poll(request):
            polls_while_hidden.append(request.url)

    page.on("request", on_request)
    # No fixed sleep (page.wait_for_timeout would only guess how long is long enough): the page
    # itself says when two more ticks of the poll, two more intervals, have passed, each one held
    # back. With the first, that is three ticks, nearly three intervals, since the tab hid.
    wait_for_poll_ticks(page, 3)
    page.remove_listener("request", on_request)
    assert polls_while_hidden == [], f"the hidden tab polled: {polls_while_hidden}"
    expect(visits(page)).to_have_text("You have visited this page 1 time.")

    with page.expect_request(is_poll, timeout=WITHIN_ONE_POLL_MS) as poll:
        page.evaluate(HIDE, False)
    response = poll.value.response()
    assert response is not None and response.status == 200
    expect(visits(page)).to_have_text("You have visited this page 1 time.")


# --- results per page ---------------------------------------------------------------------------


def test_results_per_page_with_javascript(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/books/?page=2")
    expect(page.locator(BOOK_LINKS)).to_have_count(10)
    expect(per_page_select(page)).to_have_value("10")
    wait_for_htmx(page)
    set_marker(page)

    per_page_select(page).select_option("25")
    page.get_by_role("button", name="Show").click()

    expect(page.locator(BOOK_LINKS)).to_have_text(TITLES[:25])
    expect(page).to_have_url(f"{live_url}/catalog/books/")
    expect(page.locator(".pagination-current")).to_have_text("Page 1 of 3")
    expect(per_page_select(page)).to_have_value("25")
    expect(page.locator("#book-list")).to_have_count(1)  # swapped, not nested
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    assert_no_full_load(page)

    sidebar_link(page, "All authors").click()

    expect(page).to_have_url(f"{live_url}/catalog/authors/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Author list")
    expect(page.locator(AUTHOR_LINKS)).to_have_text(AUTHORS[:25])
    expect(per_page_select(page)).to_have_value("25")
    assert_no_full_load(page)


def test_results_per_page_without_javascript(new_page: Callable[..., Page], live_url: str) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/catalog/books/?page=2")
    expect(page.locator(BOOK_LINKS)).to_have_count(10)

    per_page_select(page).select_option("25")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Show").click()

    assert posted.value.status == 303, "post/redirect/get: the form's POST answers 303 See Other"
    expect(page).to_have_url(f"{live_url}/catalog/books/")
    expect(page.locator(BOOK_LINKS)).to_have_text(TITLES[:25])
    expect(per_page_select(page)).to_have_value("25")
    # A full page, not the list fragment alone.
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    sidebar_link(page, "All authors").click()

    expect(page).to_have_url(f"{live_url}/catalog/authors/")
    expect(page.locator(AUTHOR_LINKS)).to_have_text(AUTHORS[:25])
    expect(per_page_select(page)).to_have_value("25")


# --- the site notice ------------------------------------------------------------------------


def test_dismissing_the_notice_with_javascript(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/")
    expect(notice(page)).to_be_visible()
    wait_for_htmx(page)
    set_marker(page)

    notice(page).get_by_role("button", name="Dismiss").click()

    expect(notice(page)).to_have_count(0)
    assert_no_full_load(page)

    sidebar_link(page, "All books").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
    expect(notice(page)).to_have_count(0)

    sidebar_link(page, "Home").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Local Library home")
    expect(notice(page)).to_have_count(0)
    assert_no_full_load(page)

    page.reload()  # a full load: the session, not the page, remembers
    expect(page.get_by_role("heading", level=1)).to_have_text("Local Library home")
    expect(notice(page)).to_have_count(0)


def test_dismissing_the_notice_without_javascript(
    new_page: Callable[..., Page], live_url: str
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/catalog/books/?page=2")
    expect(notice(page)).to_be_visible()

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        notice(page).get_by_role("button", name="Dismiss").click()

    assert posted.value.status == 303, "post/redirect/get: the form's POST answers 303 See Other"
    expect(page).to_have_url(f"{live_url}/catalog/books/?page=2")  # back where the visitor was
    expect(page.locator(".pagination-current")).to_have_text(re.compile(r"^Page 2 of"))
    expect(notice(page)).to_have_count(0)

    sidebar_link(page, "Home").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Local Library home")
    expect(notice(page)).to_have_count(0)

    # Another browser context is another visitor, with a session of its own.
    stranger = new_page(java_script_enabled=False)
    stranger.goto(f"{live_url}/catalog/")
    expect(notice(stranger)).to_be_visible()


# --- recently viewed ------------------------------------------------------------------------


def test_recently_viewed_lists_the_books_opened_newest_first(page: Page, live_url: str) -> None:
    opened = [TITLES[0], TITLES[4], TITLES[2]]  # not in list order: the order is the viewing
    page.goto(f"{live_url}/catalog/")
    recent = page.get_by_role("region", name="Recently viewed")
    expect(recent).to_contain_text("The books you look at will be listed here.")

    for title in opened:
        sidebar_link(page, "All books").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Book list")
        page.locator("#book-list").get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Title: {title}")

    sidebar_link(page, "Home").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Local Library home")
    expect(recent.get_by_role("listitem")).to_have_text(list(reversed(opened)))
