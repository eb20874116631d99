"""Browser-test fixtures: Debian's headless Chromium, driven by Playwright, on the real server.

The browser is the system's `chromium`; Playwright never downloads one. Without Chromium or the
`playwright` package the browser tests skip, or fail under LOCALLIBRARY_TEST_REQUIRE_ALL=1.
Browser tests run on SQLite only: they test the pages' behaviour, not the database.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import DatabaseFactory, skip_or_fail
from tests.live_server import live_server

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Error,
        Page,
        Playwright,
    )

ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the suite runs as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Auto-waiting assertions and actions give up after this long (ms).
TIMEOUT_MS = 10_000

REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives the browser: give it the `browser` marker."""
    folder = Path(__file__).parent
    for item in items:
        if folder in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so that fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(REPORTS, {})
    return any(report.failed for report in reports.values())


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the `playwright` package is not installed (pip install playwright)")
        raise  # unreachable: skip_or_fail raises
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        skip_or_fail("Chromium not found; install Debian's `chromium` (no browser is downloaded)")
    assert executable is not None
    # Playwright's launch gives the browser a fresh, temporary user-data-dir.
    chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def database_url(databases_factory: DatabaseFactory) -> str:
    """A fresh copy of the demo catalog, on SQLite only: browser tests test pages, not databases.

    Overrides the suite's fixture (which runs each test on SQLite and on PostgreSQL). The database
    is made in a worker thread because Playwright's sync API keeps an asyncio loop running in the
    main thread, and making the first (template) database calls `asyncio.run`.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(databases_factory.new, "sqlite").result()


@pytest.fixture
def live_url(database_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The real server (uvicorn) on a fresh copy of the demo catalog; its log shown on failure."""
    with live_server({"DATABASE_URL": database_url, "COUNTS_POLL_SECONDS": "1"}) as server:
        yield server.url
        if _failed(request.node):
            log = server.output()
            print(f"--- the server's log ---\n{log}")


@dataclass
class WatchedPage:
    """A page in its own browser context, with what went wrong in the JavaScript console of any
    page of that context."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Makes pages, each in a new context (`browser.new_context(**options)`).

    At teardown: a screenshot of each page into test-artifacts/ if the test failed, and a check
    that no page logged a console error or threw an uncaught error (a Content-Security-Policy
    violation is a console error).
    """
    watched: list[WatchedPage] = []

    def make(**options: Any) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(f"console error at {message.location}: {message.text}")

        def on_page_error(error: Error) -> None:
            errors.append(f"page error: {error}")

        def watch(new: Page) -> None:
            new.on("console", on_console)
            new.on("pageerror", on_page_error)

        # Every page of the context is watched: this one, and any a test opens next to it (a
        # second tab, `page.context.new_page()`) or that the site opens (a popup).
        context.on("page", watch)
        page = context.new_page()
        watched.append(WatchedPage(context, page, errors))
        return page

    yield make

    from playwright.sync_api import Error as PlaywrightError

    errors = [error for entry in watched for error in entry.errors]
    if _failed(request.node) or errors:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        for number, entry in enumerate(watched):
            suffix = f"-{number + 1}" if len(watched) > 1 else ""
            path = ARTIFACTS_DIR / f"{_safe_name(request.node.name)}{suffix}.png"
            try:
                entry.page.screenshot(path=path, full_page=True)
            except PlaywrightError as problem:  # a crashed page must not hide the test's failure
                print(f"no screenshot of {entry.page.url}: {problem}")
    for entry in watched:
        entry.context.close()
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)


@pytest.fixture
def artifacts_dir() -> Path:
    """test-artifacts/ at the project's root (git-ignored): screenshots for people to look at."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A fresh page (new context) in headless Chromium, watched for console and page errors."""
    return new_page()


@pytest.fixture(scope="package", autouse=True)
def _expect_timeout(playwright: Playwright) -> None:
    """Playwright's `expect` waits up to TIMEOUT_MS, like the actions."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
