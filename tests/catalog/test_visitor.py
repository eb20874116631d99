"""What the site remembers of a browser in its session, over HTTP with a real cookie jar."""

from __future__ import annotations

import json
import re
import time

import pytest
from starlette.testclient import TestClient

from locallibrary.catalog.pagination import PER_PAGE_CHOICES
from locallibrary.sessions.keys import stored_id
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.db import session_rows, sql
from tests.html import links, parse, text, texts


def visits_sentence(markup: str) -> str:
    return text(parse(markup).css_first("#catalog-counts .visits"))


def test_first_visit_is_counted_once(client: TestClient) -> None:
    assert visits_sentence(client.get("/catalog/").text) == "You have visited this page 1 time."


def test_each_visit_counts(client: TestClient) -> None:
    sentences = [visits_sentence(client.get("/catalog/").text) for _ in range(3)]
    assert sentences == [
        "You have visited this page 1 time.",
        "You have visited this page 2 times.",
        "You have visited this page 3 times.",
    ]


def test_other_pages_do_not_count_as_visits(client: TestClient) -> None:
    client.get("/catalog/")
    client.get("/catalog/books/")
    assert visits_sentence(client.get("/catalog/").text) == "You have visited this page 2 times."


def test_the_counts_box_polls_its_own_fragment_url(client: TestClient) -> None:
    box = parse(client.get("/catalog/").text).css_first("#catalog-counts")
    assert box.attributes["hx-get"] == "/catalog/_counts"
    assert box.attributes["hx-trigger"] == "every 2000ms"  # the test settings: 2 seconds
    assert box.attributes["hx-swap"] == "outerHTML"
    assert "data-pause-when-hidden" in box.attributes
    script = client.get("/static/js/poll.js")
    assert script.status_code == 200 and "data-pause-when-hidden" in script.text


