"""The site notice: shown on every page until the visitor's session dismisses it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NOTICE_DISMISSED = "notice_dismissed"


def sees_notice(notice: str, session: Mapping[str, Any] | None) -> bool:
    """Whether the site notice shows: there is one, and this session has not dismissed it.

    Pages answered outside the session middleware (the 403 of a cross-origin form, the 503
    page) have no session, and show it.
    """
    return bool(notice) and not (session is not None and session.get(NOTICE_DISMISSED))
