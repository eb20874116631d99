"""The loans' pages in-process: who may open them, the forms and their messages beside the
fields, the list of all borrowed books, the patron's page, holds and the calendar."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from starlette.testclient import TestClient

from locallibrary.loans import desk
from locallibrary.web import loan_views
from tests.accounts.helpers import ANN, BOB, LIBBY, Account, add_account, sign_in
from tests.db import sql, with_database
from tests.html import parse, text, texts
from tests.loans.helpers import IN_THREE_WEEKS, available_copy, book_with_one_copy_left, copy_state

TODAY = dt.date.today()


@pytest.fixture
def accounts(database_url: str) -> dict[str, int]:
    return {account.name: add_account(database_url, account) for account in (ANN, BOB, LIBBY)}


@pytest.fixture
def librarian(client: TestClient, accounts: dict[str, int]) -> TestClient:
    assert sign_in(client, LIBBY).status_code == 303
    return client


def lend_directly(database_url: str, copy_id: uuid.UUID, patron: int, due: dt.date) -> int:
    return with_database(database_url, lambda db: desk.lend(db, copy_id, patron, due, patron))


def field_error(markup: str, name: str) -> str:
    field = parse(markup).css_first(f"#{name}")
    assert field is not None, name
    feedback = parse(markup).css_first(f"#{name}-error, #{name}-feedback")
    return text(feedback) if feedback is not None else ""


def test_the_desk_is_for_librarians_and_my_loans_for_signed_in_users(
    client: TestClient, accounts: dict[str, int]
) -> None:
    desk_pages = ["/loans/", "/loans/lend", "/loans/1/renew", "/loans/due-date/check"]
    for path in [*desk_pages, "/loans/mine/", "/loans/mine/due-dates.ics"]:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and "/accounts/sign-in" in response.headers["location"]
    assert sign_in(client, ANN).status_code == 303
    for path in desk_pages:
        assert client.get(path).status_code == 403, path
    assert client.post("/loans/return", data={"only": "1"}).status_code == 403
    assert client.post("/loans/lend", data={}).status_code == 403
    assert client.get("/loans/mine/").status_code == 200


def test_a_librarian_lends_a_copy_and_the_patron_sees_it(
    librarian: TestClient, database_url: str
) -> None:
    copy_id, book_id = available_copy(database_url)
    form = parse(librarian.get(f"/loans/lend?copy={copy_id.hex}").text)
    assert form.css_first("#copy").attributes["value"] == copy_id.hex
    assert form.css_first("#due_back").attributes["value"] == IN_THREE_WEEKS.isoformat()
    response = librarian.post(
        "/loans/lend",
        data={"copy": copy_id.hex, "patron": ANN.email.upper(), "due_back": IN_THREE_WEEKS},
    )
    assert response.status_code == 200 and response.url.path == "/loans/lend"
    assert f"to {ANN.name}, due back on" in text(parse(response.text).css_first(".message"))
    assert copy_state(database_url, copy_id) == ("o", IN_THREE_WEEKS)
    assert "On loan" in texts(parse(librarian.get(f"/catalog/book/{book_id}").text), ".status")

    sign_in(librarian, ANN)
    mine = parse(librarian.get("/loans/mine/").text)
    [row] = texts(mine, ".my-loans li")
    assert f"due back on {IN_THREE_WEEKS:%-d %B %Y}" in row and "Overdue" not in row


def test_lending_by_name_and_the_forms_errors_stand_beside_their_fields(
    librarian: TestClient, database_url: str
) -> None:
    copy_id, _ = available_copy(database_url)
    page = librarian.post(
        "/loans/lend", data={"copy": "not-a-copy", "patron": "Nobody Known", "due_back": ""}
    ).text
    assert "not a copy's id" in field_error(page, "copy")
    assert parse(page).css_first("#patron").attributes["value"] == "Nobody Known"  # kept
    assert "Choose the day" in field_error(page, "due_back")

    past = (TODAY - dt.timedelta(days=1)).isoformat()
    page = librarian.post(
        "/loans/lend", data={"copy": copy_id.hex, "patron": "Nobody Known", "due_back": past}
    ).text
    assert "in the past" in field_error(page, "due_back")
    assert parse(page).css_first("#copy").attributes["value"] == copy_id.hex

    page = librarian.post(
        "/loans/lend",
        data={"copy": copy_id.hex, "patron": "nobody known", "due_back": IN_THREE_WEEKS},
    ).text
    assert "No account has that name" in field_error(page, "patron")
    lent = librarian.post(
        "/loans/lend", data={"copy": copy_id.hex, "patron": "bob borrower", "due_back": ""}
    )
    assert "Choose the day" in field_error(lent.text, "due_back")
    lent = librarian.post(
        "/loans/lend",
        data={"copy": copy_id.hex, "patron": "bob borrower", "due_back": IN_THREE_WEEKS},
    )
    assert BOB.name in text(parse(lent.text).css_first(".message"))
    again = librarian.post(
        "/loans/lend", data={"copy": copy_id.hex, "patron": ANN.email, "due_back": IN_THREE_WEEKS}
    ).text
    assert "no longer available" in field_error(again, "copy")


def test_the_desk_finds_a_patron_by_name_whatever_its_case_accents_and_spacing(
    librarian: TestClient, database_url: str
) -> None:
    elise = Account("elise@example.org", "Élise Martin", "elise-has-a-long-password")
    add_account(database_url, elise)
    copy_id, _ = available_copy(database_url)
    lent = librarian.post(
        "/loans/lend",
        data={"copy": copy_id.hex, "patron": "  ELISE   martin ", "due_back": IN_THREE_WEEKS},
    )
    assert f"to {elise.name}, due back on" in text(parse(lent.text).css_first(".message"))


@pytest.mark.parametrize(
    ("days", "message"),
    [(-1, "in the past"), (29, "more than 4 weeks ahead"), (0, ""), (28, "")],
    ids=["yesterday", "29 days", "today", "28 days"],
)
def test_renewal_dates_run_from_today_to_four_weeks_ahead(
    librarian: TestClient, database_url: str, accounts: dict[str, int], days: int, message: str
) -> None:
    copy_id, _ = available_copy(database_url)
    loan_id = lend_directly(database_url, copy_id, accounts[ANN.name], IN_THREE_WEEKS)
    chosen = (TODAY + dt.timedelta(days=days)).isoformat()
    # Inline, as typed (htmx asks for the message alone), and again on submit.
    inline = librarian.get("/loans/due-date/check", params={"due_back": chosen})
    assert inline.status_code == 200 and parse(inline.text).css_first("#due_back-feedback")
    assert message in text(parse(inline.text).css_first("#due_back-feedback"))
    response = librarian.post(f"/loans/{loan_id}/renew", data={"due_back": chosen})
    if message:
        assert message in field_error(response.text, "due_back")
        assert copy_state(database_url, copy_id)[1] == IN_THREE_WEEKS
    else:
        assert response.url.path == "/loans/"
        assert "Renewed" in text(parse(response.text).css_first(".message"))
        assert copy_state(database_url, copy_id)[1] == TODAY + dt.timedelta(days=days)


def test_renewal_is_refused_when_another_patron_holds_the_book(
    librarian: TestClient, database_url: str, accounts: dict[str, int]
) -> None:
    copy_id, book_id = book_with_one_copy_left(database_url)
    loan_id = lend_directly(database_url, copy_id, accounts[ANN.name], IN_THREE_WEEKS)
    with_database(database_url, lambda db: desk.place_hold(db, book_id, accounts[BOB.name]))
    form = parse(librarian.get(f"/loans/{loan_id}/renew").text)
    default = (TODAY + dt.timedelta(days=21)).isoformat()
    assert form.css_first("#due_back").attributes["value"] == default
    page = librarian.post(f"/loans/{loan_id}/renew", data={"due_back": default}).text
    assert f"{BOB.name} has a hold on this book" in text(parse(page).css_first(".form-error"))


def test_all_borrowed_lists_open_loans_by_due_date_with_overdue_marked_a_page_at_a_time(
    librarian: TestClient, database_url: str, accounts: dict[str, int]
) -> None:
    dues = [TODAY + dt.timedelta(days=d) for d in (5, -3, 12, 0, -1, 20, 2, 9, 14, 1, 3, 7)]
    for offset, due in enumerate(dues):
        copy_id, _ = available_copy(database_url, offset)
        lend_directly(database_url, copy_id, accounts[ANN.name], due)
    first = parse(librarian.get("/loans/").text)
    shown = texts(first, "table.loans td.due")
    in_order = sorted(dues)
    assert len(shown) == 10 and text(first.css_first(".pagination-current")) == "Page 1 of 2"
    assert [s.removesuffix(" Overdue") for s in shown] == [f"{d:%-d %b %Y}" for d in in_order[:10]]
    assert [s.endswith("Overdue") for s in shown] == [d < TODAY for d in in_order[:10]]
    assert all(ANN.name == name for name in texts(first, "table.loans tbody td:nth-child(3)"))
    assert len(first.css("button[name=only]")) == 10 and len(first.css("a[href$=renew]")) == 10
    second = parse(librarian.get("/loans/?page=2").text)
    assert len(texts(second, "table.loans td.due")) == 2
    # The page size is the visitor's preference, as on the other lists.
    librarian.post("/catalog/preferences/per-page", data={"list": "loans", "per_page": "25"})
    assert len(texts(parse(librarian.get("/loans/").text), "table.loans td.due")) == 12


def test_marking_returned_in_bulk_without_javascript_and_with_htmx(
    librarian: TestClient, database_url: str, accounts: dict[str, int]
) -> None:
    copies = [available_copy(database_url, offset)[0] for offset in range(4)]
    loans = [lend_directly(database_url, c, accounts[ANN.name], IN_THREE_WEEKS) for c in copies]
    plain = librarian.post("/loans/return", data={"loan": [loans[0], loans[1]], "page": "1"})
    assert plain.url.path == "/loans/" and "Marked 2 loans returned." in plain.text
    assert [copy_state(database_url, c)[0] for c in copies] == ["a", "a", "o", "o"]

    htmx = {"HX-Request": "true", "HX-Target": "loan-list"}
    swapped = librarian.post(
        "/loans/return", data={"only": loans[2], "loan": [loans[3]]}, headers=htmx
    )
    tree = parse(swapped.text)
    assert tree.css_first("body > div#loan-list") is not None and tree.css_first("h1") is None
    assert "Marked 1 loan returned." in text(tree.css_first(".message"))
    assert [copy_state(database_url, c)[0] for c in copies] == ["a", "a", "a", "o"]
    nothing = librarian.post("/loans/return", data={"page": "1"})
    assert nothing.status_code == 400 and "Tick the loans" in nothing.text


def test_a_patron_places_a_hold_sees_their_place_and_cancels_it(
    client: TestClient, database_url: str, accounts: dict[str, int]
) -> None:
    copy_id, book_id = book_with_one_copy_left(database_url)
    book_page = f"/catalog/book/{book_id}"
    sign_in(client, ANN)
    assert client.post(f"/loans/holds/book/{book_id}").status_code == 400  # a copy is there
    lend_directly(database_url, copy_id, accounts[BOB.name], IN_THREE_WEEKS)
    button = parse(client.get(book_page).text).css_first(".copies form button")
    assert text(button) == "Place a hold"
    placed = client.post(f"/loans/holds/book/{book_id}")
    assert placed.url.path == "/loans/mine/"
    assert "you are number 1 in the queue" in text(parse(placed.text).css_first(".held"))
    assert "number 1 in the queue" in texts(parse(placed.text), ".my-holds li")[0]
    state = parse(client.get(book_page).text)
    assert text(state.css_first(".hold-state")) == "You are number 1 in the queue for this book."
    cancel = state.css_first(".copies form").attributes["action"] or ""
    back = client.post(cancel, data={"next": book_page})
    assert back.url.path == book_page
    assert text(parse(back.text).css_first(".copies form button")) == "Place a hold"
    assert client.post(cancel).status_code == 400  # cancelled already
    sign_in(client, BOB)
    assert client.post(cancel).status_code == 400  # nobody cancels another's hold


def test_the_patrons_history_is_theirs_to_clear(
    client: TestClient, database_url: str, accounts: dict[str, int]
) -> None:
    first, _ = available_copy(database_url)
    second, _ = available_copy(database_url, 1)
    returned = lend_directly(database_url, first, accounts[ANN.name], IN_THREE_WEEKS)
    lend_directly(database_url, second, accounts[ANN.name], TODAY - dt.timedelta(days=2))
    with_database(database_url, lambda db: desk.mark_returned(db, [returned]))
    sign_in(client, ANN)
    page = parse(client.get("/loans/mine/").text)
    [overdue] = texts(page, ".my-loans li")
    assert overdue.endswith("Overdue")  # in words, not colour alone
    assert len(texts(page, ".my-history li")) == 1
    cleared = parse(client.post("/loans/mine/history/clear").text)
    assert text(cleared.css_first(".message")) == "Your loan history is cleared."
    assert texts(cleared, ".my-history li") == [] and len(texts(cleared, ".my-loans li")) == 1
    sign_in(client, BOB)
    assert texts(parse(client.get("/loans/mine/").text), ".my-loans li") == []


def test_the_calendar_holds_the_patrons_due_dates(
    client: TestClient, database_url: str, accounts: dict[str, int]
) -> None:
    copy_id, book_id = available_copy(database_url)
    loan_id = lend_directly(database_url, copy_id, accounts[ANN.name], IN_THREE_WEEKS)
    [(title,)] = sql(database_url, "SELECT title FROM catalog_book WHERE id = :id", id=book_id)
    sign_in(client, ANN)
    response = client.get("/loans/mine/due-dates.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"].startswith("attachment")
    body = response.content.decode()
    lines = body.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert f"DTSTART;VALUE=DATE:{IN_THREE_WEEKS:%Y%m%d}" in lines
    assert f"UID:loan-{loan_id}@locallibrary" in lines
    unfolded = body.replace("\r\n ", "")
    escaped = title.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    assert f"SUMMARY:Due back at the library: {escaped}" in unfolded
    assert all(len(line.encode()) <= 75 for line in lines)
    sign_in(client, BOB)
    assert "BEGIN:VEVENT" not in client.get("/loans/mine/due-dates.ics").text


def test_a_kept_loans_page_marks_the_loans_due_yesterday_overdue_the_next_day(
    librarian: TestClient,
    database_url: str,
    accounts: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pages kept in memory are kept per day: what is overdue moves at midnight."""
    copy_id, _ = available_copy(database_url)
    lend_directly(database_url, copy_id, accounts[ANN.name], TODAY)
    for _ in range(2):  # the second from memory
        assert texts(parse(librarian.get("/loans/").text), "table.loans td.due") == [
            f"{TODAY:%-d %b %Y}"
        ]
    monkeypatch.setattr(loan_views, "today", lambda: TODAY + dt.timedelta(days=1))
    assert texts(parse(librarian.get("/loans/").text), "table.loans td.due") == [
        f"{TODAY:%-d %b %Y} Overdue"
    ]
