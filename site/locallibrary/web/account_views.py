"""The accounts' pages: sign in and out, the user's sessions, and changing or resetting a password.

Every form posts and redirects (post/redirect/get), so each works without JavaScript; under
`hx-boost` htmx sends it and swaps the page it gets back.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from locallibrary.accounts.resets import reset_token, user_for_reset_token
from locallibrary.accounts.throttle import SignInThrottle
from locallibrary.accounts.users import (
    User,
    authenticate,
    check_password,
    set_password,
    user_by_email,
)
from locallibrary.database import Database
from locallibrary.mail import Mailer
from locallibrary.secret_key import SiteSecret
from locallibrary.sessions import SessionStore, session_of
from locallibrary.sessions.stores.base import SessionSummary
from locallibrary.web.account_forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    ResetPasswordForm,
    SignInForm,
)
from locallibrary.web.authentication import signed_in_account
from locallibrary.web.errors import error_page
from locallibrary.web.forms import local_path, see_other
from locallibrary.web.templating import Frame, Site, page_response

logger = logging.getLogger("locallibrary")

WRONG_CREDENTIALS = "That email and password do not match an account."
# "Your sessions" lists this browser and the most recently seen others, up to this many in all:
# however many times someone signs in, the page stays one screen and one bounded render.
SESSIONS_SHOWN = 50
DONE_MESSAGES = {
    "password": "Your password is changed. Every other browser you used is signed out.",
    "others": "Every other browser you used is signed out.",
    "one": "That browser is signed out.",
}


@dataclass(frozen=True)
class SessionRow:
    """One of the user's signed-in browsers, as the "Your sessions" page lists it."""

    id: str
    browser: str
    signed_in: str
    last_seen: str
    is_this_one: bool