def test_the_poll_shows_visits_made_elsewhere_and_counts_none(
    client: TestClient, database_url: str
) -> None:
    client.get("/catalog/")
    client.get("/catalog/")  # "another tab" of the same browser
    before = session_rows(database_url)
    response = client.get("/catalog/_counts", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert visits_sentence(response.text) == "You have visited this page 2 times."
    assert "set-cookie" not in response.headers
    assert session_rows(database_url) == before, "the poll writes nothing"
    assert visits_sentence(client.get("/catalog/").text) == "You have visited this page 3 times."


def test_the_poll_creates_no_session_for_a_new_browser(
    client: TestClient, database_url: str
) -> None:
    response = client.get("/catalog/_counts")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert session_rows(database_url) == {}
    tree = parse(response.text)
    assert tree.css_first("nav.sidebar") is None, "a fragment, not a page"
    assert int(text(tree.css_first("[data-count=books]"))) > 0


def test_the_poll_shows_new_counts(client: TestClient, database_url: str) -> None:
    before = int(text(parse(client.get("/catalog/_counts").text).css_first("[data-count=authors]")))
    sql(
        database_url,
        "INSERT INTO catalog_author (first_name, last_name) VALUES ('Ada', 'Lovelace')",
    )
    after = int(text(parse(client.get("/catalog/_counts").text).css_first("[data-count=authors]")))
    assert after == before + 1


def test_first_visit_gets_its_key_at_once_and_is_stored_when_the_browser_returns(
    client: TestClient, database_url: str
) -> None:
    response = client.get("/catalog/")
    key_cookie, companion = response.headers.get_list("set-cookie")
    assert re.match(r"sessionid=[a-z0-9]{32}; ", key_cookie)
    assert companion.startswith("sessionid_new=")
    for cookie in (key_cookie, companion):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Cookie" in response.headers["vary"]
    assert session_rows(database_url) == {}, "nothing stored until the browser comes back"

    key = client.cookies["sessionid"]
    second = client.get("/catalog/")
    assert visits_sentence(second.text) == "You have visited this page 2 times."
    assert client.cookies["sessionid"] == key, "the key does not change between visits"
    removal = second.headers.get_list("set-cookie")[1]
    assert removal.startswith("sessionid_new=;") and "Max-Age=0" in removal
    [(data, _)] = session_rows(database_url).values()
    assert json.loads(data) == {"num_visits": 2}
    assert list(session_rows(database_url)) == [stored_id(key)]


def test_clients_that_never_return_cookies_store_nothing(
    client: TestClient, database_url: str
) -> None:
    for _ in range(200):
        client.cookies.clear()
        response = client.get("/catalog/")
        assert visits_sentence(response.text) == "You have visited this page 1 time."
    assert session_rows(database_url) == {}


def test_a_forged_or_foreign_companion_cookie_is_not_adopted(
    client: TestClient, database_url: str
) -> None:
    client.get("/catalog/")
    companion = client.cookies["sessionid_new"]
    client.cookies.clear()
    # The companion is bound to its own key: with any other key it is ignored.
    other_key = "q" * 32
    response = client.get(
        "/catalog/", headers={"cookie": f"sessionid={other_key}; sessionid_new={companion}"}
    )
    assert visits_sentence(response.text) == "You have visited this page 1 time."
    assert stored_id(other_key) not in session_rows(database_url)
    tampered = companion[:-2] + ("A" if companion[-2] != "A" else "B") + companion[-1]
    key = "r" * 32
    response = client.get(
        "/catalog/", headers={"cookie": f"sessionid={key}; sessionid_new={tampered}"}
    )
    assert visits_sentence(response.text) == "You have visited this page 1 time."
    assert stored_id(key) not in session_rows(database_url)


# -- results per page --------------------------------------------------------------------------


def per_page_form(markup: str) -> dict[str, str]:
    form = parse(markup).css_first("form.per-page")
    return {
        "action": form.attributes["action"] or "",
        "selected": form.css_first("option[selected]").attributes["value"] or "",
        "choices": ",".join(o.attributes["value"] or "" for o in form.css("option")),
    }


def test_per_page_form_offers_the_choices(client: TestClient) -> None:
    form = per_page_form(client.get("/catalog/books/").text)
    assert form["choices"] == ",".join(map(str, PER_PAGE_CHOICES))
    assert form["selected"] == "10"
    assert form["action"] == "/catalog/preferences/per-page"


def test_per_page_is_remembered_on_both_lists_without_javascript(client: TestClient) -> None:
    response = client.post(
        "/catalog/preferences/per-page",
        data={"per_page": "25", "list": "books"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/catalog/books/"
    books = parse(client.get("/catalog/books/").text)
    assert len(books.css("#book-list .items li")) == 25
    assert per_page_form(books.html or "")["selected"] == "25"
    authors = parse(client.get("/catalog/authors/").text)
    assert len(authors.css("#author-list .items li")) == 25
    pages = text(authors.css_first(".pagination-current"))
    assert pages == "Page 1 of 2"


def test_per_page_with_htmx_swaps_the_list(client: TestClient) -> None:
    headers = {"HX-Request": "true", "HX-Target": "author-list"}
    response = client.post(
        "/catalog/preferences/per-page",
        data={"per_page": "50", "list": "authors"},
        headers=headers,
    )
    assert response.status_code == 200
    tree = parse(response.text)
    assert tree.css_first("nav.sidebar") is None
    assert tree.css_first("#author-list") is not None
    assert len(tree.css(".items li")) == len(sql_names(client))


def sql_names(client: TestClient) -> list[str]:
    return texts(parse(client.get("/catalog/authors/?page=1").text), "#author-list .items li > a")


@pytest.mark.parametrize(
    "form",
    [
        {"per_page": "7", "list": "books"},
        {"per_page": "abc", "list": "books"},
        {"per_page": "25", "list": "nothing"},
        {"per_page": "25"},
        {},
        {"per_page": "1" * 5000, "list": "books"},
    ],
)
def test_bad_per_page_gets_a_400_and_changes_nothing(
    client: TestClient, form: dict[str, str]
) -> None:
    response = client.post("/catalog/preferences/per-page", data=form)
    assert response.status_code == 400
    assert text(parse(response.text).css_first("h1")) == "Bad request"
    assert len(parse(client.get("/catalog/books/").text).css("#book-list .items li")) == 10


# -- the dismissible notice ---------------------------------------------------------------------


def notice(markup: str) -> str | None:
    node = parse(markup).css_first("#site-notice")
    return None if node is None else text(node.css_first("p"))


def test_notice_shows_until_dismissed_then_stays_hidden_everywhere(client: TestClient) -> None:
    assert notice(client.get("/catalog/").text)
    assert notice(client.get("/catalog/authors/").text)
    response = client.post(
        "/catalog/notice/dismiss", data={"next": "/catalog/books/?page=2"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/catalog/books/?page=2"
    for path in ("/catalog/", "/catalog/books/", "/catalog/authors/", "/catalog/nowhere"):
        assert notice(client.get(path).text) is None


def test_a_new_session_sees_the_notice_again(client: TestClient, settings: object) -> None:
    client.post("/catalog/notice/dismiss", data={"next": "/catalog/"})
    assert notice(client.get("/catalog/").text) is None
    client.cookies.clear()
    assert notice(client.get("/catalog/").text)


def test_notice_dismissal_with_htmx_swaps_it_out(client: TestClient) -> None:
    page = parse(client.get("/catalog/").text)
    form = page.css_first("#site-notice form")
    assert form.attributes["hx-target"] == "#site-notice"
    response = client.post(form.attributes["hx-post"] or "", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text == ""
    assert notice(client.get("/catalog/").text) is None


@pytest.mark.parametrize("next_value", ["//evil.example/", "https://evil.example/", "\\\\evil", ""])
def test_notice_redirect_stays_on_the_site(client: TestClient, next_value: str) -> None:
    response = client.post(
        "/catalog/notice/dismiss", data={"next": next_value}, follow_redirects=False
    )
    assert response.headers["location"] == "/catalog/"


# -- recently viewed -----------------------------------------------------------------------------


def recently_viewed(client: TestClient) -> list[str]:
    return texts(parse(client.get("/catalog/").text), ".recent .items li > a")


def test_recently_viewed_lists_the_last_five_newest_first_without_duplicates(
    client: TestClient,
) -> None:
    assert recently_viewed(client) == []
    hrefs = links(parse(client.get("/catalog/books/").text), "#book-list .items li > a")[:7]
    titles = [
        text(parse(client.get(h).text).css_first("h1")).removeprefix("Title: ") for h in hrefs
    ]
    assert recently_viewed(client) == titles[::-1][:5]
    client.get(hrefs[3])
    assert recently_viewed(client) == [titles[3], titles[6], titles[5], titles[4], titles[2]]


def test_recently_viewed_skips_books_that_are_gone(client: TestClient, database_url: str) -> None:
    hrefs = links(parse(client.get("/catalog/books/").text), "#book-list .items li > a")[:2]
    for href in hrefs:
        client.get(href)
    gone = int(hrefs[1].rsplit("/", 1)[1])
    sql(database_url, "DELETE FROM catalog_book WHERE id = :id", id=gone)
    assert len(recently_viewed(client)) == 1


def test_a_book_page_opened_again_writes_nothing_and_sends_no_cookie(
    client: TestClient, database_url: str
) -> None:
    """Its book is first in the list already: the session is read, not written."""
    client.get("/catalog/")
    client.get("/catalog/")  # the second visit stores the session (a deferred one until then)
    key = stored_id(client.cookies["sessionid"])
    first, second = links(parse(client.get("/catalog/books/").text), "#book-list .items li > a")[:2]
    assert "set-cookie" in client.get(first).headers
    stored = session_rows(database_url)[key]
    for _ in range(3):
        response = client.get(first)
        assert response.status_code == 200 and "set-cookie" not in response.headers
        assert session_rows(database_url)[key] == stored
    assert "set-cookie" in client.get(second).headers
    assert session_rows(database_url)[key] != stored


def test_a_missing_book_is_not_remembered(client: TestClient, database_url: str) -> None:
    client.get("/catalog/book/999999")
    assert session_rows(database_url) == {}


# -- garbage cookies and the store's reach ------------------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [
        "sessionid=" + "x" * 10_000,
        "sessionid=' OR 1=1 --",
        "sessionid=" + "a" * 32,
        "; ".join(["sessionid=abc"] * 300),
    ],
    ids=["10KB", "sql", "unknown", "many"],
)
def test_garbage_cookies_get_a_normal_home_page(client: TestClient, cookie: str) -> None:
    response = client.get("/catalog/", headers={"cookie": cookie})
    assert response.status_code == 200
    assert visits_sentence(response.text) == "You have visited this page 1 time."


def test_static_files_and_health_check_do_no_session_io(
    settings: Settings, database_url: str
) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.get("/catalog/")
        sql(database_url, "DROP TABLE sessions")  # any session I/O would now fail
        assert client.get("/static/css/site.css").status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/catalog/_counts").status_code >= 500


def test_clearsessions_removes_only_expired_sessions_and_sign_in_failure_counters(
    database_url: str,
) -> None:
    from tests.catalog.test_seed import run_cli

    now = int(time.time())
    for key, expires in (("a" * 32, now - 10), ("b" * 32, now - 1), ("c" * 32, now + 3600)):
        sql(
            database_url,
            "INSERT INTO sessions (key, data, expires_at) VALUES (:k, '{}', :e)",
            k=key,
            e=expires,
        )
    # The throttle's window is 15 minutes: one counter's has passed, the other's has not.
    for bucket, started in (("address:old", now - 901), ("address:new", now - 60)):
        sql(
            database_url,
            "INSERT INTO sign_in_failures (bucket, failures, window_started_at) VALUES (:b, 3, :s)",
            b=bucket,
            s=started,
        )
    result = run_cli("clearsessions", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Removed 2 expired sessions.",
        "Removed 1 expired sign-in failure counter.",
    ]
    assert list(session_rows(database_url)) == ["c" * 32]
    assert sql(database_url, "SELECT bucket FROM sign_in_failures") == [("address:new",)]
    again = run_cli("clearsessions", database_url=database_url)
    assert again.stdout.splitlines() == [
        "Removed 0 expired sessions.",
        "Removed 0 expired sign-in failure counters.",
    ]
