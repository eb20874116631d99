""" "Your sessions": every signed-in browser of the user, this one marked; signing out one or
all others takes effect on that browser's next request. On both databases."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from locallibrary.web.account_views import SESSIONS_SHOWN
from tests.accounts.helpers import ANN, BOB, Browsers, add_account, header_account, sign_in
from tests.db import sql
from tests.html import parse, text, texts

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def browsers(client: TestClient) -> Browsers:
    return Browsers(client, FIREFOX, CHROME_ANDROID, "curl/8.5.0")


def listed(browser: TestClient) -> list[list[str]]:
    page = parse(browser.get("/accounts/sessions/").text)
    return [texts(row, "td")[:1] for row in page.css("table.sessions tbody tr")]


def test_the_list_shows_each_signed_in_browser_and_marks_this_one(
    browsers: Browsers, database_url: str
) -> None:
    add_account(database_url, ANN)
    add_account(database_url, BOB)
    sign_in(browsers[0], ANN)
    sign_in(browsers[1], ANN)
    sign_in(browsers[2], BOB)  # another user's browser is not listed
    assert listed(browsers[0]) == [["Firefox on Linux (this browser)"], ["Chrome on Android"]]
    assert browsers[0].get("/accounts/sessions/").headers["cache-control"] == "no-store"
    assert listed(browsers[1]) == [["Chrome on Android (this browser)"], ["Firefox on Linux"]]


def test_signing_out_another_browser_takes_effect_on_its_next_request(
    browsers: Browsers, database_url: str
) -> None:
    add_account(database_url, ANN)
    sign_in(browsers[0], ANN)
    sign_in(browsers[1], ANN)
    page = parse(browsers[0].get("/accounts/sessions/").text)
    other = next(r for r in page.css("table.sessions tbody tr") if "this browser" not in text(r))
    chosen = other.css_first("input[name=browser]").attributes["value"]
    response = browsers[0].post("/accounts/sessions/sign-out", data={"browser": chosen})
    assert response.status_code == 200
    assert "That browser is signed out." in response.text
    assert header_account(browsers[1].get("/catalog/books/").text) == "Sign in"
    assert header_account(browsers[0].get("/catalog/books/").text) == f"{ANN.name} Sign out"


def test_a_user_cannot_sign_out_someone_elses_browser(
    browsers: Browsers, database_url: str
) -> None:
    add_account(database_url, ANN)
    bob_id = add_account(database_url, BOB)
    sign_in(browsers[0], ANN)
    sign_in(browsers[2], BOB)
    [(bobs_session,)] = sql(database_url, "SELECT key FROM sessions WHERE user_id = :id", id=bob_id)
    browsers[0].post("/accounts/sessions/sign-out", data={"browser": bobs_session})
    assert header_account(browsers[2].get("/catalog/books/").text) == f"{BOB.name} Sign out"


def test_sign_out_all_others_keeps_only_this_browser(browsers: Browsers, database_url: str) -> None:
    add_account(database_url, ANN)
    for index in range(len(browsers)):
        sign_in(browsers[index], ANN)
    response = browsers[0].post("/accounts/sessions/sign-out-others")
    assert "Every other browser you used is signed out." in response.text
    assert header_account(browsers[1].get("/catalog/").text) == "Sign in"
    assert header_account(browsers[2].get("/catalog/").text) == "Sign in"
    assert listed(browsers[0]) == [["Firefox on Linux (this browser)"]]


def test_choosing_this_browser_signs_it_out(browsers: Browsers, database_url: str) -> None:
    add_account(database_url, ANN)
    sign_in(browsers[0], ANN)
    page = parse(browsers[0].get("/accounts/sessions/").text)
    mine = page.css_first("tr.this-browser input[name=browser]").attributes["value"]
    response = browsers[0].post("/accounts/sessions/sign-out", data={"browser": mine})
    assert header_account(response.text) == "Sign in"
    assert sql(database_url, "SELECT key FROM sessions WHERE user_id IS NOT NULL") == []


def test_a_user_signed_in_on_many_browsers_sees_this_one_and_the_latest_others(
    browsers: Browsers, database_url: str
) -> None:
    user_id = add_account(database_url, ANN)
    sign_in(browsers[0], ANN)
    [(seen, expires)] = sql(
        database_url,
        "SELECT last_seen_at, expires_at FROM sessions WHERE user_id = :id",
        id=user_id,
    )
    # More browsers than the page lists, each seen after this one: this one still comes first.
    more = SESSIONS_SHOWN + 5
    for index in range(more):
        sql(
            database_url,
            "INSERT INTO sessions (key, data, expires_at, user_id, signed_in_at, created_at,"
            " last_seen_at, agent) VALUES (:key, '{}', :expires, :id, :seen, :seen, :at, :agent)",
            key=f"{index:064x}",
            expires=expires,
            id=user_id,
            seen=seen,
            at=seen + 1 + index,
            agent=f"Browser {index}",
        )
    rows = listed(browsers[0])
    newest_first = [[f"Browser {index}"] for index in reversed(range(more))]
    assert rows == [["Firefox on Linux (this browser)"], *newest_first[: SESSIONS_SHOWN - 1]]
    page = browsers[0].get("/accounts/sessions/").text
    assert f"the {SESSIONS_SHOWN - 1} others seen most recently, of the {more + 1} browsers" in page
    response = browsers[0].post("/accounts/sessions/sign-out-others")
    assert "Every other browser you used is signed out." in response.text
    assert listed(browsers[0]) == [["Firefox on Linux (this browser)"]]
    assert "others seen most recently" not in browsers[0].get("/accounts/sessions/").text
