"""Signing in and out: the header, the form, one answer for wrong credentials, `next`, a new key
at sign-in with the visitor's data kept, and a deleted row at sign-out. On both databases."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import argon2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from locallibrary.accounts import passwords
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.accounts.helpers import ANN, LIBBY, add_account, header_account, sign_in
from tests.db import sql
from tests.html import parse, text, texts
from tests.load import visits_in


def session_data(database_url: str) -> list[dict[str, object]]:
    return [json.loads(data) for (data,) in sql(database_url, "SELECT data FROM sessions")]


def test_an_anonymous_header_links_to_sign_in_and_back_here(client: TestClient) -> None:
    page = parse(client.get("/catalog/books/?page=2").text)
    link = page.css_first(".account a")
    assert text(link) == "Sign in"
    target = urlsplit(link.attributes["href"] or "")
    assert target.path == "/accounts/sign-in"
    assert parse_qs(target.query) == {"next": ["/catalog/books/?page=2"]}
    assert page.css(".account form") == []


def test_signing_in_shows_the_name_and_a_sign_out_button_that_posts(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    response = sign_in(client, ANN, next_path="/catalog/authors/")
    assert response.status_code == 303
    assert response.headers["location"] == "/catalog/authors/"
    page = parse(client.get("/catalog/authors/").text)
    assert header_account(page.html or "") == f"{ANN.name} Sign out"
    form = page.css_first(".account form")
    assert form.attributes["method"] == "post"
    assert form.attributes["action"] == "/accounts/sign-out"


def test_the_sign_in_form_is_a_plain_form_with_email_and_password(client: TestClient) -> None:
    page = parse(client.get("/accounts/sign-in?next=/catalog/books/").text)
    form = page.css_first("form.account-form")
    assert form.attributes["method"] == "post"
    assert form.attributes["action"] == "/accounts/sign-in"
    fields = {node.attributes["name"]: node.attributes.get("type") for node in form.css("input")}
    assert fields == {"email": "email", "password": "password", "next": "hidden"}
    assert form.css_first("input[name=next]").attributes["value"] == "/catalog/books/"


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    wrong_password = sign_in(client, ANN, password="not-ann-s-password")
    unknown = client.post(
        "/accounts/sign-in",
        data={"email": "nobody@example.org", "password": "not-ann-s-password", "next": ""},
    )
    assert wrong_password.status_code == unknown.status_code == 200
    errors = [texts(parse(r.text), ".form-error") for r in (wrong_password, unknown)]
    assert errors[0] == errors[1] == ["That email and password do not match an account."]
    # Neither page echoes the password that was typed.
    assert "not-ann-s-password" not in wrong_password.text + unknown.text
    assert session_data(database_url) == []  # a failed sign-in stores no session


def test_the_first_sign_in_for_an_unknown_email_hashes_nothing_more_than_later_ones(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dummy hash an unknown email is checked against is made when the site starts, so the
    first such sign-in in a process takes no longer than the next (nor than a wrong password)."""
    monkeypatch.setattr(passwords, "_dummy_hashes", {})  # as in a new process
    hashed: list[str] = []
    real_hash = passwords.hash_password

    async def counted(password: str, hasher: argon2.PasswordHasher = passwords.HASHER) -> str:
        hashed.append(password)
        return await real_hash(password, hasher)

    monkeypatch.setattr(passwords, "hash_password", counted)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        started = len(hashed)
        for _ in range(2):
            unknown = client.post(
                "/accounts/sign-in",
                data={"email": "nobody@example.org", "password": "whatever-it-is", "next": ""},
            )
            assert unknown.status_code == 200
    assert started == 1
    assert len(hashed) == started


