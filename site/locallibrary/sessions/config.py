"""How sessions behave: the cookie's name and attributes, lifetimes, size cap, save policy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# A cookie's name is an HTTP token (RFC 6265, 4.1.1); its path and domain any printable ASCII
# but ';'.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_ATTRIBUTE_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")


@dataclass(frozen=True)
class SessionConfig:
    cookie_name: str = "sessionid"
    max_age: int = 14 * 24 * 3600
    """Seconds an anonymous session lives after its last save, unless `set_expiry` says otherwise."""
    idle_timeout: int = 14 * 24 * 3600
    """Seconds a signed-in session lives after it was last seen."""
    absolute_lifetime: int = 30 * 24 * 3600
    """Seconds a signed-in session lives after signing in, however busy; then sign in again."""
    touch_interval: int = 300
    """A signed-in session seen again this long after it was last seen is written, even if
    unchanged, to renew its expiry and its "last seen"; sooner, an unchanged one is not."""
    secure: bool = False
    """Always mark the cookie Secure; it is marked anyway when the request came over HTTPS."""
    save_every_request: bool = False
    max_bytes: int = 64 * 1024
    same_site: Literal["lax", "strict", "none"] = "lax"
    path: str = "/"
    domain: str | None = None

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.cookie_name):
            raise ValueError(
                f"the session cookie's name is not a cookie name: {self.cookie_name!r}"
            )
        for attribute in ("path", "domain"):
            value = getattr(self, attribute) or ""
            if not _ATTRIBUTE_VALUE.fullmatch(value):
                raise ValueError(f"the session cookie's {attribute} cannot be sent: {value!r}")
