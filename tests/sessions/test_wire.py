"""What a session puts on the wire: its key, its Set-Cookie header, its deferred token."""

from __future__ import annotations

import collections
from email.utils import parsedate_to_datetime

import pytest
from itsdangerous import Signer
from itsdangerous.encoding import base64_encode

from locallibrary.sessions import SessionConfig
from locallibrary.sessions import keys as session_keys
from locallibrary.sessions.cookies import session_cookies, set_cookie_header
from locallibrary.sessions.deferred import SALT, DeferredSessions
from locallibrary.sessions.keys import ALPHABET, KEY_LENGTH, is_well_formed, new_session_key

KEY = "k" * KEY_LENGTH


def test_every_letter_of_a_key_is_equally_likely(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each letter stands for exactly 7 of the 256 byte values; the 4 others are dropped."""
    letter_of: dict[int, str | None] = {}
    for byte in range(256):
        draws: list[int] = []

        def urandom(n: int, byte: int = byte, draws: list[int] = draws) -> bytes:
            draws.append(n)  # the first draw is all `byte`; any later one, all zeros
            return bytes([byte if len(draws) == 1 else 0]) * n

        monkeypatch.setattr(session_keys.os, "urandom", urandom)
        key = new_session_key()
        letter_of[byte] = key[0] if len(draws) == 1 else None  # a second draw: `byte` dropped
    assert [byte for byte, letter in letter_of.items() if letter is None] == [252, 253, 254, 255]
    assert collections.Counter(letter for letter in letter_of.values() if letter) == {
        letter: 7 for letter in ALPHABET
    }


def test_keys_are_well_formed_and_do_not_repeat() -> None:
    drawn = [new_session_key() for _ in range(1000)]
    assert all(is_well_formed(key) for key in drawn)
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("theme=dark", (None, None)),
        (f"sessionid={KEY}", (KEY, None)),
        (f"sessionid_new=token; theme=dark; sessionid={KEY}", (KEY, "token")),
        # The first well-formed key wins; the companion's first value, whatever it holds.
        (f"sessionid=junk;sessionid={KEY}; sessionid={'b' * KEY_LENGTH}", (KEY, None)),
        ("sessionid_new=first; sessionid_new=second; sessionid=short", (None, "first")),
        (f"xsessionid={KEY}; sessionid_newer=token", (None, None)),
    ],
)
def test_the_session_key_and_its_companion_are_read_from_the_cookies(
    header: str, expected: tuple[str | None, str | None]
) -> None:
    assert session_cookies(header, "sessionid", "sessionid_new") == expected


def test_the_cookie_header_carries_every_attribute() -> None:
    config = SessionConfig(cookie_name="visit", domain="example.org", secure=True)
    header = set_cookie_header(config, KEY, max_age=600, secure=False, now=1_800_000_000)
    name_value, *attributes = header.split("; ")
    assert name_value == f"visit={KEY}"
    assert attributes == [
        "Domain=example.org",
        "expires=Fri, 15 Jan 2027 08:10:00 GMT",
        "HttpOnly",
        "Max-Age=600",
        "Path=/",
        "SameSite=Lax",
        "Secure",
    ]
    assert parsedate_to_datetime(attributes[1].removeprefix("expires=")).timestamp() == (
        1_800_000_000 + 600
    )


@pytest.mark.parametrize("value", ["a b", 'a"b', "a;b", "a,b", "a\\b", "é"])
def test_a_value_that_would_need_quoting_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a cookie value"):
        set_cookie_header(SessionConfig(), value, max_age=None, secure=False, now=0)


@pytest.mark.parametrize(
    "setting",
    [
        {"cookie_name": "my session"},
        {"cookie_name": "a;b"},
        {"cookie_name": ""},
        {"path": "/a;b"},
        {"domain": "example.org\n"},
    ],
)
def test_a_cookie_that_could_not_be_sent_is_refused_at_once(setting: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="session cookie"):
        SessionConfig(**setting)  # type: ignore[arg-type]


def test_a_deferred_token_gives_back_its_data_for_its_key_until_it_expires() -> None:
    deferred = DeferredSessions("secret")
    token = deferred.sign(KEY, '{"note":"a:b é"}', expires_at=2000)
    assert deferred.unsign(token, KEY, now=1999) == {"note": "a:b é"}
    assert deferred.unsign(token, "j" * KEY_LENGTH, now=1999) is None
    assert deferred.unsign(token, KEY, now=2000) is None
    assert DeferredSessions("another secret").unsign(token, KEY, now=1999) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not base64!",
        base64_encode(b""),
        base64_encode(b"no fields"),
        base64_encode(f"{KEY}:soon:{{}}"),
        base64_encode(b"\xff"),
    ],
)
def test_a_token_signed_with_our_key_but_not_in_our_format_is_ignored(payload: bytes) -> None:
    """As from an older version of the site, signed with the same secret."""
    signer = Signer(Signer("secret", salt=SALT).derive_key(), key_derivation="none")
    token = signer.sign(payload).decode()
    assert DeferredSessions("secret").unsign(token, KEY, now=0) is None


def test_the_largest_deferred_session_fits_in_a_cookie() -> None:
    deferred = DeferredSessions("secret")
    text = '{"a":"' + '\\"' * ((deferred.max_bytes - 8) // 2) + '"}'
    assert deferred.fits(text)
    assert len(deferred.sign(KEY, text, expires_at=2_000_000_000)) < 4000


def test_a_key_given_as_a_function_is_asked_for_once_on_first_use() -> None:
    """As the site gives it: a key stored in the database is known only after start-up."""
    asked: list[str] = []

    def secret_key() -> str:
        asked.append("asked")
        return "secret"

    deferred = DeferredSessions(secret_key)
    assert asked == [], "not when the middleware is declared"
    token = deferred.sign(KEY, "{}", expires_at=2000)
    assert deferred.unsign(token, KEY, now=1999) == {}
    assert asked == ["asked"]
    assert DeferredSessions("secret").unsign(token, KEY, now=1999) == {}, "the same signature"
