"""`describe_agent`: a User-Agent header as a person would say it, short whatever it holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locallibrary.sessions.agent import MAX_LENGTH, describe_agent

AGENTS = {
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0": "Firefox on Linux",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36": "Chrome on Android",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iPhone",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on Windows",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15": "Safari on macOS",
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/131.0 Mobile/15E148 Safari/604.1": "Chrome on iPad",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0": "Opera on Windows",
    "curl/8.5.0": "Unknown browser",
    "": "Unknown browser",
    "Mozilla/5.0 (X11; Linux x86_64)": "Unknown browser on Linux",
}


@pytest.mark.parametrize(("user_agent", "described"), AGENTS.items())
def test_well_known_browsers_are_named(user_agent: str, described: str) -> None:
    assert describe_agent(user_agent) == described


@given(st.text() | st.text(min_size=1000, max_size=20_000))
def test_any_header_gives_a_short_non_empty_answer(user_agent: str) -> None:
    described = describe_agent(user_agent)
    assert 0 < len(described) <= MAX_LENGTH


def test_nothing_of_the_header_is_echoed() -> None:
    assert describe_agent("<script>Firefox/1 " + "x" * 500) == "Firefox"
