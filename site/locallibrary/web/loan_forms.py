"""The desk's forms, declared with WTForms as the accounts' are: each field's rules and messages.

Due dates follow MDN's renewal rules: from today to four weeks ahead, both included, three
weeks ahead unless chosen.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from wtforms import DateField, Form, IntegerField, SelectMultipleField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from locallibrary.catalog.ids import MAX_ID
from locallibrary.loans.desk import MAX_RETURNED_AT_ONCE

DEFAULT_LOAN_DAYS = 21
LONGEST_LOAN_DAYS = 28
EMAIL_OR_NAME_LENGTH = 254


def default_due_date() -> dt.date:
    return dt.date.today() + dt.timedelta(days=DEFAULT_LOAN_DAYS)


def check_due_date(form: Any, field: Any) -> None:
    """From today to four weeks ahead, with a message that says which way it is wrong."""
    if field.data is None:
        return
    today = dt.date.today()
    latest = today + dt.timedelta(days=LONGEST_LOAN_DAYS)
    if field.data < today:
        raise ValidationError("Invalid date: that day is in the past. Choose today or later.")
    if field.data > latest:
        raise ValidationError(
            f"Invalid date: that is more than 4 weeks ahead. Choose {latest:%-d %B %Y} or sooner."
        )


def _due_back_field() -> DateField:
    return DateField(
        "Due back",
        [InputRequired("Choose the day the book is due back."), check_due_date],
        default=default_due_date,
        # A browser's date input sends ISO dates; anything else is not a date.
        format="%Y-%m-%d",
    )


class RenewForm(Form):
    """A renewal's new due date; also what the inline check of any due date validates."""

    due_back = _due_back_field()


class LendForm(Form):
    copy = StringField(
        "Copy",
        [InputRequired("Enter the copy's id, as on its label."), Length(max=64)],
        description="The id printed on the copy's label.",
    )
    patron = StringField(
        "Patron",
        [
            InputRequired("Enter the patron's email or name."),
            Length(max=EMAIL_OR_NAME_LENGTH, message="That is longer than any email or name."),
        ],
        description="Their email, or their full name.",
    )
    due_back = _due_back_field()

    def validate_copy(self, field: Any) -> None:
        try:
            uuid.UUID(field.data.strip())
        except ValueError:
            raise ValidationError(
                "That is not a copy's id: it has 32 hexadecimal digits, as on the label."
            ) from None

    @property
    def copy_id(self) -> uuid.UUID:
        """The copy's id, once the form has validated."""
        return uuid.UUID((self.copy.data or "").strip())


class ReturnForm(Form):
    # The ticked rows' loans, or the one row's own button.
    loan = SelectMultipleField(coerce=int, validate_choice=False)
    only = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])  # to come back to

    def validate_loan(self, field: Any) -> None:
        if len(field.data or []) > MAX_RETURNED_AT_ONCE:
            raise ValidationError(f"Mark at most {MAX_RETURNED_AT_ONCE} loans at once.")
        if any(not 0 < value <= MAX_ID for value in field.data or []):
            raise ValidationError("That is not a loan.")

    @property
    def loan_ids(self) -> list[int]:
        if self.only.data is not None:
            return [self.only.data]
        return list(self.loan.data or [])
