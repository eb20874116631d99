"""Accounts: the library's patrons and librarians, their passwords and how they sign in.

Of the rest of the site it uses only the database layer.

    user = await create_user(database, "ann@example.org", "Ann", password)
    user = await authenticate(database, email, password)  # a User, or None
    throttle = SignInThrottle(database)
    if (wait := await throttle.retry_after(email, address)) is None: ...
"""

from locallibrary.accounts.errors import AccountError, EmailTaken
from locallibrary.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from locallibrary.accounts.resets import RESET_TOKEN_SECONDS, reset_token, user_for_reset_token
from locallibrary.accounts.tables import Role
from locallibrary.accounts.throttle import SignInThrottle
from locallibrary.accounts.users import (
    User,
    authenticate,
    check_password,
    create_user,
    set_password,
    user_by_email,
    user_by_id,
)

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "RESET_TOKEN_SECONDS",
    "AccountError",
    "EmailTaken",
    "Role",
    "SignInThrottle",
    "User",
    "authenticate",
    "check_password",
    "create_user",
    "reset_token",
    "set_password",
    "user_by_email",
    "user_by_id",
    "user_for_reset_token",
]
