"""The benchmark's crawler keeps its pace, stops by itself, and is killed when its row fails."""

from __future__ import annotations

import http.server
import importlib.util
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace

import pytest

from locallibrary.settings import PROJECT_ROOT
from tests.conftest import skip_or_fail


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/run.py, which is a script rather than a module of the package."""
    if shutil.which("wrk") is None:
        skip_or_fail("wrk not found; install Debian's `wrk` for the benchmark")
    spec = importlib.util.spec_from_file_location("bench_run", PROJECT_ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[SimpleNamespace]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.shutdown()
    httpd.server_close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_crawler_keeps_its_pace_and_stops_by_itself(
    bench: ModuleType, server: SimpleNamespace
) -> None:
    crawl = bench.Crawl("test", ("/catalog/books/?page={id}", "/catalog/"), ids=(1, 5))
    with bench.crawling(server, crawl, 1, None) as run:
        time.sleep(1)
    assert not alive(run.pid)
    assert run.result is not None and run.errors == 0, run.result
    # 2 connections for 1 + 2 × CRAWL_LEAD seconds, each idle 50 ms after every response (its
    # first request goes at once); unpaced, they would make thousands.
    seconds = 1 + 2 * bench.CRAWL_LEAD
    assert 2 * seconds < run.result.requests <= 2 * (seconds * 1000 / 50 + 1), run.result


def test_a_failing_row_kills_its_crawler(bench: ModuleType, server: SimpleNamespace) -> None:
    crawl = bench.Crawl("test", ("/catalog/books/?page={id}",), ids=(1, 5))
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="the row failed"):
        with bench.crawling(server, crawl, 60, None) as run:
            assert alive(run.pid)
            raise RuntimeError("the row failed")
    assert not alive(run.pid)
    assert time.monotonic() - started < 10