class AccountViews:
    def __init__(
        self,
        database: Database,
        site: Site,
        sessions: SessionStore,
        throttle: SignInThrottle,
        mailer: Mailer,
        secret: SiteSecret,
        site_url: str | None,
    ) -> None:
        self.database = database
        self.site = site
        self.sessions = sessions
        self.throttle = throttle
        self.mailer = mailer
        self.secret = secret
        self.site_url = site_url

    def _page(self, request: Request, template: str, **context: Any) -> Response:
        response = page_response(template, Frame.of(self.site, request), **context)
        # A user's sessions, a form with their email: kept by no cache, the browser's included.
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- signing in and out ------------------------------------------------------------------

    async def sign_in(self, request: Request) -> Response:
        home = request.url_for("index").path
        if request.method == "GET":
            back = local_path(request.query_params.get("next"), home)
            done = request.query_params.get("done")
            return self._sign_in_page(request, SignInForm(next=back), done)
        async with request.form(max_files=0) as data:
            form = SignInForm(formdata=data)
        if not form.validate():
            return self._sign_in_page(request, form)
        email, password = form.email.data or "", form.password.data or ""
        address = client_address(request)
        wait = await self.throttle.retry_after(email, address)
        if wait is not None:
            return too_many_attempts(request, wait)
        account = await authenticate(self.database, email, password)
        if account is None:
            await self.throttle.failed(email, address)
            form.form_errors.append(WRONG_CREDENTIALS)
            return self._sign_in_page(request, form)
        await self.throttle.succeeded(email, address)
        session_of(request).sign_in(account.id)
        return see_other(local_path(form.next.data, home))

    def _sign_in_page(
        self, request: Request, form: SignInForm, done: str | None = None
    ) -> Response:
        message = "Your new password is set: sign in with it." if done == "reset" else None
        return self._page(request, "accounts/sign_in.html", form=form, message=message)

    async def sign_out(self, request: Request) -> Response:
        """Sign this browser out: its session row is deleted, so its cookie opens nothing."""
        session_of(request).sign_out()
        return see_other(request.url_for("index").path)

    # -- the user's sessions -----------------------------------------------------------------

    async def your_sessions(self, request: Request) -> Response:
        account = _account(request)
        this_one = session_of(request).public_id
        found = await self.sessions.sessions_of_user(account.id, SESSIONS_SHOWN, first=this_one)
        rows = [_session_row(summary, this_one) for summary in found.shown]
        done = DONE_MESSAGES.get(request.query_params.get("done", ""))
        return self._page(
            request,
            "accounts/sessions.html",
            account=account,
            sessions=rows,
            live=found.live,
            message=done,
        )

    async def sign_out_session(self, request: Request) -> Response:
        """Sign one of the user's browsers out; on its next request, in any worker, it is
        anonymous. Choosing this browser signs it out as the header's button does."""
        async with request.form(max_files=0) as data:
            chosen = data.get("browser")
        session = session_of(request)
        if not isinstance(chosen, str) or not chosen:
            return error_page(request, 400, "Choose a browser to sign out.")
        if chosen == session.public_id:
            session.sign_out()
            return see_other(request.url_for("index").path)
        await self.sessions.revoke(_account(request).id, chosen)
        return see_other(request.url_for("your_sessions").path + "?done=one")

    async def sign_out_other_sessions(self, request: Request) -> Response:
        account = _account(request)
        await self.sessions.revoke_all_of_user(account.id, keep=session_of(request).public_id)
        return see_other(request.url_for("your_sessions").path + "?done=others")

    # -- passwords -------------------------------------------------------------------------

    async def change_password(self, request: Request) -> Response:
        """Change the password, knowing the current one. Every other session of the user is
        signed out, and this one moves to a new key."""
        if request.method == "GET":
            return self._page(request, "accounts/change_password.html", form=ChangePasswordForm())
        async with request.form(max_files=0) as data:
            form = ChangePasswordForm(formdata=data)
        if not form.validate():
            return self._page(request, "accounts/change_password.html", form=form)
        account = _account(request)
        address = client_address(request)
        # Guessing the current password from a browser left signed in is a sign-in attempt too.
        wait = await self.throttle.retry_after(account.email, address)
        if wait is not None:
            return too_many_attempts(request, wait)
        if not await check_password(self.database, account.id, form.current_password.data or ""):
            await self.throttle.failed(account.email, address)
            form.current_password.errors = ["That is not your current password."]
            return self._page(request, "accounts/change_password.html", form=form)
        await set_password(self.database, account.id, form.new_password.data or "")
        session = session_of(request)
        await self.sessions.revoke_all_of_user(account.id, keep=session.public_id)
        session.cycle_key()
        return see_other(request.url_for("your_sessions").path + "?done=password")

    async def forgot_password(self, request: Request) -> Response:
        """Send a reset link. The answer, and the time it takes, are the same whether or not
        the email has an account: the mail goes out after the response."""
        if request.method == "GET":
            return self._page(request, "accounts/forgot_password.html", form=ForgotPasswordForm())
        async with request.form(max_files=0) as data:
            form = ForgotPasswordForm(formdata=data)
        if not form.validate():
            return self._page(request, "accounts/forgot_password.html", form=form)
        response = see_other(request.url_for("reset_link_sent").path)
        account = await user_by_email(self.database, form.email.data or "")
        token = (
            None
            if account is None
            else await reset_token(self.database, self.secret.value, account.id)
        )
        if account is not None and token is not None:
            link = self._absolute(request, request.url_for("reset_password", token=token).path)
            response.background = BackgroundTask(self._send_reset_link, account, link)
        return response

    async def _send_reset_link(self, account: User, link: str) -> None:
        message = self.mailer.message(
            to=account.email,
            subject="Reset your Local Library password",
            body=(
                f"Hello {account.name},\n\n"
                "Someone, probably you, asked to reset the password of your Local Library "
                "account. To choose a new password, open this link within an hour:\n\n"
                f"{link}\n\n"
                "The link works once. If you did not ask for it, ignore this message: your "
                "password stays as it is.\n"
            ),
        )
        try:
            await self.mailer.send(message)
        except Exception:  # the visitor has had the answer; the log says what went wrong
            logger.exception("could not send a password reset link")

    def _absolute(self, request: Request, path: str) -> str:
        # The configured address, not the request's Host header: a forged Host would otherwise
        # put an attacker's site in the link that a real user receives.
        base = self.site_url or str(request.base_url)
        return base.rstrip("/") + path

    async def reset_link_sent(self, request: Request) -> Response:
        return self._page(request, "accounts/reset_link_sent.html")

    async def reset_password(self, request: Request) -> Response:
        """Choose a new password from a reset link: it works for an hour, and once."""
        token: str = request.path_params["token"]
        account = await user_for_reset_token(self.database, self.secret.value, token)
        if account is None:
            return error_page(
                request,
                400,
                "This reset link no longer works: a link works once, within an hour, and only "
                "until the password changes.",
                way_on=("Ask for a new link", request.url_for("forgot_password").path),
            )
        if request.method == "GET":
            return self._page(request, "accounts/reset_password.html", form=ResetPasswordForm())
        async with request.form(max_files=0) as data:
            form = ResetPasswordForm(formdata=data)
        if not form.validate():
            return self._page(request, "accounts/reset_password.html", form=form)
        await set_password(self.database, account.id, form.new_password.data or "")
        # Whoever knew the old password is signed out everywhere, this browser included.
        await self.sessions.revoke_all_of_user(account.id)
        session = session_of(request)
        if session.user_id == account.id:
            session.sign_out()
        return see_other(request.url_for("sign_in").path + "?done=reset")


def _account(request: Request) -> User:
    account = signed_in_account(request)
    assert account is not None, "the route is declared signed_in_only"
    return account


def client_address(request: Request) -> str:
    """The client's IP address, as the server saw it (behind a proxy, as the proxy said)."""
    return request.client.host if request.client else "unknown"


def too_many_attempts(request: Request, seconds: int) -> Response:
    minutes = max(1, math.ceil(seconds / 60))
    response = error_page(
        request,
        429,
        "There were too many failed sign-ins from here. "
        f"Try again in {minutes} minute{'' if minutes == 1 else 's'}.",
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _session_row(summary: SessionSummary, this_one: str | None) -> SessionRow:
    return SessionRow(
        id=summary.id,
        browser=summary.agent or "Unknown browser",
        signed_in=_moment(summary.signed_in_at or summary.created_at),
        last_seen=_moment(summary.last_seen_at),
        is_this_one=summary.id == this_one,
    )


def _moment(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%-d %b %Y, %H:%M UTC")
