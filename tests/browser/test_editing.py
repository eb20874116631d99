"""Catalog editing in a real browser: a librarian adds an author, then a book by that author,
sees the inline ISBN error as they type an ISBN another book has, fixes it, saves, edits the
book, then adds a copy and deletes it from its confirmation page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixtures skip (or fail) every test before this matters
    pass

from tests.accounts.helpers import LIBBY, add_account
from tests.browser.helpers import DEMO, settled_after, sidebar_link, wait_for_htmx

pytestmark = pytest.mark.browser

TAKEN_ISBN = DEMO["books"][0]["isbn"]
FREE_ISBN = "978-0-00-000001-9"


@pytest.fixture
def libby(database_url: str) -> None:
    # In a thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(add_account, database_url, LIBBY).result()


def test_a_librarian_adds_an_author_and_a_book_edits_it_and_deletes_a_copy(
    page: Page, live_url: str, libby: None
) -> None:
    page.goto(f"{live_url}/accounts/sign-in?next=/catalog/authors/")
    page.get_by_label("Email").fill(LIBBY.email)
    page.get_by_label("Password").fill(LIBBY.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Author list")).to_be_visible()
    wait_for_htmx(page)

    # Each swap settled before typing: then the checks made as one types are in place.
    settled_after(page, page.get_by_role("link", name="Add an author").click)
    page.get_by_label("First name").fill("Octavia")
    page.get_by_label("Last name").fill("Butler")
    page.get_by_label("Date of birth").fill("1947-06-22")
    page.get_by_label("Died").fill("1906-02-24")
    expect(page.locator("#date_of_death-error")).to_have_text(
        "The date of death is before the date of birth."
    )
    page.get_by_label("Died").fill("2006-02-24")
    expect(page.locator("#date_of_death-error")).to_have_count(0)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Author: Butler, Octavia")).to_be_visible()

    settled_after(page, sidebar_link(page, "All books").click)
    settled_after(page, page.get_by_role("link", name="Add a book").click)
    page.get_by_label("Title", exact=True).fill("Kindred")
    # The author is found by part of the name, as it is typed, and chosen among the matches.
    page.get_by_label("Author", exact=True).press_sequentially("butl")
    page.get_by_role("radio", name="Butler, Octavia").check()
    page.get_by_label("Summary").fill("A writer is pulled back in time.")
    isbn = page.get_by_label("ISBN")
    isbn.press_sequentially(TAKEN_ISBN)
    expect(page.locator("#isbn-error")).to_have_text("Another book has this ISBN.")
    isbn.fill("")
    isbn.press_sequentially(FREE_ISBN)
    expect(page.locator("#isbn-error")).to_have_count(0)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Title: Kindred")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Butler, Octavia")
    expect(page.locator(".last-change")).to_contain_text(f"Last changed by {LIBBY.name}")

    page.locator("article.book .staff-actions").get_by_role("link", name="Edit").click()
    page.get_by_label("Title", exact=True).fill("Kindred (25th anniversary edition)")
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_role("heading", name="Title: Kindred (25th anniversary edition)")
    ).to_be_visible()

    page.get_by_role("link", name="Add a copy").click()
    page.get_by_label("Imprint").fill("Beacon Press, 1988")
    page.get_by_label("Status").select_option(label="Available")
    page.get_by_role("button", name="Save").click()
    copies = page.locator(".copies tbody tr")
    expect(copies).to_have_count(1)
    expect(copies).to_contain_text("Beacon Press, 1988")

    copies.get_by_role("link", name="Delete").click()
    expect(
        page.get_by_role("heading", name="Delete copy: Beacon Press, 1988", exact=False)
    ).to_be_visible()
    page.get_by_role("button", name="Delete").click()
    expect(
        page.get_by_role("heading", name="Title: Kindred (25th anniversary edition)")
    ).to_be_visible()
    expect(page.locator(".copies")).to_contain_text("The library has no copies of this book.")
