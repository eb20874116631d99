"""Unit tests of `Session` on a `MemoryStore`, with a fake clock (nothing here sleeps).

Django's own session tests (`SessionTestsMixin` in django/tests/sessions_tests/tests.py) are the
checklist: the dict API and its `accessed`/`modified` flags, keys, flush and cycle_key, expiry,
the test cookie. Then what this framework adds: `increment()`, JSON-only values, the size cap,
nested changes seen without `modified = True`, and merging of concurrent saves of one session.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from locallibrary.sessions import (
    MemoryStore,
    Session,
    SessionConfig,
    SessionDataError,
    SessionTooLarge,
)
from locallibrary.sessions.keys import is_well_formed, stored_id
from locallibrary.sessions.session import EXPIRY_KEY
from tests.clock import FakeClock

pytestmark = pytest.mark.anyio

START = 1_700_000_000.0
MAX_AGE = 3600


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def config() -> SessionConfig:
    return SessionConfig(max_age=MAX_AGE)


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


@pytest.fixture
def session(config: SessionConfig, clock: FakeClock) -> Session:
    return Session(None, {}, config, clock)


def new_session(config: SessionConfig, clock: FakeClock) -> Session:
    return Session(None, {}, config, clock)


async def data_of(store: MemoryStore, key: str) -> dict[str, Any] | None:
    """The data of the live session `key`, None if there is none."""
    stored = await store.load(key)
    return None if stored is None else stored.data


async def load(
    store: MemoryStore, key: str | None, config: SessionConfig, clock: FakeClock
) -> Session:
    """What the middleware does: a live row becomes a session under its key, else a new one."""
    assert key is not None
    stored = await store.load(key)
    assert stored is not None, f"no live row for {key}"
    return Session(
        key, stored.data, config, clock, user_id=stored.user_id, signed_in_at=stored.signed_in_at
    )


async def saved(store: MemoryStore, config: SessionConfig, clock: FakeClock, **data: Any) -> str:
    """A stored session with `data`; returns its key."""
    s = new_session(config, clock)
    s.update(data)
    await s.save(store)
    assert s.session_key is not None
    return s.session_key


def stored(store: MemoryStore, key: str | None) -> dict[str, Any]:
    assert key is not None
    result: dict[str, Any] = json.loads(store.rows[stored_id(key)].data)
    return result


def expires_at(store: MemoryStore, key: str | None) -> int:
    assert key is not None
    return store.rows[stored_id(key)].expires_at


# -- a new session ------------------------------------------------------------------------------


def test_new_session_is_empty(session: Session) -> None:
    assert session.session_key is None
    assert session.is_empty
    assert len(session) == 0
    assert list(session) == []
    assert dict(session) == {}
    assert not session.has_changes()


def test_new_session_flags_are_clear(session: Session) -> None:
    assert session.accessed is False
    assert session.modified is False


async def test_session_key_is_set_by_save(session: Session, store: MemoryStore) -> None:
    session["cat"] = "bagpuss"
    assert session.session_key is None
    await session.save(store)
    key = session.session_key
    assert key is not None and is_well_formed(key)
    assert stored_id(key) in store.rows
    assert not session.is_empty


async def test_saving_an_untouched_new_session_stores_nothing(
    session: Session, store: MemoryStore
) -> None:
    await session.save(store)
    assert session.session_key is None
    assert store.rows == {}


async def test_each_new_session_gets_its_own_key(
    config: SessionConfig, clock: FakeClock, store: MemoryStore
) -> None:
    keys = {await saved(store, config, clock, n=i) for i in range(20)}
    assert len(keys) == 20


# -- the dict API and its flags -----------------------------------------------------------------


def test_getitem_and_keyerror(session: Session) -> None:
    session["cat"] = "bagpuss"
    assert session["cat"] == "bagpuss"
    with pytest.raises(KeyError):
        session["dog"]


def test_get_with_and_without_default(session: Session) -> None:
    session["cat"] = "bagpuss"
    assert session.get("cat") == "bagpuss"
    assert session.get("dog") is None
    assert session.get("dog", "rex") == "rex"


def test_get_sets_only_accessed(session: Session) -> None:
    session.get("cat")
    assert session.accessed is True
    assert session.modified is False


def test_getitem_sets_only_accessed(session: Session) -> None:
    with pytest.raises(KeyError):
        session["cat"]
    assert (session.accessed, session.modified) == (True, False)


def test_contains(session: Session) -> None:
    session["cat"] = "bagpuss"
    assert "cat" in session
    assert "dog" not in session


def test_contains_sets_only_accessed(session: Session) -> None:
    assert "cat" not in session
    assert (session.accessed, session.modified) == (True, False)


def test_setitem_sets_both_flags(session: Session) -> None:
    session["cat"] = "bagpuss"
    assert (session.accessed, session.modified) == (True, True)


def test_delitem(session: Session) -> None:
    session["cat"] = "bagpuss"
    del session["cat"]
    assert "cat" not in session
    with pytest.raises(KeyError):
        del session["cat"]


async def test_delitem_sets_both_flags(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, cat="bagpuss", dog="rex")
    s = await load(store, key, config, clock)
    del s["cat"]
    assert (s.accessed, s.modified) == (True, True)


def test_iteration(session: Session) -> None:
    session.update({"a": 1, "b": 2, "c": 3})
    assert sorted(session) == ["a", "b", "c"]


def test_iteration_survives_changes_during_it(session: Session) -> None:
    session.update({"a": 1, "b": 2})
    for key in session:
        del session[key]
    assert len(session) == 0


async def test_iteration_sets_only_accessed(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1)
    s = await load(store, key, config, clock)
    assert list(s) == ["a"]
    assert (s.accessed, s.modified) == (True, False)


async def test_len_sets_only_accessed(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1, b=2)
    s = await load(store, key, config, clock)
    assert len(s) == 2
    assert (s.accessed, s.modified) == (True, False)


async def test_keys_values_items(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, x=1, y=[2])
    s = await load(store, key, config, clock)
    assert sorted(s.keys()) == ["x", "y"]
    assert sorted(map(json.dumps, s.values())) == ["1", "[2]"]
    assert sorted(s.items()) == [("x", 1), ("y", [2])]
    assert (s.accessed, s.modified) == (True, False)


def test_pop(session: Session) -> None:
    session["some key"] = "exists"
    session.accessed = session.modified = False
    assert session.pop("some key") == "exists"
    assert (session.accessed, session.modified) == (True, True)
    assert "some key" not in session


def test_pop_default(session: Session) -> None:
    assert session.pop("some key", "does not exist") == "does not exist"
    assert (session.accessed, session.modified) == (True, False)


def test_pop_default_named_argument(session: Session) -> None:
    assert session.pop("some key", default="does not exist") == "does not exist"
    assert (session.accessed, session.modified) == (True, False)


def test_pop_no_default_keyerror(session: Session) -> None:
    with pytest.raises(KeyError):
        session.pop("some key")
    assert session.modified is False


def test_setdefault(session: Session) -> None:
    assert session.setdefault("foo", "bar") == "bar"
    assert session.setdefault("foo", "baz") == "bar"
    assert session["foo"] == "bar"
    assert (session.accessed, session.modified) == (True, True)


async def test_setdefault_of_existing_key_sets_only_accessed(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, foo="bar")
    s = await load(store, key, config, clock)
    assert s.setdefault("foo", "baz") == "bar"
    assert (s.accessed, s.modified) == (True, False)


def test_update(session: Session) -> None:
    session.update({"update key": 1})
    session.update(other=2)
    assert dict(session) == {"update key": 1, "other": 2}
    assert (session.accessed, session.modified) == (True, True)


def test_clear(session: Session) -> None:
    session.update({"x": 1, "y": 2})
    session.accessed = session.modified = False
    session.clear()
    assert dict(session) == {}
    assert (session.accessed, session.modified) == (True, True)


def test_non_string_key_raises_type_error(session: Session) -> None:
    for bad in (1, None, ("a", "b"), b"bytes"):
        with pytest.raises(TypeError):
            session[bad] = "x"  # type: ignore[index]
    assert dict(session) == {}
    assert session.modified is False


def test_repr_shows_the_key_or_new(session: Session) -> None:
    session["a"] = 1
    assert "(new)" in repr(session)


# -- is_empty -----------------------------------------------------------------------------------


async def test_is_empty(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    assert session.is_empty
    session["a"] = 1
    assert not session.is_empty
    await session.save(store)
    key = session.session_key
    s = await load(store, key, config, clock)
    assert not s.is_empty
    s.flush()
    assert s.is_empty


# -- save and load ------------------------------------------------------------------------------


async def test_save_then_load_gives_the_same_data(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    data = {
        "text": "Grüße, 世界 — \u2603",
        "int": 42,
        "float": 1.5,
        "bool": True,
        "none": None,
        "list": [1, "two", [3]],
        "dict": {"nested": {"deep": [True, None]}},
    }
    session.update(data)
    await session.save(store)
    s = await load(store, session.session_key, config, clock)
    assert dict(s) == data
    assert stored(store, session.session_key) == data
    assert not s.has_changes()


async def test_save_of_a_loaded_session_keeps_its_key(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1)
    s = await load(store, key, config, clock)
    s["b"] = 2
    await s.save(store)
    assert s.session_key == key
    assert list(store.rows) == [stored_id(key)]
    assert stored(store, key) == {"a": 1, "b": 2}


async def test_emptying_a_stored_session_deletes_its_row(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1)
    s = await load(store, key, config, clock)
    del s["a"]
    await s.save(store)
    assert s.session_key is None
    assert store.rows == {}


async def test_expired_row_loads_as_none(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1)
    clock.now += MAX_AGE - 1
    assert await data_of(store, key) == {"a": 1}
    clock.now += 1
    assert await data_of(store, key) is None


async def test_each_save_extends_the_expiry(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1)
    assert expires_at(store, key) == START + MAX_AGE
    clock.now += 100
    s = await load(store, key, config, clock)
    s["b"] = 2
    await s.save(store)
    assert expires_at(store, key) == START + 100 + MAX_AGE


# -- flush and cycle_key ------------------------------------------------------------------------


async def test_flush(store: MemoryStore, config: SessionConfig, clock: FakeClock) -> None:
    key = await saved(store, config, clock, foo="bar")
    s = await load(store, key, config, clock)
    s.flush()
    assert (s.accessed, s.modified) == (True, True)
    assert dict(s) == {}
    assert s.session_key is None
    await s.save(store)
    assert s.session_key is None
    assert store.rows == {}
    assert await data_of(store, key) is None


async def test_flush_then_new_data_gets_a_new_key(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, foo="bar")
    s = await load(store, key, config, clock)
    s.flush()
    s["new"] = "data"
    await s.save(store)
    assert s.session_key is not None and s.session_key != key
    assert list(store.rows) == [stored_id(s.session_key)]
    assert stored(store, s.session_key) == {"new": "data"}


def test_flush_of_a_new_session(session: Session) -> None:
    session["a"] = 1
    session.flush()
    assert dict(session) == {}
    assert session.session_key is None
    assert session.is_empty


async def test_cycle_key(store: MemoryStore, config: SessionConfig, clock: FakeClock) -> None:
    key = await saved(store, config, clock, a="b", n=3)
    s = await load(store, key, config, clock)
    s["c"] = "d"
    s.increment("n")
    s.cycle_key()
    assert (s.accessed, s.modified) == (True, True)
    assert s.session_key is None
    await s.save(store)
    new_key = s.session_key
    assert new_key is not None and new_key != key
    assert stored_id(key) not in store.rows
    assert list(store.rows) == [stored_id(new_key)]
    assert stored(store, new_key) == {"a": "b", "c": "d", "n": 4}
    assert dict(s) == {"a": "b", "c": "d", "n": 4}


async def test_cycle_key_of_a_new_session(session: Session, store: MemoryStore) -> None:
    session["a"] = 1
    session.cycle_key()
    await session.save(store)
    assert session.session_key is not None
    assert stored(store, session.session_key) == {"a": 1}


# -- expiry -------------------------------------------------------------------------------------


def test_default_expiry(session: Session, clock: FakeClock) -> None:
    assert session.get_expiry_age() == MAX_AGE
    assert session.get_expiry_date() == dt.datetime.fromtimestamp(START + MAX_AGE, dt.UTC)
    assert session.get_expire_at_browser_close() is False


async def test_default_expiry_is_saved(session: Session, store: MemoryStore) -> None:
    session["a"] = 1
    await session.save(store)
    assert expires_at(store, session.session_key) == START + MAX_AGE


async def test_set_expiry_seconds(session: Session, store: MemoryStore, clock: FakeClock) -> None:
    session["a"] = 1
    session.set_expiry(10)
    assert session.modified
    assert session.get_expiry_age() == 10
    assert session.get_expiry_date() == dt.datetime.fromtimestamp(START + 10, dt.UTC)
    assert session.get_expire_at_browser_close() is False
    await session.save(store)
    assert expires_at(store, session.session_key) == START + 10
    # Seconds of inactivity: the age stays 10 however late it is asked.
    clock.now += 5
    assert session.get_expiry_age() == 10


async def test_set_expiry_timedelta(session: Session, store: MemoryStore, clock: FakeClock) -> None:
    session["a"] = 1
    session.set_expiry(dt.timedelta(seconds=10))
    assert session.get_expiry_age() == 10
    assert session.get_expiry_date() == dt.datetime.fromtimestamp(START + 10, dt.UTC)
    assert session.get_expire_at_browser_close() is False
    await session.save(store)
    assert expires_at(store, session.session_key) == START + 10
    # A moment, not a span: the age shrinks as time passes.
    clock.now += 4
    assert session.get_expiry_age() == 6


async def test_set_expiry_aware_datetime(
    session: Session, store: MemoryStore, clock: FakeClock
) -> None:
    moment = dt.datetime.fromtimestamp(START + 10, dt.UTC)
    session["a"] = 1
    session.set_expiry(moment)
    assert session.get_expiry_age() == 10
    assert session.get_expiry_date() == moment
    assert session.get_expiry_date().tzinfo is not None
    assert session.get_expire_at_browser_close() is False
    await session.save(store)
    assert expires_at(store, session.session_key) == START + 10


async def test_set_expiry_datetime_in_another_time_zone(
    session: Session, store: MemoryStore
) -> None:
    zone = dt.timezone(dt.timedelta(hours=-5))
    moment = dt.datetime.fromtimestamp(START + 90, zone)
    session["a"] = 1
    session.set_expiry(moment)
    assert session.get_expiry_age() == 90
    assert session.get_expiry_date() == moment
    await session.save(store)
    assert expires_at(store, session.session_key) == START + 90


def test_set_expiry_datetime_in_the_past(session: Session) -> None:
    session.set_expiry(dt.datetime.fromtimestamp(START - 10, dt.UTC))
    assert session.get_expiry_age() == 0


async def test_set_expiry_browser_close(
    session: Session, store: MemoryStore, clock: FakeClock
) -> None:
    session["a"] = 1
    session.set_expiry(0)
    assert session.get_expire_at_browser_close() is True
    # The stored row still expires, after the configured max_age.
    assert session.get_expiry_age() == MAX_AGE
    assert session.get_expiry_date() == dt.datetime.fromtimestamp(START + MAX_AGE, dt.UTC)
    await session.save(store)
    assert expires_at(store, session.session_key) == START + MAX_AGE
    clock.now += MAX_AGE
    assert await data_of(store, session.session_key or "") is None


async def test_browser_close_survives_a_save_and_load(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    session["a"] = 1
    session.set_expiry(0)
    await session.save(store)
    s = await load(store, session.session_key, config, clock)
    assert s.get_expire_at_browser_close() is True


async def test_set_expiry_none_resets_to_the_default(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    session["a"] = 1
    session.set_expiry(10)
    await session.save(store)
    s = await load(store, session.session_key, config, clock)
    assert s.get_expiry_age() == 10
    s.accessed = s.modified = False
    s.set_expiry(None)
    assert s.modified is True
    assert s.get_expiry_age() == MAX_AGE
    assert s.get_expire_at_browser_close() is False
    await s.save(store)
    assert expires_at(store, s.session_key) == START + MAX_AGE
    assert EXPIRY_KEY not in stored(store, s.session_key)


def test_set_expiry_none_on_a_session_without_expiry(session: Session) -> None:
    session.set_expiry(None)
    assert session.get_expiry_age() == MAX_AGE


def test_set_expiry_naive_datetime_raises(session: Session) -> None:
    with pytest.raises(ValueError, match="aware"):
        session.set_expiry(dt.datetime(2030, 1, 1))
    assert EXPIRY_KEY not in session
    assert session.modified is False


async def test_custom_expiry_survives_a_save_and_load(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    session["a"] = 1
    session.set_expiry(dt.timedelta(seconds=100))
    await session.save(store)
    clock.now += 30
    s = await load(store, session.session_key, config, clock)
    assert s.get_expiry_age() == 70
    assert s.get_expiry_date() == dt.datetime.fromtimestamp(START + 100, dt.UTC)


async def test_stored_expiry_of_a_moment_with_a_fractional_clock(
    config: SessionConfig, store: MemoryStore
) -> None:
    clock = FakeClock(START + 0.5)
    s = Session(None, {}, config, clock)
    s["a"] = 1
    s.set_expiry(dt.datetime.fromtimestamp(START + 100, dt.UTC))
    await s.save(store)
    assert expires_at(store, s.session_key) == START + 100


# -- the test cookie ----------------------------------------------------------------------------


def test_test_cookie(session: Session) -> None:
    assert session.test_cookie_worked() is False
    session.set_test_cookie()
    assert session.test_cookie_worked() is True
    session.delete_test_cookie()
    assert session.test_cookie_worked() is False


async def test_test_cookie_survives_a_save_and_load(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    session.set_test_cookie()
    await session.save(store)
    s = await load(store, session.session_key, config, clock)
    assert s.test_cookie_worked() is True
    s.delete_test_cookie()
    await s.save(store)
    assert store.rows == {}


def test_delete_test_cookie_when_absent(session: Session) -> None:
    session.delete_test_cookie()
    assert session.test_cookie_worked() is False


# -- increment ----------------------------------------------------------------------------------


def test_increment_new_key(session: Session) -> None:
    assert session.increment("n") == 1
    assert session["n"] == 1
    assert (session.accessed, session.modified) == (True, True)


def test_increment_returns_the_new_value(session: Session) -> None:
    session["n"] = 5
    assert session.increment("n") == 6
    assert session.increment("n", 10) == 16
    assert session.increment("n", -20) == -4
    assert session["n"] == -4


@pytest.mark.parametrize("value", ["1", 1.5, True, None, [1], {"a": 1}])
def test_increment_non_integer_raises_type_error(session: Session, value: Any) -> None:
    session["n"] = value
    session.modified = False
    with pytest.raises(TypeError):
        session.increment("n")
    assert session["n"] == value
    assert session.modified is False


async def test_increment_is_saved(
    session: Session, store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    session.increment("n")
    await session.save(store)
    assert stored(store, session.session_key) == {"n": 1}
    s = await load(store, session.session_key, config, clock)
    assert s.increment("n", 2) == 3
    await s.save(store)
    assert stored(store, s.session_key) == {"n": 3}
    # A second save of the same object does not apply the increment twice.
    await s.save(store)
    assert stored(store, s.session_key) == {"n": 3}


def test_increment_non_string_key_raises_type_error(session: Session) -> None:
    with pytest.raises(TypeError):
        session.increment(1)  # type: ignore[arg-type]


def test_increment_by_a_float_raises_type_error(session: Session) -> None:
    with pytest.raises(TypeError):
        session.increment("n", 1.5)  # type: ignore[arg-type]
    assert "n" not in session


async def test_set_then_increment_in_one_request(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=5)
    s = await load(store, key, config, clock)
    s["n"] = 10
    assert s.increment("n") == 11
    await s.save(store)
    assert s["n"] == 11
    assert stored(store, key)["n"] == 11


async def test_delete_then_increment_in_one_request(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=5, other="x")
    s = await load(store, key, config, clock)
    del s["n"]
    assert s.increment("n") == 1
    await s.save(store)
    assert stored(store, key)["n"] == 1


async def test_increment_then_set_in_one_request(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=5)
    s = await load(store, key, config, clock)
    s.increment("n")
    s["n"] = 100
    await s.save(store)
    assert stored(store, key)["n"] == 100


async def test_increment_then_delete_in_one_request(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=5, other="x")
    s = await load(store, key, config, clock)
    s.increment("n")
    del s["n"]
    await s.save(store)
    assert stored(store, key) == {"other": "x"}


# -- values JSON cannot store -------------------------------------------------------------------


class Thing:
    pass


@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        Thing(),
        float("nan"),
        float("inf"),
        b"bytes",
        [1, {2}],
        {"a": {"b": Thing()}},
        {1: "a", "b": 2},
    ],
    ids=["set", "object", "nan", "inf", "bytes", "nested-set", "nested-object", "mixed-keys"],
)
def test_unserializable_value_raises_at_setitem(session: Session, value: Any) -> None:
    session["ok"] = 1
    session.modified = False
    with pytest.raises(SessionDataError, match="'badkey'"):
        session["badkey"] = value
    assert "badkey" not in session
    assert session.modified is False


def test_session_data_error_is_a_type_error(session: Session) -> None:
    with pytest.raises(TypeError):
        session["x"] = {1, 2}


def test_lone_surrogate_raises_at_setitem(session: Session) -> None:
    with pytest.raises(SessionDataError, match="'text'"):
        session["text"] = "\ud800"


@pytest.mark.parametrize("bad", [{1, 2}, Thing(), float("nan")], ids=["set", "object", "nan"])
async def test_nested_unserializable_value_fails_save_and_stored_data_stays(
    store: MemoryStore, config: SessionConfig, clock: FakeClock, bad: Any
) -> None:
    key = await saved(store, config, clock, lst=[1], other="x")
    before = store.rows[stored_id(key)]
    s = await load(store, key, config, clock)
    s["other"] = "changed"
    s["lst"].append(bad)
    with pytest.raises(SessionDataError, match="'lst'"):
        await s.save(store)
    assert store.rows[stored_id(key)] == before


async def test_nested_unserializable_value_in_a_new_session_fails_save(
    session: Session, store: MemoryStore
) -> None:
    session["lst"] = []
    session["lst"].append({1})
    with pytest.raises(SessionDataError, match="'lst'"):
        await session.save(store)
    assert store.rows == {}
    assert session.session_key is None


async def test_has_changes_names_a_nested_unserializable_value(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, lst=[])
    s = await load(store, key, config, clock)
    s["lst"].append(Thing())
    with pytest.raises(SessionDataError, match="'lst'"):
        s.has_changes()


# -- the size cap -------------------------------------------------------------------------------


async def test_too_large_new_session_is_not_saved(store: MemoryStore, clock: FakeClock) -> None:
    s = Session(None, {}, SessionConfig(max_bytes=100), clock)
    s["big"] = "x" * 200
    with pytest.raises(SessionTooLarge, match="100 bytes"):
        await s.save(store)
    assert store.rows == {}
    assert s.session_key is None


async def test_too_large_update_leaves_the_stored_data_intact(
    store: MemoryStore, clock: FakeClock
) -> None:
    config = SessionConfig(max_bytes=100)
    key = await saved(store, config, clock, small="x")
    before = store.rows[stored_id(key)]
    s = await load(store, key, config, clock)
    s["big"] = "x" * 200
    with pytest.raises(SessionTooLarge):
        await s.save(store)
    assert store.rows[stored_id(key)] == before
    # The session object still holds this request's data.
    assert s["big"] == "x" * 200


async def test_size_cap_counts_utf8_bytes(store: MemoryStore, clock: FakeClock) -> None:
    config = SessionConfig(max_bytes=100)
    s = Session(None, {}, config, clock)
    s["t"] = "é" * 50  # 50 characters but 100 bytes: with the JSON around them, over 100 bytes
    with pytest.raises(SessionTooLarge):
        await s.save(store)
    s["t"] = "e" * 50
    await s.save(store)
    assert s.session_key is not None


async def test_size_cap_exactly_at_the_limit(store: MemoryStore, clock: FakeClock) -> None:
    text = json.dumps({"a": "x" * 10}, separators=(",", ":"))
    s = Session(None, {}, SessionConfig(max_bytes=len(text)), clock)
    s["a"] = "x" * 10
    await s.save(store)
    s2 = Session(None, {}, SessionConfig(max_bytes=len(text) - 1), clock)
    s2["a"] = "x" * 10
    with pytest.raises(SessionTooLarge):
        await s2.save(store)


async def test_too_large_after_cycle_key_leaves_the_stored_data_intact(
    store: MemoryStore, clock: FakeClock
) -> None:
    config = SessionConfig(max_bytes=100)
    key = await saved(store, config, clock, user="alice")
    before = store.rows[stored_id(key)]
    s = await load(store, key, config, clock)
    s.cycle_key()
    s["big"] = "x" * 200
    with pytest.raises(SessionTooLarge):
        await s.save(store)
    assert store.rows == {stored_id(key): before}


# -- nested changes -----------------------------------------------------------------------------


async def test_has_changes_after_load_without_changes(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, prefs={"lists": [], "theme": "dark"}, n=1)
    s = await load(store, key, config, clock)
    assert s["prefs"]["theme"] == "dark"
    assert s.has_changes() is False
    assert s.modified is False


async def test_has_changes_after_setting_the_same_value(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, prefs={"a": 1, "b": 2})
    s = await load(store, key, config, clock)
    s["prefs"] = {"b": 2, "a": 1}
    assert s.modified is True
    assert s.has_changes() is False


async def test_nested_change_is_seen_and_saved(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, prefs={"lists": []}, other="x")
    s = await load(store, key, config, clock)
    s["prefs"]["lists"].append(1)
    assert s.modified is False  # as in Django: a nested change does not set `modified`
    assert s.has_changes() is True
    await s.save(store)
    assert stored(store, key) == {"prefs": {"lists": [1]}, "other": "x"}
    assert s.has_changes() is False
    s2 = await load(store, key, config, clock)
    assert s2["prefs"] == {"lists": [1]}


async def test_has_changes_sees_deletes_flush_and_increments(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=1, n=1)
    s = await load(store, key, config, clock)
    del s["a"]
    assert s.has_changes()

    s = await load(store, key, config, clock)
    s.increment("n", 0)
    assert s.has_changes()

    s = await load(store, key, config, clock)
    s.flush()
    assert s.has_changes()


async def test_has_changes_is_false_after_save(session: Session, store: MemoryStore) -> None:
    session["a"] = [1]
    assert session.has_changes()
    await session.save(store)
    assert session.has_changes() is False


# -- merging concurrent saves of one session ----------------------------------------------------


async def test_concurrent_changes_of_different_keys_both_kept(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=0, b=0, c="same")
    one = await load(store, key, config, clock)
    two = await load(store, key, config, clock)
    one["a"] = 1
    two["b"] = 2
    await one.save(store)
    await two.save(store)
    assert stored(store, key) == {"a": 1, "b": 2, "c": "same"}
    # What the second request now holds is the merged data.
    assert dict(two) == {"a": 1, "b": 2, "c": "same"}


async def test_concurrent_new_keys_both_kept(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, base=1)
    one = await load(store, key, config, clock)
    two = await load(store, key, config, clock)
    one["x"] = "one"
    two["y"] = "two"
    await one.save(store)
    await two.save(store)
    assert stored(store, key) == {"base": 1, "x": "one", "y": "two"}


async def test_concurrent_nested_changes_of_different_keys_both_kept(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, a=[], b=[])
    one = await load(store, key, config, clock)
    two = await load(store, key, config, clock)
    one["a"].append(1)
    two["b"].append(2)
    await one.save(store)
    await two.save(store)
    assert stored(store, key) == {"a": [1], "b": [2]}


async def test_concurrent_increments_both_count(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=5)
    one = await load(store, key, config, clock)
    two = await load(store, key, config, clock)
    assert one.increment("n") == 6
    assert two.increment("n") == 6
    await one.save(store)
    await two.save(store)
    assert stored(store, key)["n"] == 7
    assert two["n"] == 7


async def test_concurrent_increments_of_a_new_counter_both_count(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, other=1)
    one = await load(store, key, config, clock)
    two = await load(store, key, config, clock)
    one.increment("n")
    two.increment("n", 3)
    await one.save(store)
    await two.save(store)
    assert stored(store, key)["n"] == 4


async def test_key_deleted_in_one_and_changed_in_the_other(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, x="old", keep=1)
    deleter = await load(store, key, config, clock)
    changer = await load(store, key, config, clock)
    del deleter["x"]
    changer["x"] = "new"
    await deleter.save(store)
    assert stored(store, key) == {"keep": 1}
    await changer.save(store)
    # The later save wins for that key; the rest is untouched.
    assert stored(store, key) == {"x": "new", "keep": 1}


async def test_key_changed_in_one_and_deleted_in_the_other(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, x="old", keep=1)
    changer = await load(store, key, config, clock)
    deleter = await load(store, key, config, clock)
    changer["x"] = "new"
    del deleter["x"]
    await changer.save(store)
    await deleter.save(store)
    assert stored(store, key) == {"keep": 1}


async def test_unchanged_key_does_not_undo_another_requests_delete(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, x="old", y=0)
    deleter = await load(store, key, config, clock)
    other = await load(store, key, config, clock)
    del deleter["x"]
    assert other["x"] == "old"  # read, not changed
    other["y"] = 1
    await deleter.save(store)
    await other.save(store)
    assert stored(store, key) == {"y": 1}


async def test_number_set_to_the_value_it_had_does_not_undo_a_concurrent_change(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, per_page=10, seen=0)
    one = await load(store, key, config, clock)
    two = await load(store, key, config, clock)
    one["per_page"] = 10  # as it was loaded
    one["seen"] = 1
    two["per_page"] = 25
    await two.save(store)
    await one.save(store)
    assert stored(store, key) == {"per_page": 25, "seen": 1}


async def test_number_changed_to_an_equal_value_of_another_type_is_saved(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    # 1 == 1.0 == True in Python, but not in the stored JSON: the change is written.
    key = await saved(store, config, clock, flag=1, ratio=2)
    s = await load(store, key, config, clock)
    s["flag"] = True
    s["ratio"] = 2.0
    await s.save(store)
    assert store.rows[stored_id(key)].data == '{"flag":true,"ratio":2.0}'


async def test_save_after_the_row_was_flushed_recreates_it_with_its_own_data(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, user="alice", cart=[])
    flusher = await load(store, key, config, clock)
    other = await load(store, key, config, clock)
    flusher.flush()
    await flusher.save(store)
    assert stored_id(key) not in store.rows
    other["cart"].append("book")
    await other.save(store)
    assert other.session_key == key
    assert stored(store, key) == {"user": "alice", "cart": ["book"]}


async def test_save_after_the_row_was_flushed_recreates_it(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    """The part of the above that holds today: the row comes back, with this request's change."""
    key = await saved(store, config, clock, user="alice", cart=[])
    flusher = await load(store, key, config, clock)
    other = await load(store, key, config, clock)
    flusher.flush()
    await flusher.save(store)
    other["cart"].append("book")
    await other.save(store)
    assert other.session_key == key
    assert stored(store, key)["cart"] == ["book"]
    assert expires_at(store, key) == START + MAX_AGE


