"""The garbage collector is set for serving while the site runs, and set back when it stops."""

from __future__ import annotations

import gc

from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from locallibrary.web.heap import YOUNG_THRESHOLD


def test_the_heap_is_frozen_while_the_site_runs_and_thawed_after(settings: Settings) -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(settings)) as client:
        assert client.get("/catalog/").status_code == 200
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
