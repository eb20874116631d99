"""Failed sign-ins are limited per (email, client address) and per address, with counters in the
database: a styled 429 with Retry-After over the limit, and no lock-out from elsewhere."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.accounts.helpers import ANN, BOB, add_account, sign_in
from tests.html import parse, text


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings)


def client_at(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="http://testserver", client=(address, 50000))


def test_twenty_wrong_passwords_are_refused_yet_nobody_is_locked_out_from_elsewhere(
    app,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    add_account(database_url, ANN)
    add_account(database_url, BOB)
    with client_at(app, "192.0.2.1") as attacker:
        answers = [sign_in(attacker, ANN, password=f"guess-number-{n}") for n in range(20)]
        statuses = [answer.status_code for answer in answers]
        assert statuses[:5] == [200] * 5  # wrong, and said so
        assert statuses[5:] == [429] * 15
        refused = answers[-1]
        assert 0 < int(refused.headers["retry-after"]) <= 900
        assert text(parse(refused.text).css_first("h1")) == "Too many attempts"
        # Even the right password waits out the window from there.
        assert sign_in(attacker, ANN).status_code == 429
        # Another account from the same address is not locked.
        assert sign_in(attacker, BOB).status_code == 303
    with client_at(app, "198.51.100.7") as owner:
        assert sign_in(owner, ANN).status_code == 303