async def test_save_after_the_row_expired(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=1)
    s = await load(store, key, config, clock)
    clock.now += MAX_AGE
    assert await data_of(store, key) is None
    s["m"] = 2
    await s.save(store)
    assert expires_at(store, key) == START + 2 * MAX_AGE
    assert (await data_of(store, key) or {})["m"] == 2


# -- push_recent ---------------------------------------------------------------------------------


def test_push_recent_puts_the_item_first_without_duplicates(session: Session) -> None:
    for item in (1, 2, 3, 2, 4):
        session.push_recent("recent", item, keep=3)
    assert session["recent"] == [4, 2, 3]
    assert session.modified


def test_push_recent_replaces_what_is_not_a_list(session: Session) -> None:
    session["recent"] = "oops"
    session.push_recent("recent", "a", keep=5)
    assert session["recent"] == ["a"]


def test_push_recent_tells_true_from_one(session: Session) -> None:
    session.push_recent("recent", 1, keep=5)
    session.push_recent("recent", True, keep=5)
    assert session["recent"] == [True, 1]


@pytest.mark.parametrize(("item", "keep"), [([1], 5), ({"a": 1}, 5), (1, 0), (1, True)])
def test_push_recent_refuses_what_is_not_a_scalar_or_a_count(
    session: Session, item: Any, keep: Any
) -> None:
    with pytest.raises((TypeError, ValueError)):
        session.push_recent("recent", item, keep=keep)
    assert "recent" not in session


