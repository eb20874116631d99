"""The desk in a real browser: a librarian lends a copy, the patron sees it in "My borrowed
books" and the counts box on their open home page changes without a reload; the librarian
renews it (an invalid date first, whose message shows as it is typed) and marks it returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixtures skip (or fail) every test before this matters
    pass

from tests.accounts.helpers import ANN, LIBBY, Account, add_account
from tests.browser.helpers import settled_after, wait_for_htmx
from tests.db import sql

pytestmark = pytest.mark.browser


@pytest.fixture
def accounts(database_url: str) -> None:
    # In a thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        for account in (ANN, LIBBY):
            pool.submit(add_account, database_url, account).result()


def sign_in(page: Page, live_url: str, account: Account, then: str) -> None:
    page.goto(f"{live_url}/accounts/sign-in?next={then}")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account")).to_contain_text(account.name)
    wait_for_htmx(page)


def test_lend_see_it_renew_it_and_return_it(
    new_page: Callable[..., Page], live_url: str, database_url: str, accounts: None
) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        [(book_id, title)] = pool.submit(
            sql,
            database_url,
            "SELECT book.id, book.title FROM catalog_book AS book WHERE EXISTS ("
            " SELECT 1 FROM catalog_bookinstance WHERE book_id = book.id AND status = 'a')"
            " ORDER BY book.title LIMIT 1",
        ).result()
    patron, librarian = new_page(), new_page()
    sign_in(patron, live_url, ANN, "/catalog/")
    available = patron.locator("[data-count=copies_available]")
    before = int(available.inner_text())

    sign_in(librarian, live_url, LIBBY, f"/catalog/book/{book_id}")
    librarian.locator(".copies").get_by_role("link", name="Lend this copy").first.click()
    expect(librarian.get_by_role("heading", name="Lend a copy")).to_be_visible()
    librarian.get_by_label("Patron").fill(ANN.email)
    librarian.get_by_role("button", name="Lend").click()
    expect(librarian.get_by_role("status")).to_contain_text(f"to {ANN.name}, due back on")

    # The patron's open home page polls its counts box: the loan shows without a reload.
    expect(available).to_have_text(str(before - 1))
    patron.get_by_role("link", name="My borrowed books").click()
    expect(patron.locator(".my-loans li")).to_contain_text(title)

    # Each swap settled before the next step: then the due date's check is in place as we type.
    settled_after(librarian, librarian.get_by_role("link", name="All borrowed").first.click)
    settled_after(librarian, librarian.get_by_role("link", name=f"Renew {title}").click)
    due = librarian.get_by_label("Due back")
    due.fill((dt.date.today() + dt.timedelta(days=40)).isoformat())
    message = librarian.locator("#due_back-feedback")
    expect(message).to_contain_text("more than 4 weeks ahead")  # inline, before any submit
    due.fill((dt.date.today() + dt.timedelta(days=28)).isoformat())
    expect(message).to_have_text("")
    librarian.get_by_role("button", name="Renew").click()
    expect(librarian.get_by_role("status")).to_contain_text(f"Renewed “{title}” for {ANN.name}")

    librarian.get_by_role("button", name=f"Mark returned {title}").click()
    expect(librarian.get_by_role("status")).to_have_text("Marked 1 loan returned.")
    patron.get_by_role("link", name="Home").click()
    expect(patron.locator("[data-count=copies_available]")).to_have_text(str(before))
