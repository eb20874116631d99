"""What an htmx request asks for, read from the headers htmx sends."""

from __future__ import annotations

from starlette.requests import Request

# Every header that decides between a fragment and a full page; responses name them in Vary.
FRAGMENT_VARY = "HX-Request, HX-Target, HX-History-Restore-Request"


def wants_fragment(request: Request, target_id: str) -> bool:
    """True when htmx asks to swap only the element `target_id`, not for a whole page.

    Boosted navigation and history restores target the body and get the full page.
    """
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-target") == target_id
        and headers.get("hx-history-restore-request") != "true"
    )
