"""Who is signed in: the session names its user, and Starlette's AuthenticationMiddleware asks us.

The session framework keeps only the user's id, on the session row. Each signed-in request reads
that user afresh, in the same statement as the session (`StoredSession.owner`), so a new role or
a deleted account counts at once, in every worker. `request.user` is then a `SignedIn` or
Starlette's `UnauthenticatedUser`, and `request.auth.scopes` holds "authenticated" and, for
librarians, "librarian".
"""

from __future__ import annotations

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from locallibrary.accounts.users import User, user_by_id, user_from_row
from locallibrary.database import Database
from locallibrary.sessions import session_of

AUTHENTICATED = "authenticated"
LIBRARIAN = "librarian"


class SignedIn(BaseUser):
    def __init__(self, account: User) -> None:
        self.account = account

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.account.name

    @property
    def identity(self) -> str:
        return str(self.account.id)


class SessionAuthentication(AuthenticationBackend):
    def __init__(self, database: Database) -> None:
        self.database = database

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        session = session_of(conn)
        user_id = session.user_id
        if user_id is None:
            return None
        owner = session.owner
        # A store that reads no user with the session, or none there: ask the users table.
        account = (
            user_from_row(owner) if owner is not None else await user_by_id(self.database, user_id)
        )
        if account is None:  # the account is gone: its sessions are anonymous from now on
            return None
        scopes = [AUTHENTICATED, LIBRARIAN] if account.is_librarian else [AUTHENTICATED]
        return AuthCredentials(scopes), SignedIn(account)


def signed_in_account(conn: HTTPConnection) -> User | None:
    """The signed-in user of this request, or None (also outside the authentication middleware,
    on the pages that middleware answers before it)."""
    user = conn.scope.get("user")
    return user.account if isinstance(user, SignedIn) else None
