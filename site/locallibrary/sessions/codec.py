"""Session data to and from JSON text: plain JSON, never pickle, with clear errors."""

from __future__ import annotations

import json
from typing import Any

# Canonical JSON: sorted keys, no spaces, no NaN. Built once: json.dumps with these options
# builds a new encoder for every call, and sessions encode on every request.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_DECODER = json.JSONDecoder()

# The JSON values that cannot change in place (bool is an int): only a list or dict can.
SCALARS = (str, int, float, type(None))


class SessionError(Exception):
    """Base class of the session framework's errors."""


class SessionDataError(SessionError, TypeError):
    """A value put in the session cannot be stored as JSON."""


class SessionTooLarge(SessionError, ValueError):
    """The session's serialized size exceeds the configured cap; nothing was written."""


def encode_value(key: str, value: Any) -> str:
    """One value as canonical JSON (sorted keys), naming the session key when it cannot be."""
    try:
        text = _ENCODER.encode(value)
        text.encode("utf-8")  # a lone surrogate is valid to the JSON encoder, not to UTF-8
    except (TypeError, ValueError) as error:  # UnicodeEncodeError is a ValueError
        raise SessionDataError(f"session[{key!r}] cannot be stored as JSON: {error}") from None
    return text


def encode(data: dict[str, Any], max_bytes: int) -> str:
    """The whole session as JSON text, or SessionTooLarge when it is over `max_bytes` (UTF-8)."""
    try:
        text = _ENCODER.encode(data)
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError):
        for key, value in data.items():
            encode_value(key, value)  # raises, naming the key that json.dumps did not
        raise
    if size > max_bytes:
        raise SessionTooLarge(
            f"the session would be {size} bytes, over the limit of {max_bytes} bytes "
            "(SESSION_MAX_BYTES); it was not saved"
        )
    return text


def decode(text: str) -> dict[str, Any]:
    """Stored JSON back to a dict; anything unreadable reads as an empty session."""
    try:
        data = _DECODER.decode(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
