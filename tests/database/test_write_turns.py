"""The writers of one SQLite file take its write lock in turn (database/write_turns.py).

The other writer is another process, as another worker is. It asks for its turn when the test
writes it a line, and ends its turn at the next line.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from locallibrary.database.write_turns import WriteTurns
from tests.write_turns import WAIT_SECONDS, wait_until_a_writer_is_next

OTHER_WRITER = """
import sys
from locallibrary.database.write_turns import WriteTurns

turns = WriteTurns(sys.argv[1])
sys.stdin.readline()
with turns.turn():
    print("writing", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "library.sqlite3")


@pytest.fixture
def ours(path: str) -> Iterator[WriteTurns]:
    turns = WriteTurns(path)
    yield turns
    turns.close()


def other_writer(path: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", OTHER_WRITER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def tell(other: subprocess.Popen[str]) -> None:
    assert other.stdin is not None
    other.stdin.write("\n")
    other.stdin.flush()


def write_on_a_thread(turns: WriteTurns, log: list[str]) -> threading.Thread:
    def write() -> None:
        with turns.turn():
            log.append("ours")

    thread = threading.Thread(target=write, daemon=True)  # a failed test leaves it waiting
    thread.start()
    return thread


def test_a_writer_waiting_for_the_lock_writes_before_the_one_that_held_it_writes_again(
    path: str, ours: WriteTurns
) -> None:
    log: list[str] = []
    with other_writer(path) as other:
        assert other.stdout is not None
        with ours.turn():
            tell(other)  # to ask for its turn
            wait_until_a_writer_is_next(path)
        ours_again = write_on_a_thread(ours, log)  # asks at once, as a busy worker does

        assert other.stdout.readline() == "writing\n"  # the other writer had the next turn
        wait_until_a_writer_is_next(path)  # ours waits for it now
        assert log == []

        tell(other)  # to end its turn
        ours_again.join(WAIT_SECONDS)
        assert log == ["ours"]
    assert other.returncode == 0


def test_a_writer_that_dies_in_its_turn_holds_up_no_one(path: str, ours: WriteTurns) -> None:
    log: list[str] = []
    with other_writer(path) as other:
        assert other.stdout is not None
        tell(other)
        assert other.stdout.readline() == "writing\n"
        ours_next = write_on_a_thread(ours, log)
        wait_until_a_writer_is_next(path)
        assert log == []

        other.kill()
        ours_next.join(WAIT_SECONDS)
        assert log == ["ours"]
