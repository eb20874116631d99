"""Every rule of the edit forms, at its boundaries: errors beside their fields, the rest of the
form kept, nothing stored; the same checks as one types (the htmx check URLs); and a unique
value that two creates race for ends as one row and one clear error. On both databases."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from locallibrary.catalog import editing
from locallibrary.database import Database
from locallibrary.database.values import as_uuid
from tests.db import sql, with_database
from tests.html import parse, texts
from tests.web.editing.helpers import FREE_ISBN, book_body, first, form_fields, post

Pairs = list[tuple[str, str]]


def errors(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Each field's error, by the field's id, as the page shows them beside the fields."""
    tree = parse(response.text)
    return {
        (node.attributes.get("id") or "").removesuffix("-error"): [node.text(strip=True)]
        for node in tree.css(".field-error")
    }


def books(database_url: str) -> int:
    return int(first(database_url, "SELECT count(*) FROM catalog_book"))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("978000000001", "An ISBN has 13 digits (spaces and hyphens between them are fine)."),
        ("97800000000190", "An ISBN has 13 digits (spaces and hyphens between them are fine)."),
        ("978000000001X", "An ISBN has 13 digits (spaces and hyphens between them are fine)."),
        (
            "9780000000018",
            "That ISBN's last digit, its check digit, does not match the others: a typo?",
        ),
        ("", "Enter the book's 13-digit ISBN."),
    ],
    ids=["12 digits", "14 digits", "a letter", "a wrong check digit", "empty"],
)
def test_a_bad_isbn_is_an_error_beside_it_and_the_rest_is_kept(
    librarian: TestClient, database_url: str, typed: str, message: str
) -> None:
    count = books(database_url)
    response = post(librarian, "/catalog/book/create", book_body(database_url, isbn=typed))
    assert response.status_code == 200
    assert errors(response) == {"isbn": [message]}
    kept = dict(form_fields(response))
    assert kept["title"] == "A new book" and kept["summary"] == "What happens in it."
    assert kept["isbn"] == typed
    assert books(database_url) == count


def test_an_isbn_with_hyphens_and_spaces_is_stored_as_its_digits(
    librarian: TestClient, database_url: str
) -> None:
    response = post(
        librarian, "/catalog/book/create", book_body(database_url, isbn=" 978-0-000 00001-9 ")
    )
    assert response.status_code == 303
    assert sql(database_url, "SELECT title FROM catalog_book WHERE isbn = :i", i=FREE_ISBN) == [
        ("A new book",)
    ]


def test_an_isbn_of_another_book_is_an_error_but_a_books_own_is_not(
    librarian: TestClient, database_url: str
) -> None:
    book_id, isbn = sql(database_url, "SELECT id, isbn FROM catalog_book ORDER BY id LIMIT 1")[0]
    taken = post(librarian, "/catalog/book/create", book_body(database_url, isbn=isbn))
    assert errors(taken) == {"isbn": ["Another book has this ISBN."]}
    # The book's own edit form, saved unchanged, keeps its ISBN.
    edit = librarian.get(f"/catalog/book/{book_id}/update")
    saved = post(librarian, f"/catalog/book/{book_id}/update", form_fields(edit))
    assert saved.status_code == 303


@pytest.mark.parametrize(
    ("field", "most", "message"),
    [
        ("title", 200, "At most 200 characters, please."),
        ("summary", 1000, "At most 1000 characters, please."),
    ],
)
def test_a_books_lengths(
    librarian: TestClient, database_url: str, field: str, most: int, message: str
) -> None:
    too_long = post(
        librarian, "/catalog/book/create", book_body(database_url, **{field: "x" * (most + 1)})
    )
    assert errors(too_long) == {field: [message]}
    just_right = post(
        librarian, "/catalog/book/create", book_body(database_url, **{field: "x" * most})
    )
    assert just_right.status_code == 303


def test_a_book_needs_its_title_summary_author_and_language(
    librarian: TestClient, database_url: str
) -> None:
    body = book_body(database_url, title="  ", summary="", author_id="999999", language_id="x")
    response = post(librarian, "/catalog/book/create", body)
    assert errors(response) == {
        "title": ["Enter the book's title."],
        "author_id": ["That author is not in the catalog (deleted meanwhile?): choose again."],
        "summary": ["Enter a short summary."],
        "language_id": ["Invalid Choice: could not coerce."],
    }