@given(
    next_path=st.text(max_size=60)
    | st.sampled_from(
        ["//evil.example", "https://evil.example/", "/\\evil.example", "http:/x", "\t//x", " /x"]
    )
)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_next_only_ever_leads_to_a_path_on_this_site(
    client: TestClient, database_url: str, next_path: str
) -> None:
    if not sql(database_url, "SELECT id FROM users"):
        add_account(database_url, ANN)
    client.cookies.clear()
    response = sign_in(client, ANN, next_path=next_path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location
    assert urlsplit(location).netloc == ""


def test_signing_in_moves_to_a_new_key_and_keeps_the_visitors_data(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    [(book_id,)] = sql(database_url, "SELECT min(id) FROM catalog_book")
    client.get("/catalog/")
    client.get(f"/catalog/book/{book_id}")
    client.post("/catalog/preferences/per-page", data={"list": "books", "per_page": "25"})
    visits = visits_in(client.get("/catalog/").text)
    anonymous_key = client.cookies["sessionid"]

    assert sign_in(client, ANN).status_code == 303
    signed_in_key = client.cookies["sessionid"]
    assert signed_in_key != anonymous_key  # no fixation: the key the visitor had is dead
    [data] = session_data(database_url)
    assert data["per_page"] == 25
    assert data["recently_viewed"] == [book_id]
    assert visits_in(client.get("/catalog/").text) == visits + 1

    # Someone who had planted or copied the old key gets an anonymous visitor.
    client.cookies.clear()
    client.cookies["sessionid"] = anonymous_key
    assert header_account(client.get("/catalog/authors/").text) == "Sign in"


def test_signing_out_deletes_the_session_and_the_old_cookie_opens_nothing(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    sign_in(client, ANN)
    key = client.cookies["sessionid"]
    assert len(session_data(database_url)) == 1

    response = client.post("/accounts/sign-out", follow_redirects=False)
    assert response.status_code == 303
    assert session_data(database_url) == []
    client.cookies.clear()
    client.cookies["sessionid"] = key  # replayed
    assert header_account(client.get("/catalog/books/").text) == "Sign in"


def test_sign_out_is_not_a_get(client: TestClient) -> None:
    assert client.get("/accounts/sign-out").status_code == 405


@pytest.mark.parametrize("path", ["/accounts/sessions/", "/accounts/password/"])
def test_a_page_that_needs_an_account_sends_to_sign_in_and_back(
    client: TestClient, database_url: str, path: str
) -> None:
    add_account(database_url, ANN)
    response = client.get(f"{path}?from=test", follow_redirects=False)
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/accounts/sign-in"
    back = parse_qs(target.query)["next"][0]
    assert back == f"{path}?from=test"
    signed_in = sign_in(client, ANN, next_path=back)
    assert signed_in.headers["location"] == back
    assert client.get(back).status_code == 200


def test_a_librarians_page_is_403_for_a_patron_and_open_to_a_librarian(
    staff_client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    add_account(database_url, LIBBY)
    assert staff_client.get("/staff-only", follow_redirects=False).status_code == 303
    sign_in(staff_client, ANN)
    refused = staff_client.get("/staff-only")
    assert refused.status_code == 403
    assert text(parse(refused.text).css_first("h1")) == "Forbidden"
    assert header_account(refused.text) == f"{ANN.name} Sign out"  # the site's styled page
    staff_client.post("/accounts/sign-out")
    sign_in(staff_client, LIBBY)
    assert staff_client.get("/staff-only").text == "for staff"


def test_a_new_name_or_role_counts_on_the_next_request_and_a_deleted_user_is_signed_out(
    staff_client: TestClient, database_url: str
) -> None:
    """The user is read afresh with the session on every request, however they changed."""
    user_id = add_account(database_url, ANN)
    sign_in(staff_client, ANN)
    assert staff_client.get("/staff-only").status_code == 403
    sql(
        database_url,
        "UPDATE users SET role = 'librarian', name = 'Ann Promoted' WHERE id = :id",
        id=user_id,
    )
    assert staff_client.get("/staff-only").text == "for staff"
    assert header_account(staff_client.get("/catalog/").text) == "Ann Promoted Sign out"
    sql(database_url, "DELETE FROM users WHERE id = :id", id=user_id)
    assert header_account(staff_client.get("/catalog/").text) == "Sign in"
    assert staff_client.get("/staff-only", follow_redirects=False).status_code == 303
