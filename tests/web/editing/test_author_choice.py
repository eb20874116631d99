"""A book's author is chosen by typing part of the name: the form never lists every author (at
100,000 books that was 20,000 options rendered on the event loop). Matching folds case and
accents and takes the last word as a prefix; at most ten are offered, in order of name; without
JavaScript the name typed is looked up when the form is sent. On both databases."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st
from starlette.testclient import TestClient

from locallibrary.catalog.authors_named import SHOWN
from tests.db import sql
from tests.html import parse, text
from tests.web.editing.helpers import book_body, first, form_fields, post, replaced

AUTHORS = "/catalog/book/_authors"


def add_author(database_url: str, first_name: str, last_name: str) -> int:
    sql(
        database_url,
        "INSERT INTO catalog_author (first_name, last_name) VALUES (:first, :last)",
        first=first_name,
        last=last_name,
    )
    return int(
        first(
            database_url,
            "SELECT max(id) FROM catalog_author WHERE first_name = :first AND last_name = :last",
            first=first_name,
            last=last_name,
        )
    )


def offered(html: str) -> list[tuple[str, str, bool]]:
    """The authors offered to choose: (id, name as labelled, checked)."""
    tree = parse(html)
    choices = []
    for radio in tree.css("input[type=radio][name=author_id]"):
        label = tree.css_first(f"label[for='{radio.attributes['id']}']")
        assert label is not None
        name = text(label).split(" (")[0]
        choices.append((radio.attributes["value"] or "", name, "checked" in radio.attributes))
    return choices


def book_body_typing(database_url: str, typed: str, **values: str) -> list[tuple[str, str]]:
    """A valid book form, with the author's name typed and no author chosen."""
    body = [pair for pair in book_body(database_url, **values) if pair[0] != "author_id"]
    return [*body, ("author_name", typed)]


def test_the_book_form_lists_no_authors_but_the_chosen_one(
    librarian: TestClient, database_url: str
) -> None:
    for n in range(30):
        add_author(database_url, f"Writer{n}", "Many")
    authors = first(database_url, "SELECT count(*) FROM catalog_author")
    assert authors > 30

    creating = librarian.get("/catalog/book/create")
    assert offered(creating.text) == []
    assert "Writer" not in creating.text
    book_id, author_id = sql(
        database_url, "SELECT id, author_id FROM catalog_book ORDER BY id LIMIT 1"
    )[0]
    [(author_name,)] = sql(
        database_url,
        "SELECT last_name || ', ' || first_name FROM catalog_author WHERE id = :id",
        id=author_id,
    )
    editing = librarian.get(f"/catalog/book/{book_id}/update")
    assert offered(editing.text) == [(str(author_id), author_name, True)]
    assert "Writer" not in editing.text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("garcia marquez", ["García Márquez, Gabriel"]),
        ("GABRIEL", ["García Márquez, Gabriel"]),
        ("garc", ["Garcia, Jerry", "García Márquez, Gabriel"]),
        ("márq", ["García Márquez, Gabriel"]),
        ("uber", ["Über, Anna"]),
        ("über", ["Über, Anna"]),
        ("jerry garcia", ["Garcia, Jerry"]),
        ("zzzz", []),
        ("g", []),  # one letter: too many to be of use
    ],
)
def test_authors_are_offered_by_part_of_the_name_whatever_its_case_and_accents(
    librarian: TestClient, database_url: str, typed: str, expected: list[str]
) -> None:
    add_author(database_url, "Gabriel", "García Márquez")
    add_author(database_url, "Jerry", "Garcia")
    add_author(database_url, "Anna", "Über")
    response = librarian.get(AUTHORS, params={"author_name": typed})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert [name for _, name, _ in offered(response.text)] == expected


def test_at_most_ten_are_offered_in_order_of_name_with_a_word_to_type_more(
    librarian: TestClient, database_url: str
) -> None:
    ids = {add_author(database_url, f"Given{letter}", "Zylberstein") for letter in "LKJIHGFEDCBA"}
    response = librarian.get(AUTHORS, params={"author_name": "zylber"})
    choices = offered(response.text)
    assert [name for _, name, _ in choices] == [
        f"Zylberstein, Given{letter}" for letter in "ABCDEFGHIJ"
    ]
    assert len(choices) == SHOWN
    assert {int(author_id) for author_id, _, _ in choices} <= ids
    assert "type more of the name" in response.text

    exact = librarian.get(AUTHORS, params={"author_name": "zylberstein givenl"})
    assert [name for _, name, _ in offered(exact.text)] == ["Zylberstein, GivenL"]
    assert "type more of the name" not in exact.text