def test_control_characters_are_refused_but_a_summary_may_have_lines(
    librarian: TestClient, database_url: str
) -> None:
    refused = post(librarian, "/catalog/book/create", book_body(database_url, title="A\x00B"))
    assert errors(refused) == {"title": ["Only printable characters, please."]}
    lines = post(librarian, "/catalog/book/create", book_body(database_url, summary="One.\r\nTwo."))
    assert lines.status_code == 303


def author(last_name: str = "Le Guin", **values: str) -> Pairs:
    body = {
        "first_name": "Ursula",
        "last_name": last_name,
        "date_of_birth": "",
        "date_of_death": "",
    }
    return list((body | values).items())


@pytest.mark.parametrize("name", ["first_name", "last_name"])
def test_an_authors_names_have_at_most_100_characters(librarian: TestClient, name: str) -> None:
    too_long = post(librarian, "/catalog/author/create", author(**{name: "n" * 101}))
    assert errors(too_long) == {name: ["At most 100 characters, please."]}
    assert post(librarian, "/catalog/author/create", author(**{name: "n" * 100})).status_code == 303


def test_an_author_needs_a_last_name_only(librarian: TestClient, database_url: str) -> None:
    missing = post(librarian, "/catalog/author/create", author(last_name=""))
    assert errors(missing) == {"last_name": ["Enter the author's last name."]}
    one_name = post(librarian, "/catalog/author/create", author(last_name="Homer", first_name=""))
    assert one_name.status_code == 303


def test_a_death_before_the_birth_is_an_error_but_the_same_day_is_not(
    librarian: TestClient, database_url: str
) -> None:
    before = post(
        librarian,
        "/catalog/author/create",
        author(date_of_birth="1929-10-21", date_of_death="1929-10-20"),
    )
    assert errors(before) == {"date_of_death": ["The date of death is before the date of birth."]}
    assert dict(form_fields(before))["date_of_birth"] == "1929-10-21"
    same_day = post(
        librarian,
        "/catalog/author/create",
        author(date_of_birth="1929-10-21", date_of_death="1929-10-21"),
    )
    assert same_day.status_code == 303
    not_a_date = post(librarian, "/catalog/author/create", author(date_of_birth="21/10/1929"))
    assert errors(not_a_date) == {"date_of_birth": ["Not a valid date value."]}


@pytest.mark.parametrize(("kind", "existing"), [("genre", "Fantasy"), ("language", "English")])
def test_genre_and_language_names_are_unique_whatever_their_case(
    librarian: TestClient, database_url: str, kind: str, existing: str
) -> None:
    table = f"catalog_{kind}"
    count = first(database_url, f"SELECT count(*) FROM {table}")
    response = post(librarian, f"/catalog/{kind}/create", [("name", existing.lower())])
    assert errors(response) == {"name": [f"There is a {kind} of that name already."]}
    assert first(database_url, f"SELECT count(*) FROM {table}") == count
    # Renaming another one to it is refused too.
    other_id = first(database_url, f"SELECT min(id) FROM {table} WHERE name <> :n", n=existing)
    renamed = post(
        librarian,
        f"/catalog/{kind}/{other_id}/update",
        [("name", existing.upper()), ("version", "1")],
    )
    assert errors(renamed) == {"name": [f"There is a {kind} of that name already."]}


@pytest.mark.parametrize("kind", ["genre", "language"])
def test_genre_and_language_names_have_at_most_200_characters(
    librarian: TestClient, kind: str
) -> None:
    too_long = post(librarian, f"/catalog/{kind}/create", [("name", "g" * 201)])
    assert errors(too_long) == {"name": ["At most 200 characters, please."]}
    assert post(librarian, f"/catalog/{kind}/create", [("name", "g" * 200)]).status_code == 303


def test_a_copy_needs_a_real_book_an_imprint_and_a_known_status(
    librarian: TestClient, database_url: str
) -> None:
    body = [("book_id", "999999"), ("imprint", ""), ("status", "x"), ("due_back", "")]
    response = post(librarian, "/catalog/copy/create", body)
    assert errors(response) == {
        "book_id": ["There is no book with that number."],
        "imprint": ["Enter the copy's imprint."],
        "status": ["Not a valid choice."],
    }
    too_long = post(
        librarian,
        "/catalog/copy/create",
        [("book_id", "1"), ("imprint", "i" * 201), ("status", "a")],
    )
    assert errors(too_long) == {"imprint": ["At most 200 characters, please."]}


