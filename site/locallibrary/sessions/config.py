"""How sessions behave: the cookie's name and attributes, lifetime, size cap, save policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SessionConfig:
    cookie_name: str = "sessionid"
    max_age: int = 14 * 24 * 3600
    """Seconds a session lives after its last save, unless `set_expiry` says otherwise."""
    secure: bool = False
    """Always mark the cookie Secure; it is marked anyway when the request came over HTTPS."""
    save_every_request: bool = False
    max_bytes: int = 64 * 1024
    same_site: Literal["lax", "strict", "none"] = "lax"
    path: str = "/"
    domain: str | None = None
