"""The garbage collector, set for a server that has finished starting up.

CPython's cyclic collector looks at the youngest objects after every 700 net allocations, and
now and then at every object in the process. A page allocates hundreds of short-lived objects
(and a session write more), most of them freed at once by reference counting; yet under load
the collector ran hundreds of times a second, and its full passes walked everything the process
holds for good: modules, compiled templates, SQLAlchemy's metadata. And the objects of the
requests in flight at each pass were kept for the older, rarer passes (docs/performance.md
has the measurements).

So while the site serves, what is alive after start-up is frozen (`gc.freeze()`: never looked
at again) and the youngest objects are looked at every 50,000 allocations (a few megabytes).
Both are undone when the site stops, so that a process that starts the site more than once
(the tests) keeps collecting what it leaves behind.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000


@contextmanager
def tuned_for_serving() -> Iterator[None]:
    threshold = gc.get_threshold()
    # No full collection first: start-up leaves little garbage to freeze with the rest, and the
    # collection would cost every start (the tests start the site hundreds of times).
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
