"""The desk's rules on real databases: a copy's status follows its loans and holds, in the same
transaction, and the database itself allows one open loan per copy."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy.exc import IntegrityError

from locallibrary.database import Database
from locallibrary.loans import desk
from tests.db import sql, with_database
from tests.loans.helpers import (
    IN_THREE_WEEKS,
    add_patrons,
    available_copy,
    book_with_one_copy_left,
    copy_state,
    loans_of,
)

T = TypeVar("T")


def run(database_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    return with_database(database_url, work)


def lend(database_url: str, copy_id: uuid.UUID, patron: int, librarian: int) -> int:
    return run(database_url, lambda db: desk.lend(db, copy_id, patron, IN_THREE_WEEKS, librarian))


def test_lending_makes_the_copy_on_loan_and_a_second_lend_is_refused(database_url: str) -> None:
    ann, bob, libby = add_patrons(database_url, 3)
    copy_id, _ = available_copy(database_url)
    lend(database_url, copy_id, ann, libby)
    assert copy_state(database_url, copy_id) == ("o", IN_THREE_WEEKS)
    with pytest.raises(desk.NoLongerAvailable, match="no longer available: it is on loan"):
        lend(database_url, copy_id, bob, libby)
    assert [row[0] for row in loans_of(database_url, copy_id)] == [ann]


def test_the_database_allows_one_open_loan_per_copy(database_url: str) -> None:
    ann, bob = add_patrons(database_url, 2)
    copy_id, _ = available_copy(database_url)
    insert = (
        "INSERT INTO loans (copy_id, patron_id, lent_at, due_back, renewals)"
        " VALUES (:copy_id, :patron, 0, :due, 0)"
    )
    sql(database_url, insert, copy_id=copy_id, patron=ann, due=IN_THREE_WEEKS)
    with pytest.raises(IntegrityError):
        sql(database_url, insert, copy_id=copy_id, patron=bob, due=IN_THREE_WEEKS)
    # Once returned, the copy may have a new open loan: the history stays beside it.
    sql(database_url, "UPDATE loans SET returned_at = 1 WHERE copy_id = :id", id=copy_id)
    sql(database_url, insert, copy_id=copy_id, patron=bob, due=IN_THREE_WEEKS)
    assert [row[0] for row in loans_of(database_url, copy_id)] == [ann, bob]


def test_a_return_makes_the_copy_available_and_keeps_the_loan(database_url: str) -> None:
    ann, libby = add_patrons(database_url, 2)
    copy_id, _ = available_copy(database_url)
    loan_id = lend(database_url, copy_id, ann, libby)
    assert run(database_url, lambda db: desk.mark_returned(db, [loan_id, loan_id])) == 1
    assert copy_state(database_url, copy_id) == ("a", None)
    [(patron, due_back, returned_at, _)] = loans_of(database_url, copy_id)
    assert (patron, due_back) == (ann, IN_THREE_WEEKS) and returned_at is not None
    # Returning it again changes nothing.
    assert run(database_url, lambda db: desk.mark_returned(db, [loan_id])) == 0


def test_a_returned_copy_is_reserved_for_the_first_in_the_queue(database_url: str) -> None:
    ann, bob, cat, libby = add_patrons(database_url, 4)
    copy_id, book_id = book_with_one_copy_left(database_url)
    loan_id = lend(database_url, copy_id, ann, libby)
    places = [
        run(database_url, lambda db, p=p: desk.place_hold(db, book_id, p)) for p in (bob, cat)
    ]
    assert places == [1, 2]
    run(database_url, lambda db: desk.mark_returned(db, [loan_id]))
    assert copy_state(database_url, copy_id) == ("r", None)
    # Reserved for Bob: not for Cat, and Bob's borrowing it meets his hold.
    with pytest.raises(desk.NoLongerAvailable, match="reserved for another patron"):
        lend(database_url, copy_id, cat, libby)
    lend(database_url, copy_id, bob, libby)
    assert copy_state(database_url, copy_id)[0] == "o"
    open_holds = sql(
        database_url,
        "SELECT patron_id FROM holds WHERE fulfilled_at IS NULL AND cancelled_at IS NULL",
    )
    assert open_holds == [(cat,)]


def test_cancelling_a_hold_with_a_copy_set_aside_passes_the_copy_on(database_url: str) -> None:
    ann, bob, cat, libby = add_patrons(database_url, 4)
    copy_id, book_id = book_with_one_copy_left(database_url)
    loan_id = lend(database_url, copy_id, ann, libby)
    for patron in (bob, cat):
        run(database_url, lambda db, p=patron: desk.place_hold(db, book_id, p))
    run(database_url, lambda db: desk.mark_returned(db, [loan_id]))
    [(bobs_hold,)] = sql(database_url, "SELECT id FROM holds WHERE patron_id = :p", p=bob)
    run(database_url, lambda db: desk.cancel_hold(db, bobs_hold, bob))
    [(set_aside_for,)] = sql(
        database_url,
        "SELECT patron_id FROM holds WHERE copy_id = :id AND cancelled_at IS NULL",
        id=copy_id,
    )
    assert set_aside_for == cat and copy_state(database_url, copy_id)[0] == "r"
    [(cats_hold,)] = sql(database_url, "SELECT id FROM holds WHERE patron_id = :p", p=cat)
    run(database_url, lambda db: desk.cancel_hold(db, cats_hold, cat))
    assert copy_state(database_url, copy_id) == ("a", None)


def test_holds_are_refused_while_a_copy_is_on_the_shelf_and_twice(database_url: str) -> None:
    ann, bob, libby = add_patrons(database_url, 3)
    copy_id, book_id = book_with_one_copy_left(database_url)
    with pytest.raises(desk.DeskError, match="on the shelf"):
        run(database_url, lambda db: desk.place_hold(db, book_id, bob))
    lend(database_url, copy_id, ann, libby)
    run(database_url, lambda db: desk.place_hold(db, book_id, bob))
    with pytest.raises(desk.DeskError, match="already"):
        run(database_url, lambda db: desk.place_hold(db, book_id, bob))
    with pytest.raises(desk.DeskError, match="no such hold"):
        run(database_url, lambda db: desk.cancel_hold(db, 10**6, bob))


def test_renewal_moves_the_due_date_unless_another_patron_holds_the_book(
    database_url: str,
) -> None:
    ann, bob, libby = add_patrons(database_url, 3)
    copy_id, book_id = book_with_one_copy_left(database_url)
    loan_id = lend(database_url, copy_id, ann, libby)
    later = dt.date.today() + dt.timedelta(days=28)
    run(database_url, lambda db: desk.renew(db, loan_id, later))
    assert copy_state(database_url, copy_id) == ("o", later)
    assert loans_of(database_url, copy_id)[0][3] == 1
    run(database_url, lambda db: desk.place_hold(db, book_id, bob))
    with pytest.raises(desk.DeskError, match="Number1 has a hold on this book"):
        run(database_url, lambda db: desk.renew(db, loan_id, IN_THREE_WEEKS))
    assert copy_state(database_url, copy_id) == ("o", later)


def test_a_returned_loan_is_never_renewed(database_url: str) -> None:
    ann, libby = add_patrons(database_url, 2)
    copy_id, _ = available_copy(database_url)
    loan_id = lend(database_url, copy_id, ann, libby)
    run(database_url, lambda db: desk.mark_returned(db, [loan_id]))
    with pytest.raises(desk.DeskError, match="has been returned"):
        run(database_url, lambda db: desk.renew(db, loan_id, IN_THREE_WEEKS))
    [(_, due_back, _, renewals)] = loans_of(database_url, copy_id)
    assert (due_back, renewals) == (IN_THREE_WEEKS, 0)
    assert copy_state(database_url, copy_id) == ("a", None)


def test_clearing_the_history_keeps_the_open_loans(database_url: str) -> None:
    ann, libby = add_patrons(database_url, 2)
    first, _ = available_copy(database_url)
    second, _ = available_copy(database_url, offset=1)
    returned = lend(database_url, first, ann, libby)
    lend(database_url, second, ann, libby)
    run(database_url, lambda db: desk.mark_returned(db, [returned]))
    run(database_url, lambda db: desk.clear_history(db, ann))
    assert loans_of(database_url, first) == []
    assert len(loans_of(database_url, second)) == 1


def test_every_desk_change_moves_the_catalog_version(database_url: str) -> None:
    """Pages kept in memory are rendered again after a loan or a hold (0006_loans)."""
    ann, bob, libby = add_patrons(database_url, 3)
    copy_id, book_id = book_with_one_copy_left(database_url)

    def version() -> int:
        [(value,)] = sql(database_url, "SELECT version FROM catalog_version WHERE id = 1")
        return int(value)

    seen = [version()]
    loan_id = lend(database_url, copy_id, ann, libby)
    seen.append(version())
    run(database_url, lambda db: desk.place_hold(db, book_id, bob))
    seen.append(version())
    [(hold_id,)] = sql(database_url, "SELECT id FROM holds")
    run(database_url, lambda db: desk.cancel_hold(db, hold_id, bob))
    seen.append(version())
    run(database_url, lambda db: desk.mark_returned(db, [loan_id]))
    seen.append(version())
    assert seen == sorted(set(seen)), seen
