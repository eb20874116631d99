"""Accounts in a real browser: sign in through the boosted form, see the name, open "Your
sessions", sign out another browser and see it signed out, then sign out here."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixtures skip (or fail) every test before this matters
    pass

from tests.accounts.helpers import ANN, add_account
from tests.browser.helpers import assert_no_full_load, set_marker, wait_for_htmx

pytestmark = pytest.mark.browser


@pytest.fixture
def ann(database_url: str) -> None:
    # In a thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(add_account, database_url, ANN).result()


def sign_in_through_the_header(page: Page, live_url: str) -> None:
    page.goto(f"{live_url}/catalog/books/")
    wait_for_htmx(page)
    set_marker(page)
    page.locator(".account").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    page.get_by_label("Email").fill(ANN.email)
    page.get_by_label("Password").fill(ANN.password)
    page.get_by_role("button", name="Sign in").click()
    # Back on the page that asked, with the name in the header, by htmx: no full reload.
    expect(page.locator(".account")).to_contain_text(ANN.name)
    expect(page).to_have_url(f"{live_url}/catalog/books/")
    assert_no_full_load(page)


def test_sign_in_see_your_sessions_sign_out_another_browser_then_this_one(
    new_page: Callable[..., Page], live_url: str, ann: None
) -> None:
    here, elsewhere = new_page(), new_page()
    sign_in_through_the_header(elsewhere, live_url)
    sign_in_through_the_header(here, live_url)

    here.locator(".account").get_by_role("link", name=ANN.name).click()
    expect(here.get_by_role("heading", name="Your sessions")).to_be_visible()
    rows = here.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(here.locator("tr.this-browser")).to_contain_text("(this browser)")

    here.locator("tbody tr:not(.this-browser)").get_by_role("button", name="Sign out").click()
    expect(here.get_by_role("status")).to_have_text("That browser is signed out.")
    expect(rows).to_have_count(1)

    elsewhere.reload()
    expect(elsewhere.locator(".account")).to_have_text("Sign in")

    here.locator(".account").get_by_role("button", name="Sign out").click()
    expect(here.locator(".account").get_by_role("link", name="Sign in")).to_be_visible()
    here.goto(f"{live_url}/accounts/sessions/")
    expect(here.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
