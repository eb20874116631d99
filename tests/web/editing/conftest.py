"""The editing tests: the site on a fresh demo catalog, with a librarian and a patron."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.accounts.helpers import ANN, add_account
from tests.web.editing.helpers import as_librarian


@pytest.fixture
def librarian(client: TestClient, database_url: str) -> TestClient:
    """The test client, signed in as Libby, a librarian."""
    return as_librarian(client, database_url)


@pytest.fixture
def patron_id(database_url: str) -> int:
    return add_account(database_url, ANN)
