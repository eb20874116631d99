"""Static files: served by servestatic from memory, under URLs that carry their content hash.

Every URL the templates make with `static_url()` ends in `?v=<hash of the file>`, so browsers may
keep a file for a year: a changed file has a new URL. htmx comes from the npm package, served
from `node_modules/` (its pre-compressed `.gz` is sent to browsers that accept gzip).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from servestatic import ServeStaticASGI
from servestatic.manifest_hash import hash_path
from starlette.types import ASGIApp

from locallibrary.settings import NODE_MODULES_DIR, STATIC_DIR

ONE_YEAR = 365 * 24 * 3600
ROOTS = {
    "/static/vendor/htmx/": NODE_MODULES_DIR / "htmx.org" / "dist",
    "/static/": STATIC_DIR,
}


def serve_static(app: ASGIApp, *, debug: bool) -> ServeStaticASGI:
    """Wrap `app`: requests for known static files are answered here, the rest go to `app`.

    In debug the files are looked up on every request (edits show at once) and not cached.
    """
    static = ServeStaticASGI(
        app,
        root=STATIC_DIR,
        prefix="static/",
        autorefresh=debug,
        max_age=0 if debug else ONE_YEAR,
        immutable_file_test=lambda path, url: not debug,
    )
    static.add_files(ROOTS["/static/vendor/htmx/"], prefix="static/vendor/htmx/")
    return static


def static_url(path: str) -> str:
    """The URL of a static file, e.g. `css/site.css` or `vendor/htmx/htmx.min.js`."""
    return f"/static/{path}?v={_version(path)}"


@cache
def _version(path: str) -> str:
    for prefix, root in ROOTS.items():
        relative = f"/static/{path}".removeprefix(prefix)
        if f"/static/{path}".startswith(prefix) and (root / relative).is_file():
            return hash_path(Path(root / relative))
    raise FileNotFoundError(f"no static file {path!r}")
