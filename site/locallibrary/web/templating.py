"""Jinja2 templates with the context every page needs (settings, the notice, static URLs)."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from locallibrary.catalog.visitor import sees_notice
from locallibrary.settings import TEMPLATES_DIR
from locallibrary.web.static import static_url

MAX_CACHED_PATHS = 4096


def _site_context(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    # Pages answered outside the session middleware (cross-origin 403, 503) have no session.
    session = request.scope.get("session")
    return {
        "settings": settings,
        "show_notice": sees_notice(settings.notice, session),
    }


@pass_context
def path_for(context: Context, name: str, /, **path_params: Any) -> str:
    """The path of a named route: links stay on whatever host and scheme the page came from."""
    request: Request = context["request"]
    # Finding a route walks the whole routing table; pages link to the same few many times.
    paths: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = request.app.state.paths
    key = (name, tuple(sorted(path_params.items())))
    path = paths.get(key)
    if path is None:
        if len(paths) >= MAX_CACHED_PATHS:
            paths.clear()
        # The app's router, not the scope's: pages answered before the router (the cross-origin
        # 403, the 503) have no router in their scope.
        path = paths[key] = str(request.app.url_path_for(name, **path_params))
    return str(request.scope.get("root_path", "")) + path


@pass_context
def static_url_for(context: Context, path: str, /) -> str:
    """`static_url(path)` in templates: the file's URL below the root path the page came from."""
    request: Request = context["request"]
    return static_url(path, str(request.scope.get("root_path", "")))


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_site_context])
templates.env.globals["path_for"] = path_for
templates.env.globals["static_url"] = static_url_for
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
