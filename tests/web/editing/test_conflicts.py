"""No silent lost edits: two librarians load the same book and both save; the second sees a
conflict page with their values and the current ones, and can save theirs again. And who
changed a book, and when, shows on its page to librarians only. On both databases."""

from __future__ import annotations

from starlette.testclient import TestClient

from locallibrary.accounts.tables import Role
from tests.accounts.helpers import ANN, LIBBY, Account, Browsers, add_account, sign_in
from tests.db import sql
from tests.html import parse, text, texts
from tests.web.editing.helpers import first, form_fields, post, replaced

LEO = Account("leo@example.org", "Leo Cataloguer", "leo-has-a-long-password", Role.LIBRARIAN)


def test_the_second_of_two_saves_sees_a_conflict_and_can_save_again(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, LIBBY)
    add_account(database_url, LEO)
    browsers = Browsers(client, "Libby's", "Leo's")
    assert sign_in(browsers[0], LIBBY).status_code == 303
    assert sign_in(browsers[1], LEO).status_code == 303
    book_id = first(database_url, "SELECT min(id) FROM catalog_book")
    path = f"/catalog/book/{book_id}/update"
    libbys = form_fields(browsers[0].get(path))
    leos = form_fields(browsers[1].get(path))

    assert post(browsers[0], path, replaced(libbys, title="Libby's title")).status_code == 303
    conflict = post(browsers[1], path, replaced(leos, title="Leo's title"))
    assert conflict.status_code == 409
    page = parse(conflict.text)
    [title_row] = [row for row in page.css("table.conflict tr") if "Title" in text(row)]
    assert text(title_row.css_first(".yours")) == "Leo's title"
    assert text(title_row.css_first(".now")) == "Libby's title"
    assert sql(database_url, "SELECT title FROM catalog_book WHERE id = :id", id=book_id) == [
        ("Libby's title",)
    ]

    # "Save mine": the conflict page's form carries Leo's values and the current version.
    again = form_fields(conflict)
    assert dict(again)["title"] == "Leo's title"
    assert dict(again)["version"] == "2"
    assert post(browsers[1], path, again).status_code == 303
    assert sql(
        database_url, "SELECT title, version FROM catalog_book WHERE id = :id", id=book_id
    ) == [("Leo's title", 3)]


def test_a_save_with_the_version_it_loaded_is_no_conflict(
    librarian: TestClient, database_url: str
) -> None:
    genre_id = first(database_url, "SELECT min(id) FROM catalog_genre")
    path = f"/catalog/genre/{genre_id}/update"
    for name in ("First rename", "Second rename"):  # each save from a fresh form
        assert (
            post(librarian, path, replaced(form_fields(librarian.get(path)), name=name)).status_code
            == 303
        )
    assert sql(
        database_url, "SELECT name, version FROM catalog_genre WHERE id = :id", id=genre_id
    ) == [("Second rename", 3)]


def test_a_book_shows_who_changed_it_last_to_librarians_only(
    client: TestClient, database_url: str
) -> None:
    add_account(database_url, LIBBY)
    add_account(database_url, ANN)
    browsers = Browsers(client, "librarian", "patron", "anonymous")
    sign_in(browsers[0], LIBBY)
    sign_in(browsers[1], ANN)
    book_id = first(database_url, "SELECT min(id) FROM catalog_book")
    page = f"/catalog/book/{book_id}"
    for index in range(3):  # each has the page in memory before the change
        assert texts(parse(browsers[index].get(page).text), ".last-change") == []
    path = f"{page}/update"
    assert post(browsers[0], path, form_fields(browsers[0].get(path))).status_code == 303

    [line] = texts(parse(browsers[0].get(page).text), ".last-change")
    assert line.startswith(f"Last changed by {LIBBY.name} on ")
    for index in (1, 2):
        assert texts(parse(browsers[index].get(page).text), ".last-change") == []
    [(user_id, action)] = sql(
        database_url,
        "SELECT user_id, action FROM catalog_changes WHERE table_name = 'catalog_book'"
        " AND row_id = :id",
        id=str(book_id),
    )
    assert action == "update"
    assert user_id == first(database_url, "SELECT id FROM users WHERE email = :e", e=LIBBY.email)