async def test_concurrent_pushes_all_count(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, recent=[0], other="kept")
    first, second = await load(store, key, config, clock), await load(store, key, config, clock)
    first.push_recent("recent", 1, keep=3)
    second.push_recent("recent", 2, keep=3)
    second.push_recent("recent", 0, keep=3)
    await first.save(store)
    await second.save(store)
    assert stored(store, key) == {"recent": [0, 2, 1], "other": "kept"}
    assert second["recent"] == [0, 2, 1], "the request reads the merged list"


async def test_a_push_after_setting_the_list_is_a_plain_write(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, recent=[1, 2])
    first, second = await load(store, key, config, clock), await load(store, key, config, clock)
    first.push_recent("recent", 3, keep=5)
    second["recent"] = []
    second.push_recent("recent", 9, keep=5)
    await first.save(store)
    await second.save(store)
    assert stored(store, key) == {"recent": [9]}


async def test_a_push_onto_a_concurrently_incremented_counter_replaces_it(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    key = await saved(store, config, clock, n=1)
    first, second = await load(store, key, config, clock), await load(store, key, config, clock)
    first.increment("n")
    second.increment("n")
    second.push_recent("n", "x", keep=2)
    await first.save(store)
    await second.save(store)
    assert stored(store, key) == {"n": ["x"]}


async def test_a_push_that_changes_nothing_is_not_saved(
    store: MemoryStore, config: SessionConfig, clock: FakeClock
) -> None:
    """The book page opened again: its book is first already, so nothing is written."""
    key = await saved(store, config, clock, recent=[3, 1, 2])
    again = await load(store, key, config, clock)
    again.push_recent("recent", 3, keep=3)
    assert again.accessed and not again.modified and not again.has_changes()
    moved = await load(store, key, config, clock)
    moved.push_recent("recent", 1, keep=3)
    assert moved.modified and moved["recent"] == [1, 3, 2]
    shorter = await load(store, key, config, clock)
    shorter.push_recent("recent", 3, keep=2)  # a shorter list is a change
    assert shorter.modified and shorter["recent"] == [3, 1]
    one = await saved(store, config, clock, recent=[1, True])
    true_first = await load(store, one, config, clock)
    true_first.push_recent("recent", True, keep=2)  # Python's True == 1, JSON's are two values
    assert true_first.modified and true_first["recent"] == [True, 1]
