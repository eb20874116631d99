"""A browser's User-Agent header, told as a person would: "Firefox on Linux".

For a user's list of sessions, so that they can tell which is which. Only a few well-known
browsers and systems are named; anything else is "Unknown browser". The answer is one of the
names below, so it is short whatever the header holds, and no part of the header is echoed.
"""

from __future__ import annotations

MAX_LENGTH = 100

# First match wins: each browser's header also names the engines it descends from (Edge says
# Chrome and Safari, Chrome says Safari), and Android's says Linux.
BROWSERS = (
    (("Edg/", "Edge/", "EdgA/", "EdgiOS/"), "Edge"),
    (("OPR/", "Opera"), "Opera"),
    (("SamsungBrowser/",), "Samsung Internet"),
    (("Firefox/", "FxiOS/"), "Firefox"),
    (("Chrome/", "CriOS/", "Chromium/"), "Chrome"),
    (("Safari/",), "Safari"),
)
SYSTEMS = (
    (("iPhone",), "iPhone"),
    (("iPad",), "iPad"),
    (("Android",), "Android"),
    (("Windows",), "Windows"),
    (("CrOS",), "ChromeOS"),
    (("Macintosh", "Mac OS X"), "macOS"),
    (("Linux", "X11"), "Linux"),
)


def describe_agent(user_agent: str) -> str:
    """ "Chrome on Android", "Safari", "Unknown browser on Windows", "Unknown browser"; never
    empty, at most MAX_LENGTH characters."""
    browser = _first(BROWSERS, user_agent)
    system = _first(SYSTEMS, user_agent)
    described = f"{browser or 'Unknown browser'}{f' on {system}' if system else ''}"
    return described[:MAX_LENGTH]


def _first(names: tuple[tuple[tuple[str, ...], str], ...], user_agent: str) -> str | None:
    for marks, name in names:
        if any(mark in user_agent for mark in marks):
            return name
    return None
