"""Changing a password (others signed out, this browser on a new key) and resetting a forgotten
one by a mailed link (single use, an hour, void once the password changes). On both databases."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from tests.accounts.helpers import ANN, BOB, Browsers, add_account, header_account, sign_in
from tests.db import sql
from tests.html import parse, texts
from tests.outbox import messages

NEW_PASSWORD = "a-brand-new-long-password"


def change_password(client: TestClient, current: str, new: str = NEW_PASSWORD, again: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/accounts/password/",
        data={"current_password": current, "new_password": new, "confirmation": again or new},
    )


def test_changing_the_password_signs_out_the_others_and_moves_this_one_to_a_new_key(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    browsers = Browsers(client, "first", "second")
    sign_in(browsers[1], ANN)
    sign_in(browsers[0], ANN)
    key_before = browsers[0].cookies["sessionid"]

    response = change_password(browsers[0], ANN.password)
    assert response.status_code == 200
    assert "Your password is changed." in response.text
    assert browsers[0].cookies["sessionid"] != key_before
    assert header_account(browsers[0].get("/catalog/").text) == f"{ANN.name} Sign out"
    assert header_account(browsers[1].get("/catalog/").text) == "Sign in"
    # The new password signs in, the old one no longer does.
    browsers[1].cookies.clear()
    assert sign_in(browsers[1], ANN).status_code == 200
    assert sign_in(browsers[1], ANN, password=NEW_PASSWORD).status_code == 303


def test_the_current_password_is_asked_and_errors_stand_beside_their_fields(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, ANN)
    sign_in(client, ANN)
    wrong = parse(change_password(client, "not-the-current-one").text)
    assert texts(wrong, "#current_password-error") == ["That is not your current password."]
    short = parse(change_password(client, ANN.password, new="short").text)
    assert texts(short, "#new_password-error") == ["A password has 8 to 1024 characters."]
    mismatch = parse(change_password(client, ANN.password, again="something-else-entirely").text)
    assert texts(mismatch, "#confirmation-error") == ["The two passwords are not the same."]
    # Nothing changed: the old password still signs in.
    client.post("/accounts/sign-out")
    assert sign_in(client, ANN).status_code == 303


def reset_link(outbox: Path) -> str:
    [message] = messages(outbox)
    body = message.get_content()
    match = re.search(r"http://testserver(/accounts/password/reset/\S+)", body)
    assert match, body
    return match.group(1)


def test_forgot_password_gives_one_answer_and_mails_only_a_real_account(
    client: TestClient, database_url: str, outbox: Path
) -> None:
    add_account(database_url, ANN)
    unknown = client.post("/accounts/password/forgot", data={"email": "nobody@example.org"})
    known = client.post("/accounts/password/forgot", data={"email": ANN.email.upper()})
    assert unknown.status_code == known.status_code == 200
    assert unknown.text == known.text
    [message] = messages(outbox)
    assert message["To"] == ANN.email
    assert "reset" in message["Subject"].lower()


def test_a_reset_link_sets_a_new_password_once(
    client: TestClient, database_url: str, outbox: Path
) -> None:
    add_account(database_url, ANN)
    browsers = Browsers(client, "signed in elsewhere", "the one resetting")
    sign_in(browsers[0], ANN)
    browsers[1].post("/accounts/password/forgot", data={"email": ANN.email})
    link = reset_link(outbox)
    assert browsers[1].get(link).status_code == 200
    done = browsers[1].post(link, data={"new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert "Your new password is set" in done.text
    assert sign_in(browsers[1], ANN, password=NEW_PASSWORD).status_code == 303
    # Whoever was signed in with the old password is signed out.
    assert header_account(browsers[0].get("/catalog/").text) == "Sign in"
    # The link worked once.
    again = browsers[1].post(
        link, data={"new_password": "yet-another-password", "confirmation": "yet-another-password"}
    )
    assert again.status_code == 400
    assert "This reset link no longer works" in again.text


def test_a_reset_link_is_void_once_the_password_changes(
    client: TestClient, database_url: str, outbox: Path
) -> None:
    add_account(database_url, ANN)
    client.post("/accounts/password/forgot", data={"email": ANN.email})
    link = reset_link(outbox)
    sign_in(client, ANN)
    change_password(client, ANN.password)
    assert client.get(link).status_code == 400


def test_a_made_up_reset_link_is_a_clear_400(client: TestClient, database_url: str) -> None:
    add_account(database_url, BOB)
    response = client.get("/accounts/password/reset/not-a-token")
    assert response.status_code == 400
    assert "Ask for a new link" in response.text
    assert sql(database_url, "SELECT count(*) FROM users") == [(1,)]