def slot_errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What a check answers: each slot's id and the error in it ("" for none)."""
    tree = parse(response.text)
    return {
        node.attributes.get("id") or "": " ".join(texts(parse(node.html or ""), ".field-error"))
        for node in tree.css(".field-slot")
    }


def test_the_isbn_is_checked_as_one_types(librarian: TestClient, database_url: str) -> None:
    book_id, isbn = sql(database_url, "SELECT id, isbn FROM catalog_book ORDER BY id LIMIT 1")[0]
    check = "/catalog/book/_check/isbn"
    assert slot_errors(post(librarian, check, [("isbn", isbn)])) == {
        "isbn-slot": "Another book has this ISBN."
    }
    assert slot_errors(post(librarian, check, [("isbn", "9780000000018")])) == {
        "isbn-slot": "That ISBN's last digit, its check digit, does not match the others: a typo?"
    }
    assert slot_errors(post(librarian, check, [("isbn", FREE_ISBN)])) == {"isbn-slot": ""}
    # On the book's own edit form, its ISBN is no clash.
    own = post(librarian, f"/catalog/book/{book_id}/_check/isbn", [("isbn", isbn)])
    assert slot_errors(own) == {"isbn-slot": ""}


def test_the_dates_are_checked_as_one_types(librarian: TestClient) -> None:
    check = "/catalog/author/_check/dates"
    wrong = post(
        librarian, check, [("date_of_birth", "1900-01-02"), ("date_of_death", "1900-01-01")]
    )
    assert slot_errors(wrong) == {
        "date_of_death-slot": "The date of death is before the date of birth.",
        "date_of_birth-slot": "",
    }
    right = post(
        librarian, check, [("date_of_birth", "1900-01-01"), ("date_of_death", "1900-01-01")]
    )
    assert slot_errors(right) == {"date_of_death-slot": "", "date_of_birth-slot": ""}
    # The form's fields carry the checks, swapping their own slots.
    page = parse(librarian.get("/catalog/author/create").text)
    for name in ("date_of_birth", "date_of_death"):
        field = page.css_first(f"input[name={name}]")
        assert field.attributes["hx-post"] == check
        assert field.attributes["hx-target"] == f"#{name}-slot"


def test_two_creates_of_one_name_at_once_make_one_row_and_one_clear_error(
    database_url: str, patron_id: int
) -> None:
    async def race(db: Database) -> list[object]:
        return await asyncio.gather(
            *(
                editing.create(db, "genre", {"name": name}, patron_id)
                for name in ("Solarpunk", "solarpunk")
            ),
            return_exceptions=True,
        )

    results = with_database(database_url, race)
    taken = [r for r in results if isinstance(r, editing.Taken)]
    assert len(taken) == 1 and taken[0].field == "name"
    assert [r for r in results if isinstance(r, int)]
    assert sql(
        database_url, "SELECT count(*) FROM catalog_genre WHERE lower(name) = 'solarpunk'"
    ) == [(1,)]


def test_the_copy_form_never_sets_the_desks_statuses_and_keeps_them(
    librarian: TestClient, database_url: str
) -> None:
    """On loan and Reserved follow loans and holds (loans/desk.py): the copy form offers
    Available and Maintenance only, and saving a copy on loan keeps its status and due date."""
    client = librarian
    [(copy_id, book_id, due)] = sql(
        database_url,
        "SELECT id, book_id, due_back FROM catalog_bookinstance WHERE status = 'o' LIMIT 1",
    )
    copy = str(as_uuid(copy_id))
    form = parse(client.get(f"/catalog/copy/{copy}/update").text)
    offered = [o.attributes["value"] for o in form.css("select[name=status] option")]
    assert offered == ["a", "m"]
    version = form.css_first("input[name=version]").attributes["value"]
    saved = client.post(
        f"/catalog/copy/{copy}/update",
        data={
            "book_id": str(book_id),
            "imprint": "A new imprint",
            "status": "a",
            "due_back": "",
            "version": version,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    [(status, due_after, imprint)] = sql(
        database_url,
        "SELECT status, due_back, imprint FROM catalog_bookinstance WHERE id = :id",
        id=copy_id,
    )
    assert (status, imprint) == ("o", "A new imprint")
    assert str(due_after) == str(due)
