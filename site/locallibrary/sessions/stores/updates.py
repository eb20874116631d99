"""Read-merge-writes done together, as both database stores do them (database.py, sqlite.py).

A store reads the rows of the updates that queued together, calls this to merge each update in
arrival order, and writes the rows it returns in one statement, `MERGE_LIMIT` updates at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from locallibrary.sessions.codec import decode
from locallibrary.sessions.stores.base import Merge

# The most updates merged one after another, with no statement between them. A merge (a decode,
# a merge and an encode of a session) holds the GIL: on PostgreSQL it runs on the event loop, and
# on SQLite the loop waits for the writer's thread until that thread's next statement lets go of
# the GIL. So many of them stay well under a millisecond.
MERGE_LIMIT = 32


@dataclass(frozen=True)
class Update:
    """A read-merge-write of one row: `merge` applied to the row's live data, or to None."""

    hashed: str
    merge: Merge
    expires_at: int
    now: int


Outcome = tuple[bool, Any]  # succeeded, with its value or its error
StoredRow = tuple[str, int]  # data, expires_at
WrittenRow = tuple[str, int, int]  # data, expires_at, last seen (the update's now)


def merged_in_order(
    updates: Sequence[Update], rows: dict[str, StoredRow]
) -> tuple[dict[str, WrittenRow], list[Outcome]]:
    """The rows to write, by key, and each update's outcome.

    `rows` holds the stored rows of the updates' keys. Each update merges into its row as the
    update before it left it; a row that has expired by the update's `now`, or that has none,
    is given to the merge as None. A merge that fails leaves the row as it was and fails alone.
    """
    rows = dict(rows)
    written: dict[str, WrittenRow] = {}
    outcomes: list[Outcome] = []
    for update in updates:
        row = rows.get(update.hashed)
        live = decode(row[0]) if row is not None and row[1] > update.now else None
        try:
            text = update.merge(live)
        except Exception as error:
            outcomes.append((False, error))
            continue
        rows[update.hashed] = (text, update.expires_at)
        written[update.hashed] = (text, update.expires_at, update.now)
        outcomes.append((True, None))
    return written, outcomes