def test_the_chosen_author_stays_offered_and_chosen_while_another_name_is_typed(
    librarian: TestClient, database_url: str
) -> None:
    chosen = add_author(database_url, "Octavia", "Butler")
    add_author(database_url, "Ursula", "Le Guin")
    response = librarian.get(AUTHORS, params={"author_name": "le gu", "author_id": str(chosen)})
    assert [(name, checked) for _, name, checked in offered(response.text)] == [
        ("Butler, Octavia", True),
        ("Le Guin, Ursula", False),
    ]


def test_a_book_is_saved_with_the_one_author_whose_name_was_typed(
    librarian: TestClient, database_url: str
) -> None:
    butler = add_author(database_url, "Octavia", "Butler")
    response = post(
        librarian, "/catalog/book/create", book_body_typing(database_url, "octavia butl")
    )
    assert response.status_code == 303
    book_id = int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])
    assert first(database_url, "SELECT author_id FROM catalog_book WHERE id = :id", id=book_id) == (
        butler
    )


def test_a_name_that_several_authors_have_asks_which_and_nothing_is_stored(
    librarian: TestClient, database_url: str
) -> None:
    first_smith = add_author(database_url, "Ann", "Smithers")
    add_author(database_url, "Bob", "Smithers")
    books = first(database_url, "SELECT count(*) FROM catalog_book")
    response = post(librarian, "/catalog/book/create", book_body_typing(database_url, "smithers"))
    assert response.status_code == 200
    error = parse(response.text).css_first("#author_id-error")
    assert error is not None and "More than one author" in text(error)
    assert [name for _, name, _ in offered(response.text)] == ["Smithers, Ann", "Smithers, Bob"]
    assert first(database_url, "SELECT count(*) FROM catalog_book") == books

    # The rest of the form is kept: choosing one of them and sending it again saves the book.
    again = replaced(form_fields(response), author_id=str(first_smith))
    saved = post(librarian, "/catalog/book/create", again)
    assert saved.status_code == 303
    assert first(database_url, "SELECT count(*) FROM catalog_book") == books + 1
    assert (
        first(database_url, "SELECT author_id FROM catalog_book ORDER BY id DESC LIMIT 1")
        == first_smith
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type part of the author's name, then choose the author."),
        ("qqqqq", "No author's name has “qqqqq”. Add the author first, or type less."),
    ],
)
def test_no_author_chosen_or_found_is_an_error_that_says_what_to_do(
    librarian: TestClient, database_url: str, typed: str, message: str
) -> None:
    books = first(database_url, "SELECT count(*) FROM catalog_book")
    response = post(librarian, "/catalog/book/create", book_body_typing(database_url, typed))
    assert response.status_code == 200
    error = parse(response.text).css_first("#author_id-error")
    assert error is not None and text(error) == message
    if typed:
        link = parse(response.text).css_first("#author-choices a")
        assert link is not None and link.attributes["href"] == "/catalog/author/create"
    assert first(database_url, "SELECT count(*) FROM catalog_book") == books


def test_an_author_deleted_meanwhile_is_chosen_again(
    librarian: TestClient, database_url: str
) -> None:
    gone = add_author(database_url, "Gone", "Meanwhile")
    sql(database_url, "DELETE FROM catalog_author WHERE id = :id", id=gone)
    response = post(librarian, "/catalog/book/create", book_body(database_url, author_id=str(gone)))
    assert response.status_code == 200
    error = parse(response.text).css_first("#author_id-error")
    assert error is not None and "choose again" in text(error)


@hypothesis.settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.function_scoped_fixture,
    ],
)
@hypothesis.given(
    typed=st.one_of(
        st.text(max_size=300),
        st.sampled_from(['"', "*", "NEAR(", "a:b", "-x", "zz'q", "a\\'", "AND OR NOT", "^b", "()"]),
    ),
    chosen=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["0", "-1", "9" * 40])),
)
def test_whatever_is_typed_or_sent_as_the_choice_gets_an_answer_not_an_error(
    librarian: TestClient, database_url: str, typed: str, chosen: str | None
) -> None:
    params = {"author_name": typed} | ({} if chosen is None else {"author_id": chosen})
    response = librarian.get(AUTHORS, params=params)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
