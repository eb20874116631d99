"""The catalog's edit forms, declared with WTForms: each field's rules and its message when broken.

Field names are the columns' names, so a valid form's data is the row's values
(`row_values`). What only the database can say — an ISBN or a name in use, a version that
moved on — comes back from catalog/editing.py and is put beside its field by the views.
Lengths are MDN's models': names of people 100, titles, imprints, genres and languages 200,
summaries 1,000.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from wtforms import (
    DateField,
    Field,
    Form,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)

# SelectChoice is newer than types-wtforms' stubs; WTForms 3.3 deprecates choices as tuples.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget, NumberInput

from locallibrary.catalog.ids import MAX_ID
from locallibrary.catalog.isbn import isbn_problem, normalized_isbn
from locallibrary.catalog.queries import AuthorRef
from locallibrary.catalog.tables import CopyStatus

NAME_LENGTH = 100
TITLE_LENGTH = 200
TERM_LENGTH = 200
IMPRINT_LENGTH = 200
SUMMARY_LENGTH = 1000
# What may be typed to find an author: a first and a last name, and a space.
AUTHOR_TYPED_LENGTH = 2 * NAME_LENGTH + 1


def stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def plain_text(*, lines: bool = False) -> Any:
    """No control characters (PostgreSQL cannot even store NUL); `lines` allows line breaks."""
    allowed = "\n\r\t" if lines else ""

    def check(form: Form, field: Field) -> None:
        text = field.data or ""
        if any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text):
            raise ValidationError("Only printable characters, please.")

    return check


def options(pairs: Iterable[tuple[Any, str]]) -> list[Any]:
    """A select field's choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def length(most: int) -> Length:
    return Length(max=most, message=f"At most {most} characters, please.")


def required(message: str) -> DataRequired:
    # Checked after the spaces are stripped: a title of spaces is no title.
    return DataRequired(message)


class EditForm(Form):
    # The version of the row that the edit form was loaded with (editing.py). Absent when
    # creating; an id-sized number, so that no value can overflow the column.
    version = IntegerField(
        widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=MAX_ID)]
    )


# Fields that are no column of the row: the version it was loaded at, and the name typed to
# find the book's author.
NOT_COLUMNS = frozenset({"version", "author_name"})


def row_values(form: Form) -> dict[str, Any]:
    """The form's data as the row's column values."""
    return {field.name: field.data for field in form if field.name not in NOT_COLUMNS}


class AuthorForm(EditForm):
    # Some authors are known by one name (Homer): the first name may be empty.
    first_name = StringField("First name", [length(NAME_LENGTH), plain_text()], filters=[stripped])
    last_name = StringField(
        "Last name",
        [required("Enter the author's last name."), length(NAME_LENGTH), plain_text()],
        filters=[stripped],
    )
    date_of_birth = DateField("Date of birth", [Optional()])
    date_of_death = DateField("Died", [Optional()])

    def validate_date_of_death(self, field: Field) -> None:
        born = self.date_of_birth.data
        if field.data is not None and born is not None and field.data < born:
            raise ValidationError("The date of death is before the date of birth.")


class BookForm(EditForm):
    title = StringField(
        "Title",
        [required("Enter the book's title."), length(TITLE_LENGTH), plain_text()],
        filters=[stripped],
    )
    # The author is chosen among those the form offers (`offered_authors`, set by the view):
    # the one chosen so far, and those whose names match what is typed in `author_name`
    # (catalog/authors_named.py). Without JavaScript the name is found when the form is sent.
    author_name = SearchField(
        "Author",
        [length(AUTHOR_TYPED_LENGTH), plain_text()],
        filters=[stripped],
        description="Type part of the author's name, then choose below.",
    )
    author_id = RadioField(
        "Chosen author",
        [Optional(), NumberRange(1, MAX_ID, "Choose the author again.")],
        coerce=int,
        validate_choice=True,
    )
    offered_authors: Sequence[AuthorRef] = ()
    more_authors = False  # more authors than offered have the name typed
    summary = TextAreaField(
        "Summary",
        [required("Enter a short summary."), length(SUMMARY_LENGTH), plain_text(lines=True)],
        filters=[stripped],
    )
    isbn = StringField(
        "ISBN",
        [required("Enter the book's 13-digit ISBN.")],
        filters=[stripped, lambda value: normalized_isbn(value) if value else value],
        description="13 digits",
    )
    language_id = SelectField("Language", coerce=int)
    genres = SelectMultipleField(
        "Genres",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def validate_isbn(self, field: Field) -> None:
        problem = isbn_problem(field.data or "")
        if problem is not None:
            raise ValidationError(problem)


class CopyForm(EditForm):
    book_id = IntegerField(
        "Book number",
        [InputRequired("Enter the number of the book this is a copy of."), NumberRange(1, MAX_ID)],
        widget=NumberInput(min=1),
    )
    imprint = StringField(
        "Imprint",
        [required("Enter the copy's imprint."), length(IMPRINT_LENGTH), plain_text()],
        filters=[stripped],
    )
    # On loan and Reserved follow the copy's loans and holds, which only the desk changes
    # (loans/desk.py); here a copy is Available or in Maintenance, and the save keeps the
    # desk's status of a copy on loan or reserved (catalog/editing.py).
    status = SelectField(
        "Status",
        choices=options(
            (status.value, status.label)
            for status in (CopyStatus.AVAILABLE, CopyStatus.MAINTENANCE)
        ),
        default=CopyStatus.MAINTENANCE.value,
        description="A copy on loan or reserved keeps that status until the desk changes it.",
    )
    due_back = DateField("Due back", [Optional()])


class GenreForm(EditForm):
    name = StringField(
        "Name",
        [required("Enter the genre's name."), length(TERM_LENGTH), plain_text()],
        filters=[stripped],
    )


class LanguageForm(EditForm):
    name = StringField(
        "Name",
        [required("Enter the language's name."), length(TERM_LENGTH), plain_text()],
        filters=[stripped],
    )


FORMS: dict[str, type[EditForm]] = {
    "author": AuthorForm,
    "book": BookForm,
    "copy": CopyForm,
    "genre": GenreForm,
    "language": LanguageForm,
}
