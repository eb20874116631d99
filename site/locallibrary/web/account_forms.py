"""The accounts' forms, declared with WTForms: each field's rules, and its message when broken.

The site's forms carry no CSRF token: CrossOriginProtection refuses a form sent from another
site before any view runs (web/security.py).
"""

from __future__ import annotations

from typing import Any

from wtforms import EmailField, Form, HiddenField, PasswordField, ValidationError
from wtforms.validators import EqualTo, InputRequired, Length

from locallibrary.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

EMAIL_LENGTH = 254

NEW_PASSWORD_RULES = [
    InputRequired("Choose a new password."),
    Length(
        min=MIN_PASSWORD_LENGTH,
        max=MAX_PASSWORD_LENGTH,
        message=f"A password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
    ),
]
CONFIRMATION_RULES = [
    InputRequired("Type the new password again."),
    EqualTo("new_password", "The two passwords are not the same."),
]


class SignInForm(Form):
    # The email's format is not checked here: any mistake gets the one "not right" answer.
    email = EmailField("Email", [InputRequired("Enter your email."), Length(max=EMAIL_LENGTH)])
    password = PasswordField(
        "Password", [InputRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField()


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password",
        [InputRequired("Enter your current password."), Length(max=MAX_PASSWORD_LENGTH)],
    )
    new_password = PasswordField("New password", NEW_PASSWORD_RULES)
    confirmation = PasswordField("New password, again", CONFIRMATION_RULES)

    def validate_new_password(self, field: Any) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError("The new password is the one you have now.")


class ForgotPasswordForm(Form):
    email = EmailField(
        "Email", [InputRequired("Enter your account's email."), Length(max=EMAIL_LENGTH)]
    )


class ResetPasswordForm(Form):
    new_password = PasswordField("New password", NEW_PASSWORD_RULES)
    confirmation = PasswordField("New password, again", CONFIRMATION_RULES)
