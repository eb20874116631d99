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
from starlette.types import ASGIApp, Receive, Scope, Send

from locallibrary.settings import NODE_MODULES_DIR, STATIC_DIR

ONE_YEAR = 365 * 24 * 3600
PREFIX = "/static/"
ROOTS = {
    "/static/vendor/htmx/": NODE_MODULES_DIR / "htmx.org" / "dist",
    "/static/": STATIC_DIR,
}


class StaticFiles:
    """Pure ASGI middleware: a request under `/static/` (below the root path the site is served
    at, if any) is answered from servestatic's files in memory; the rest go on to `app`.

    A `/static/` URL that names no file goes on to `app` too, which answers with the site's 404.
    In debug the files are looked up on every request (edits show at once) and not cached.
    """

    def __init__(self, app: ASGIApp, *, debug: bool) -> None:
        self.app = app
        self.files = ServeStaticASGI(
            app,
            root=STATIC_DIR,
            prefix="static/",
            autorefresh=debug,
            max_age=0 if debug else ONE_YEAR,
            immutable_file_test=lambda path, url: not debug,
        )
        self.files.add_files(ROOTS["/static/vendor/htmx/"], prefix="static/vendor/htmx/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # servestatic knows the files by their path below the root path.
            path = scope["path"].removeprefix(scope.get("root_path", ""))
            if path.startswith(PREFIX):
                await self.files({**scope, "path": path}, receive, send)
                return
        await self.app(scope, receive, send)


def static_url(path: str, root_path: str = "") -> str:
    """The URL of a static file, e.g. `css/site.css` or `vendor/htmx/htmx.min.js`, for a site
    served at `root_path`."""
    return f"{root_path}{PREFIX}{path}?v={_version(path)}"


@cache
def _version(path: str) -> str:
    for prefix, root in ROOTS.items():
        relative = f"/static/{path}".removeprefix(prefix)
        if f"/static/{path}".startswith(prefix) and (root / relative).is_file():
            return str(hash_path(Path(root / relative)))
    raise FileNotFoundError(f"no static file {path!r}")
