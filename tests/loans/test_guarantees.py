"""The desk's guarantees under concurrency, against the real server: one worker, two workers on
one SQLite file, and PostgreSQL (one worker and two).

Each worker is its own uvicorn process (so that the test sends each request where it chooses);
browsers are signed in through the test app's `/test/sign-in` (tests/sessions/flush_app.py),
which spares fifty password hashes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest

from locallibrary.accounts.tables import Role
from locallibrary.loans import desk
from tests.db import sql, with_database
from tests.html import parse, text, texts
from tests.live_server import LiveServer, live_server
from tests.load import client, run_concurrently
from tests.loans.helpers import (
    IN_THREE_WEEKS,
    add_patrons,
    available_copy,
    book_with_one_copy_left,
    copy_state,
)
from tests.sessions.test_across_workers import signed_in_session

CONCURRENT = 50
POLL = {"HX-Request": "true"}
IN_FOUR_WEEKS = dt.date.today() + dt.timedelta(days=28)


@pytest.fixture(params=[1, 2], ids=["one worker", "two workers"])
def workers(request: pytest.FixtureRequest, database_url: str) -> Iterator[list[LiveServer]]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "loans-guarantees-secret"}
    with ExitStack() as stack:
        yield [
            stack.enter_context(live_server(env, factory="tests.sessions.flush_app:create_app"))
            for _ in range(request.param)
        ]


def librarian_cookies(database_url: str, worker: LiveServer) -> dict[str, str]:
    [librarian] = add_patrons(database_url, 1, prefix="librarian", role=Role.LIBRARIAN)
    return signed_in_session(worker, librarian)


def test_50_concurrent_lends_of_one_copy_make_exactly_one_loan(
    workers: list[LiveServer], database_url: str
) -> None:
    copy_id, _ = available_copy(database_url)
    cookies = librarian_cookies(database_url, workers[0])
    add_patrons(database_url, CONCURRENT)

    async def lend(i: int) -> tuple[int, str]:
        async with client(workers[i % len(workers)].url, httpx.Cookies(cookies)) as desk_browser:
            response = await desk_browser.post(
                "/loans/lend",
                data={
                    "copy": copy_id.hex,
                    "patron": f"patron{i}@example.org",
                    "due_back": IN_THREE_WEEKS.isoformat(),
                },
            )
            return response.status_code, response.text

    answers = run_concurrently(CONCURRENT, lend)
    assert sorted(status for status, _ in answers) == [200] * (CONCURRENT - 1) + [303]
    for status, page in answers:
        if status == 200:
            message = text(parse(page).css_first("#copy-error"))
            assert message == "This copy is no longer available: it is on loan."
    [(loans,)] = sql(database_url, "SELECT count(*) FROM loans WHERE copy_id = :id", id=copy_id)
    assert loans == 1 and copy_state(database_url, copy_id) == ("o", IN_THREE_WEEKS)


def test_50_patrons_holding_one_book_at_once_get_places_1_to_50_in_commit_order(
    workers: list[LiveServer], database_url: str
) -> None:
    copy_id, book_id = book_with_one_copy_left(database_url)
    patrons = add_patrons(database_url, CONCURRENT + 1)
    with_database(
        database_url, lambda db: desk.lend(db, copy_id, patrons[-1], IN_THREE_WEEKS, patrons[-1])
    )
    cookies = [
        signed_in_session(workers[i % len(workers)], patron)
        for i, patron in enumerate(patrons[:-1])
    ]

    async def place_hold(i: int) -> int:
        async with client(workers[i % len(workers)].url, httpx.Cookies(cookies[i])) as browser:
            response = await browser.post(f"/loans/holds/book/{book_id}")
            assert response.status_code == 303, response.text
            [place] = parse_qs(urlsplit(response.headers["location"]).query)["held"]
            return int(place)

    places = run_concurrently(CONCURRENT, place_hold)
    assert sorted(places) == list(range(1, CONCURRENT + 1))
    # The place each was told at its commit is its place in the queue as it stands.
    queue = [
        patron_id
        for (patron_id,) in sql(
            database_url, "SELECT patron_id FROM holds WHERE book_id = :b ORDER BY id", b=book_id
        )
    ]
    told = dict(zip(patrons[:-1], places, strict=True))
    assert [told[patron] for patron in queue] == list(range(1, CONCURRENT + 1))
    # And each patron's page says the same.
    for i in (0, CONCURRENT - 1):
        page = httpx.get(f"{workers[0].url}/loans/mine/", cookies=cookies[i])
        assert f"number {places[i]} in the queue" in texts(parse(page.text), ".my-holds li")[0]


def test_a_return_racing_a_renewal_leaves_one_consistent_outcome(
    workers: list[LiveServer], database_url: str
) -> None:
    races = 20
    cookies = librarian_cookies(database_url, workers[0])
    patrons = add_patrons(database_url, races)
    copies: list[uuid.UUID] = []
    loan_ids: list[int] = []
    for patron in patrons:
        copy_id, _ = available_copy(database_url)  # the one lent just before is not
        copies.append(copy_id)
        loan_ids.append(
            with_database(
                database_url,
                lambda db, c=copy_id, p=patron: desk.lend(db, c, p, IN_THREE_WEEKS, p),
            )
        )

    async def race(i: int) -> tuple[str, int]:
        loan_id = loan_ids[i // 2]
        async with client(workers[i % len(workers)].url, httpx.Cookies(cookies)) as browser:
            if i % 2 == 0:
                returned = await browser.post("/loans/return", data={"only": loan_id})
                return "return", returned.status_code
            renewed = await browser.post(
                f"/loans/{loan_id}/renew", data={"due_back": IN_FOUR_WEEKS.isoformat()}
            )
            return "renew", renewed.status_code

    outcomes = run_concurrently(2 * races, race)
    assert all(status == 303 for kind, status in outcomes if kind == "return")
    renewed = [status == 303 for kind, status in outcomes if kind == "renew"]
    assert 0 < len(renewed) == races
    for loan_id, copy_id, was_renewed in zip(loan_ids, copies, renewed, strict=True):
        [(due_back, returned_at, renewals)] = sql(
            database_url,
            "SELECT due_back, returned_at, renewals FROM loans WHERE id = :id",
            id=loan_id,
        )
        assert returned_at is not None
        # A renewal that was answered as done came before the return; one that came after was
        # refused and changed nothing. The copy is on the shelf, with no due date, either way.
        assert renewals == (1 if was_renewed else 0)
        expected = IN_FOUR_WEEKS if was_renewed else IN_THREE_WEEKS
        assert str(due_back) == expected.isoformat()
        assert copy_state(database_url, copy_id) == ("a", None)


def available_count(worker: LiveServer) -> int:
    box = parse(httpx.get(f"{worker.url}/catalog/_counts", headers=POLL).text)
    return int(text(box.css_first("[data-count=copies_available]")))


def home_available_count(worker: LiveServer) -> int:
    home = parse(httpx.get(f"{worker.url}/catalog/").text)
    return int(text(home.css_first("[data-count=copies_available]")))


def copy_statuses(worker: LiveServer, book_id: int) -> list[str]:
    return texts(parse(httpx.get(f"{worker.url}/catalog/book/{book_id}").text), ".copies .status")


def test_a_loan_and_a_return_count_on_the_next_request_in_every_worker(
    workers: list[LiveServer], database_url: str
) -> None:
    copy_id, book_id = book_with_one_copy_left(database_url)
    cookies = librarian_cookies(database_url, workers[0])
    [patron] = add_patrons(database_url, 1)
    before = available_count(workers[0])
    for worker in workers:  # every page in memory, twice over
        for _ in range(2):
            available_count(worker), home_available_count(worker), copy_statuses(worker, book_id)
    lent = httpx.post(
        f"{workers[0].url}/loans/lend",
        data={"copy": copy_id.hex, "patron": "patron0@example.org", "due_back": ""},
        cookies=cookies,
    )
    assert lent.status_code == 200  # the empty due date: not lent yet
    lent = httpx.post(
        f"{workers[0].url}/loans/lend",
        data={
            "copy": copy_id.hex,
            "patron": "patron0@example.org",
            "due_back": IN_THREE_WEEKS.isoformat(),
        },
        cookies=cookies,
    )
    assert lent.status_code == 303
    for worker in workers:
        assert available_count(worker) == before - 1
        assert home_available_count(worker) == before - 1
        assert "On loan" in copy_statuses(worker, book_id)
        assert "Available" not in copy_statuses(worker, book_id)
    [(loan_id,)] = sql(database_url, "SELECT id FROM loans WHERE patron_id = :p", p=patron)
    returned = httpx.post(
        f"{workers[-1].url}/loans/return", data={"only": loan_id}, cookies=cookies
    )
    assert returned.status_code == 303
    for worker in workers:
        assert available_count(worker) == before
        assert home_available_count(worker) == before
        assert "Available" in copy_statuses(worker, book_id)


def all_borrowed_rows(worker: LiveServer, cookies: dict[str, str]) -> list[list[str]]:
    """All borrowed's rows as the librarian sees them: title, borrower and due date."""
    page = parse(httpx.get(f"{worker.url}/loans/", cookies=cookies).text)
    return [[text(cell) for cell in row.css("td")[1:4]] for row in page.css("table.loans tbody tr")]


