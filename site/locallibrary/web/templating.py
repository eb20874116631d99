"""Rendering pages from an explicit context: nothing per visitor reaches a template unasked.

A template receives its own content and a `Frame`: what every page shows around it (the links'
root path, this page's address for the notice's form, the notice when it shows, who is signed
in, how often the counts box polls). No request, no session and no settings object reach it. So
a page kept in the page cache can hold only what its key holds, whatever a template edit does,
and no secret can be printed by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jinja2
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from locallibrary.settings import TEMPLATES_DIR
from locallibrary.web.authentication import signed_in_account
from locallibrary.web.notice import sees_notice
from locallibrary.web.static import static_url

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(),
    trim_blocks=True,
    lstrip_blocks=True,
)


class Site:
    """What every page shows that is the same for all visitors: made once, with the app, which
    hands it its routes once they are declared."""

    def __init__(self, notice: str, poll_milliseconds: int) -> None:
        self.notice = notice
        self.poll_milliseconds = poll_milliseconds
        self._routes: dict[str, Route] = {}

    def use_routes(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = {route.name: route for route in routes if isinstance(route, Route)}

    def path_for(self, name: str, params: dict[str, Any]) -> str:
        # The route by its name: the router would try every route in turn, each failing with
        # an exception, for every link of every page.
        return str(self._routes[name].url_path_for(name, **params))


class Viewer(NamedTuple):
    """The signed-in user, as the header shows them."""

    id: int
    name: str
    is_librarian: bool


# Made on every request: a named tuple, as immutable as a frozen dataclass and made faster.
class Frame(NamedTuple):
    """What a page shows around its content, as of one request."""

    site: Site
    root_path: str
    here: str  # this page's path and query: where the notice's form comes back to
    notice: str | None  # the site notice, if this visitor sees it
    viewer: Viewer | None  # who is signed in, if anyone

    @classmethod
    def of(cls, site: Site, request: Request) -> Frame:
        scope = request.scope
        query = scope["query_string"].decode("latin-1")
        # Pages answered outside the session middleware (cross-origin 403, 503) have no session.
        shown = sees_notice(site.notice, scope.get("session"))
        account = signed_in_account(request)
        return cls(
            site,
            scope.get("root_path", ""),
            scope["path"] + (f"?{query}" if query else ""),
            site.notice if shown else None,
            None if account is None else Viewer(account.id, account.name, account.is_librarian),
        )

    @property
    def poll_milliseconds(self) -> int:
        return self.site.poll_milliseconds

    def path_for(self, name: str, /, **path_params: Any) -> str:
        """`path_for` for macros that are given the frame: imported without the page's context,
        they make no reference cycle through it (which only the garbage collector frees)."""
        return self.root_path + self.site.path_for(name, path_params)


def render(template: str, frame: Frame, **context: Any) -> str:
    return environment.get_template(template).render(frame=frame, **context)


def page_response(
    template: str, frame: Frame, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return HTMLResponse(render(template, frame, **context), status_code=status_code)


@pass_context
def path_for(context: Context, name: str, /, **path_params: Any) -> str:
    """The path of a named route: links stay on whatever host and scheme the page came from."""
    frame: Frame = context["frame"]
    return frame.path_for(name, **path_params)


@pass_context
def static_url_for(context: Context, path: str, /) -> str:
    """`static_url(path)` in templates: the file's URL below the root path the page came from."""
    frame: Frame = context["frame"]
    return static_url(path, frame.root_path)


environment.globals["path_for"] = path_for
environment.globals["static_url"] = static_url_for
