"""The session object: a dict-like view of one browser's data, with Django's API.

Reads and writes happen in memory; the middleware loads the data before the view runs and calls
`save()` once, when the response starts. What is saved is what changed: each top-level key whose
JSON differs from what was loaded (so changes inside nested lists and dicts are seen without
`modified = True`), each deleted key, and each `increment()` and `push_recent()` as the operation
it is. The store merges those into the row as it is at save time, so concurrent requests of one
browser that touch different keys, increment the same counter or push to the same list all keep
their changes.

A session may belong to a user: `sign_in()` gives it a new key and an owner, `sign_out()` ends
it. The owner and the moment of signing in live in the row's own columns, not in the data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any, TypeGuard

from starlette.requests import HTTPConnection

from locallibrary.sessions.agent import describe_agent
from locallibrary.sessions.codec import SCALARS, encode, encode_value
from locallibrary.sessions.config import SessionConfig
from locallibrary.sessions.deferred import DeferredSessions
from locallibrary.sessions.keys import new_session_key, stored_id
from locallibrary.sessions.stores.base import Owner, SessionStore

EXPIRY_KEY = "_session_expiry"
TEST_COOKIE_KEY = "testcookie"
TEST_COOKIE_VALUE = "worked"


class Session(MutableMapping[str, Any]):
    _loaded: dict[str, Any]  # the data as loaded or last saved (see _remember_loaded)
    _loaded_texts: dict[str, str]  # the JSON text of its lists and dicts, taken then

    def __init__(
        self,
        key: str | None,
        data: dict[str, Any],
        config: SessionConfig,
        clock: Callable[[], float] = time.time,
        *,
        deferred: bool = False,
        user_id: int | None = None,
        signed_in_at: int | None = None,
        owner: Mapping[str, Any] | None = None,
    ) -> None:
        """`user_id`, `signed_in_at` and `owner` are the stored row's (None for an anonymous
        visitor; `owner` also when the store read no user with it: `StoredSession.owner`)."""
        self._key = key
        self.deferred = deferred
        """True while the data lives only in the signed companion cookie, not in the store."""
        self.deferred_token: str | None = None
        """After `save`: the companion cookie's new value, if the session stays deferred."""
        self._data = data
        self._remember_loaded()
        self._user_id = user_id
        self._signed_in_at = signed_in_at
        self._owner = owner
        self._increments: dict[str, int] = {}
        self._pushes: dict[str, list[tuple[Any, int]]] = {}
        """Per key, this request's push_recent() calls (item, keep), in order, to replay."""
        self._overwritten: set[str] = set()
        """Keys assigned or deleted in this request: an increment of them is a plain write."""
        self._stale_keys: set[str] = set()
        self.config = config
        self.clock = clock
        self.accessed = False
        self.modified = False

    # -- the dict API -------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        encode_value(key, value)  # fail here, at the line that stored it, not at save time
        self.accessed = self.modified = True
        self._data[key] = value
        self._forget_operations(key)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        del self._data[key]
        self._forget_operations(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(list(self._data))

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __repr__(self) -> str:
        return f"<Session {self._key or '(new)'} {self._data!r}>"

    def clear(self) -> None:
        self.accessed = self.modified = True
        self._overwritten.update(self._data)
        self._data.clear()
        self._increments.clear()
        self._pushes.clear()

    def _forget_operations(self, key: str) -> None:
        """`key` is written whole: what was done to it before in this request is in its value."""
        self._increments.pop(key, None)
        self._pushes.pop(key, None)
        self._overwritten.add(key)

    def increment(self, key: str, by: int = 1) -> int:
        """Add `by` to the integer at `key` (0 if missing) and return the new value.

        Saved as an increment, not as a value: concurrent increments of one session all count.
        """
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        if not _is_int(by):
            raise TypeError(f"increment by an integer, not {type(by).__name__}")
        current = self.get(key, 0)
        if not _is_int(current):
            raise TypeError(f"session[{key!r}] is {type(current).__name__}, not an integer")
        self.accessed = self.modified = True
        self._data[key] = current + by
        if key not in self._overwritten:
            self._increments[key] = self._increments.get(key, 0) + by
        return current + by

    def push_recent(self, key: str, item: Any, keep: int) -> None:
        """Put `item` (a JSON scalar) first in the list at `key`, without duplicates, and keep
        at most `keep` items; what is at `key` if not a list is replaced.

        Saved as the operation, not as the list: concurrent pushes of one session all count. A
        push that changes nothing (`item` is first already) is not saved: a page opened again
        writes nothing.
        """
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        if not isinstance(item, SCALARS):
            raise TypeError(f"push a string, number, boolean or None, not {type(item).__name__}")
        encode_value(key, item)  # NaN and lone surrogates fail here, not at save time
        if not _is_int(keep) or keep < 1:
            raise ValueError(f"keep at least one item, not {keep!r}")
        current = self._data.get(key)
        pushed = _pushed(current, item, keep)
        if _same_items(pushed, current):
            self.accessed = True
            return
        self.accessed = self.modified = True
        self._data[key] = pushed
        self._increments.pop(key, None)  # a list now: the stored counter is replaced
        if key not in self._overwritten:
            self._pushes.setdefault(key, []).append((item, keep))

    # -- Django's session API -------------------------------------------------------------------

    @property
    def session_key(self) -> str | None:
        """The session's key: None until the session has been saved (to the store or deferred)."""
        return self._key

    @property
    def is_empty(self) -> bool:
        return not self._data and self._key is None

    @property
    def user_id(self) -> int | None:
        """The signed-in user's id, None for an anonymous visitor."""
        self.accessed = True  # a page that shows who is signed in depends on the cookie
        return self._user_id

    @property
    def owner(self) -> Mapping[str, Any] | None:
        """The signed-in user's row as the store read it with the session, or None."""
        self.accessed = True
        return self._owner

    @property
    def signed_in_at(self) -> int | None:
        """When the user signed in (Unix seconds), None for an anonymous visitor."""
        self.accessed = True
        return self._signed_in_at

    @property
    def public_id(self) -> str | None:
        """The id the store keeps this session under (the key's SHA-256), once it has a key:
        what `SessionSummary.id` is, to tell this browser in a list of the user's sessions."""
        self.accessed = True
        return None if self._key is None else stored_id(self._key)

    def sign_in(self, user_id: int) -> None:
        """Make this the session of `user_id`, signed in now, under a new key (no fixation: the
        old key's row goes at save), keeping all the data. Stored at once, never deferred."""
        if not _is_int(user_id):
            raise TypeError(f"a user id is an integer, not {type(user_id).__name__}")
        self.cycle_key()
        self._user_id, self._signed_in_at = user_id, int(self.clock())
        self._owner = None  # read with the session on the next request

    def sign_out(self) -> None:
        """End the session: its data and owner go, and its row at save, so that the old cookie
        brings back an anonymous visitor."""
        self.flush()

    def flush(self) -> None:
        """Delete the data and the stored session; a new key is issued if data is added again."""
        self.clear()
        if self._key is not None:
            self._stale_keys.add(self._key)
        self._key = None
        self._loaded, self._loaded_texts = {}, {}
        self.deferred = False
        self._user_id = self._signed_in_at = self._owner = None

    def cycle_key(self) -> None:
        """Keep the data and the owner under a new key; the stored session under the old key
        goes away."""
        self.accessed = self.modified = True
        if self._key is not None:
            self._stale_keys.add(self._key)
        self._key = None
        self._loaded, self._loaded_texts = {}, {}
        self._increments.clear()
        self._pushes.clear()
        self.deferred = False

    def set_expiry(self, value: int | float | dt.datetime | dt.timedelta | None) -> None:
        """Seconds of inactivity, a moment, a span from now, 0 for browser close, None to reset."""
        if value is None:
            self.pop(EXPIRY_KEY, None)
            self.modified = True
            return
        if isinstance(value, dt.timedelta):
            value = dt.datetime.fromtimestamp(self.clock(), dt.UTC) + value
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError("set_expiry needs an aware datetime (with a time zone)")
            self[EXPIRY_KEY] = value.isoformat()
        else:
            self[EXPIRY_KEY] = int(value)

    def _expiry_moment(self) -> dt.datetime | None:
        expiry = self._data.get(EXPIRY_KEY)
        if isinstance(expiry, str):
            try:
                moment = dt.datetime.fromisoformat(expiry)
            except ValueError:
                return None
            return moment if moment.tzinfo is not None else None
        return None

    def get_expiry_age(self) -> int:
        """Seconds from now until the session expires."""
        if self._signed_in_at is not None:
            return max(0, self._expires_at() - int(self.clock()))
        return self._anonymous_age()

    def _anonymous_age(self) -> int:
        moment = self._expiry_moment()
        if moment is not None:
            return max(0, int(moment.timestamp() - self.clock()))
        expiry = self._data.get(EXPIRY_KEY)
        if _is_int(expiry) and expiry > 0:
            return expiry
        # Unset, 0 (browser close: the row still expires after max_age) or unreadable.
        return self.config.max_age

    def get_expiry_date(self) -> dt.datetime:
        moment = self._expiry_moment()
        if moment is not None and self._signed_in_at is None:
            return moment
        return dt.datetime.fromtimestamp(self.clock() + self.get_expiry_age(), dt.UTC)

    def _expires_at(self) -> int:
        """The stored expiry, in Unix seconds.

        A signed-in session's is `idle_timeout` from now, but never past `absolute_lifetime`
        after signing in, nor past what `set_expiry` chose, if it chose a moment or an age.
        """
        if self._signed_in_at is None:
            return self._anonymous_expires_at()
        config, now = self.config, int(self.clock())
        limit = min(now + config.idle_timeout, self._signed_in_at + config.absolute_lifetime)
        expiry = self._data.get(EXPIRY_KEY)
        chosen = self._expiry_moment() is not None or (_is_int(expiry) and expiry > 0)
        return min(limit, self._anonymous_expires_at()) if chosen else limit

    def _anonymous_expires_at(self) -> int:
        moment = self._expiry_moment()
        if moment is not None:
            return int(moment.timestamp())
        return int(self.clock()) + self._anonymous_age()

    def get_expire_at_browser_close(self) -> bool:
        return self._data.get(EXPIRY_KEY) == 0

    def set_test_cookie(self) -> None:
        self[TEST_COOKIE_KEY] = TEST_COOKIE_VALUE

    def test_cookie_worked(self) -> bool:
        return bool(self.get(TEST_COOKIE_KEY) == TEST_COOKIE_VALUE)

    def delete_test_cookie(self) -> None:
        self.pop(TEST_COOKIE_KEY, None)

    # -- saving ----------------------------------------------------------------------------------

    def has_changes(self) -> bool:
        """Whether saving would change the stored session (nested changes included)."""
        if self._stale_keys or self._increments or self._pushes:
            return True
        if self._data.keys() != self._loaded.keys():
            return True
        return any(encode_value(k, self._data[k]) != text for k, text in self._loaded_texts.items())

    async def save(
        self, store: SessionStore, deferred: DeferredSessions | None = None, user_agent: str = ""
    ) -> None:
        """Write this request's changes; an emptied anonymous session is deleted. Called once
        per request.

        With `deferred`, a new anonymous session that fits in a cookie is not stored: it gets
        its key and `deferred_token`, the companion cookie's value. A deferred session that
        comes back is stored under its key. A new row is described by `user_agent` (the
        request's header). Raises SessionDataError or SessionTooLarge before anything is
        written.
        """
        self.deferred_token = None
        if not self._data and self._user_id is None:
            if self._key is not None and not self.deferred:
                await store.delete(self._key)
            self._key = None
            self.deferred = False
            await self._delete_stale_keys(store)
            return
        text = encode(self._data, self.config.max_bytes)  # fails before anything is written
        expires_at = self._expires_at()
        if self._key is None:
            if deferred is not None and self._user_id is None and deferred.fits(text):
                self._key, self.deferred = new_session_key(), True
                self.deferred_token = deferred.sign(self._key, text, expires_at)
            else:
                owner = Owner(self._user_id, self._signed_in_at, describe_agent(user_agent))
                self._key = new_session_key()
                while not await store.create(self._key, text, expires_at, owner):
                    self._key = new_session_key()
        elif self.deferred:
            # The browser sent the key back: it keeps cookies, so the session is stored now.
            # A concurrent request may have stored it first; then this one merges into it.
            owner = Owner(agent=describe_agent(user_agent))
            if not await store.create(self._key, text, expires_at, owner):
                await store.update(self._key, self._merge_into, expires_at)
            self.deferred = False
        else:
            try:
                await store.update(self._key, self._merge_into, expires_at)
            except _Ended:
                self._end()
                return
        await self._delete_stale_keys(store)
        self._remember_loaded()
        self._increments.clear()
        self._pushes.clear()
        self._overwritten.clear()

    def _end(self) -> None:
        """The signed-in row went away while this request ran (signed out, revoked, expired):
        nothing was written, and this browser is now an anonymous visitor with no session."""
        self._data.clear()
        self._key = None
        self._user_id = self._signed_in_at = self._owner = None
        self._remember_loaded()
        self._increments.clear()
        self._pushes.clear()
        self._overwritten.clear()

    def _remember_loaded(self) -> None:
        """Keep the data as loaded (or saved), to tell later what this request changed.

        A string or number cannot change in place, only by being set again: it is kept as it
        is. A list or dict can: its JSON text is taken now, to compare with at save time.
        """
        self._loaded = dict(self._data)
        self._loaded_texts = {
            k: encode_value(k, v) for k, v in self._data.items() if not isinstance(v, SCALARS)
        }

    def _loaded_text(self, key: str) -> str | None:
        """The JSON text of the value loaded under `key`, None if there was none."""
        if key not in self._loaded:
            return None
        text = self._loaded_texts.get(key)
        return text if text is not None else encode_value(key, self._loaded[key])

    async def _delete_stale_keys(self, store: SessionStore) -> None:
        """Remove the rows left behind by flush() and cycle_key(), once the new state is safe."""
        for stale in self._stale_keys:
            await store.delete(stale)
        self._stale_keys.clear()

    def _merge_into(self, stored: dict[str, Any] | None) -> str:
        """This request's changes applied to the stored data, as JSON text.

        When the row went away meanwhile (expired, or flushed by a concurrent request), an
        anonymous session is stored whole again: losing part of it would be worse than keeping
        it. A signed-in one is not: its row went because it was signed out or revoked, and
        making it again would sign the browser back in.
        """
        if stored is None and self._user_id is not None:
            raise _Ended
        if stored is None:
            merged = dict(self._data)
        else:
            merged = dict(stored)
            for key in self._loaded.keys() - self._data.keys():
                merged.pop(key, None)
            for key, value in self._data.items():
                by, pushes, base = self._increments.get(key), self._pushes.get(key), merged.get(key)
                if by is not None and _is_int(base):
                    merged[key] = base + by
                elif pushes is not None:
                    for item, keep in pushes:
                        base = _pushed(base, item, keep)
                    merged[key] = base
                elif by is not None or self._loaded_text(key) != encode_value(key, value):
                    merged[key] = value
        text = encode(merged, self.config.max_bytes)
        # What the next save compares with, and what this request now reads, is the merged data.
        self._data = merged
        return text


class _Ended(Exception):
    """Raised by the merge of a signed-in session whose row is gone: nothing is written."""


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _pushed(items: Any, item: Any, keep: int) -> list[Any]:
    """`item` first, then what `items` held but `item` (if a list), `keep` at most.

    JSON's true is not its 1, though Python's True == 1: values of another type are kept.
    """
    if not isinstance(items, list):
        return [item]
    others = [v for v in items if not (v == item and type(v) is type(item))]
    return [item, *others][:keep]


def _same_items(items: list[Any], other: Any) -> bool:
    """Whether `other` is a list of the same items, each of the same JSON type."""
    return (
        isinstance(other, list)
        and len(other) == len(items)
        and all(a == b and type(a) is type(b) for a, b in zip(items, other, strict=True))
    )


def session_of(connection: HTTPConnection) -> Session:
    """The request's session, as the `Session` it is (Starlette types `request.session` as a
    plain dict, which has no `increment`)."""
    session = connection.scope["session"]
    assert isinstance(session, Session), "the SessionMiddleware is not installed"
    return session