def my_loan_titles(worker: LiveServer, cookies: dict[str, str]) -> list[str]:
    return texts(
        parse(httpx.get(f"{worker.url}/loans/mine/", cookies=cookies).text), ".my-loans li > a"
    )


def test_the_kept_loans_pages_show_each_change_on_the_next_request_in_every_worker(
    workers: list[LiveServer], database_url: str
) -> None:
    """All borrowed and My borrowed books are kept in memory per viewer; a loan, a renewal, a
    borrower's new name and a return, made by the desk or in plain SQL, show at once."""
    copy_id, book_id = book_with_one_copy_left(database_url)
    [(title,)] = sql(database_url, "SELECT title FROM catalog_book WHERE id = :id", id=book_id)
    librarian = librarian_cookies(database_url, workers[0])
    [patron] = add_patrons(database_url, 1)
    borrower = signed_in_session(workers[0], patron)

    def kept_everywhere() -> list[tuple[list[list[str]], list[str]]]:
        seen = []
        for worker in workers:  # each page read twice: the second from memory
            for _ in range(2):
                rows, mine = all_borrowed_rows(worker, librarian), my_loan_titles(worker, borrower)
            seen.append((rows, mine))
        return seen

    assert all(rows == [] and title not in mine for rows, mine in kept_everywhere())
    loan_id = with_database(
        database_url, lambda db: desk.lend(db, copy_id, patron, IN_THREE_WEEKS, patron)
    )
    due = f"{IN_THREE_WEEKS:%-d %b %Y}"
    assert kept_everywhere() == [([[title, "Patron Number0", due]], [title])] * len(workers)
    sql(database_url, "UPDATE loans SET due_back = :d WHERE id = :id", d=IN_FOUR_WEEKS, id=loan_id)
    renewed = [[title, "Patron Number0", f"{IN_FOUR_WEEKS:%-d %b %Y}"]]
    assert [rows for rows, _ in kept_everywhere()] == [renewed] * len(workers)
    sql(database_url, "UPDATE users SET name = 'Patricia Renamed' WHERE id = :id", id=patron)
    for worker in workers:
        assert [row[1] for row in all_borrowed_rows(worker, librarian)] == ["Patricia Renamed"]
    with_database(database_url, lambda db: desk.mark_returned(db, [loan_id]))
    assert all(rows == [] and title not in mine for rows, mine in kept_everywhere())
