"""The writers of one SQLite file take its write lock in turn, whichever process they are in.

SQLite leaves waiting to its busy timeout: a writer that finds the lock taken sleeps and tries
again, for a millisecond at first and up to 100 ms at a time later. A writer whose writes come
back to back, as a worker's session writes do under load, takes the lock again within
microseconds of each commit, so another process's writer, asleep, seldom finds it free: with
one browser's requests spread over two workers, one worker's requests waited over a second
while the other's ran (docs/performance.md).

So writers queue outside SQLite too, on two file locks (`flock`) beside the database: `-writer`,
held while writing, and `-next-writer`, held by the writer waiting for it. A turn takes the
next place, then the writer's lock, then gives up the next place. A writer that has just
written must take the next place again before it can write, and while another writer is
waiting for the lock, that writer holds the next place. So when two writers both want the lock
they have it by turns, and neither waits longer than one transaction of the other. With three or
more, the one that takes the next place first goes next.

The kernel wakes a waiting writer as the lock is given up: nothing polls. A process's locks end
with it, so one that dies during its turn holds up no one. A turn is only as long as the
transaction in it, which SQLite's busy timeout bounds while it waits for writers that do not
take turns (the CLI, `sqlite3`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

WRITER_SUFFIX = "-writer"
NEXT_WRITER_SUFFIX = "-next-writer"


class WriteTurns:
    """One writer's place in the turns for the SQLite file at `path`: for one thread at a time.

    The locks belong to this object's open files, so two of them exclude each other even in one
    process. A lock file that cannot be opened is reported as SQLite reports its own files
    (`sqlite3.OperationalError`, "unable to open"): the database is out of reach for now.
    """

    def __init__(self, path: str) -> None:
        self._writer = _open_lock(f"{path}{WRITER_SUFFIX}")
        try:
            self._next_writer = _open_lock(f"{path}{NEXT_WRITER_SUFFIX}")
        except sqlite3.OperationalError:
            os.close(self._writer)
            raise

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn, and hold it inside the `with`."""
        fcntl.flock(self._next_writer, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._writer, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._next_writer, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._writer, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._writer)
        os.close(self._next_writer)


def _open_lock(path: str) -> int:
    # Read-only is enough for `flock`, and opens a lock file that another user's process made.
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
    except OSError as error:
        raise sqlite3.OperationalError(f"unable to open {path}: {error.strerror}") from error
