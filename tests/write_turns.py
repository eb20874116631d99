"""Seeing, from outside, that a SQLite writer waits for its turn (database/write_turns.py)."""

from __future__ import annotations

import fcntl
import os
import time

from locallibrary.database.write_turns import NEXT_WRITER_SUFFIX

WAIT_SECONDS = 10.0


def a_writer_is_next(path: str) -> bool:
    """Whether a writer holds the next place for the SQLite file at `path`: it is waiting for
    the writer's lock. (Looking takes the next place for a moment when it is free.)"""
    probe = os.open(f"{path}{NEXT_WRITER_SUFFIX}", os.O_RDONLY | os.O_CREAT)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(probe)  # and with it the lock, if it was taken
    return False


def wait_until_a_writer_is_next(path: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not a_writer_is_next(path):
        if time.monotonic() > deadline:
            raise AssertionError(f"no writer came to wait for the lock of {path}")
        time.sleep(0.001)
