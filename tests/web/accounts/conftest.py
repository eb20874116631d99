"""The accounts' tests: the site with a mail outbox of its own, in a directory the test reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.access import librarians_only
from locallibrary.web.app import create_app


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def settings(database_url: str, outbox: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        counts_poll_seconds=2.0,
        mail_url=f"file:{outbox}",
    )


async def staff_page(request: Request) -> Response:
    return PlainTextResponse("for staff")


@pytest.fixture
def staff_client(settings: Settings) -> Iterator[TestClient]:
    """The site with one page for librarians only (the loans and catalog pages will be such)."""
    app = create_app(settings)
    app.router.routes.append(Route("/staff-only", librarians_only(staff_page)))
    with TestClient(app, base_url="http://testserver") as client:
        yield client
