"""Generated bad bodies at every editing form, sent by a librarian: never a 500, always a page
of the site, and nothing stored. Each body breaks at least one rule of its form (a field
missing, too long, not a number, not a date, out of range, with a control character or bytes
that are not UTF-8) beside fields that may be right. Delete forms have no fields: their POST
is in test_deletes.py. On both databases."""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import hypothesis
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.web.editing.helpers import FORM, first
from tests.web.test_any_request import sync_snapshot

EXAMPLES_PER_FORM = 25

not_utf8 = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]).map(
    lambda data: quote_from_bytes(data, safe="")
)
control = st.sampled_from(["\x00", "\x1b[2J", "\x7f", "\x08"]).map(lambda c: f"A{c}B")
huge_number = st.sampled_from(["99999999999", "-1", "0", "2147483648", "1e3", "9" * 5000])
bad_date = st.sampled_from(["0000-01-01", "2020-13-01", "2020-02-30", "yesterday", "1/2/2020"])

# For each field, values that always break one of its rules.
BREAKS: dict[str, st.SearchStrategy[str]] = {
    "first_name": st.one_of(st.just("n" * 101), control),
    "last_name": st.one_of(st.just(""), st.just("   "), st.just("n" * 101), control),
    "date_of_birth": bad_date,
    "date_of_death": bad_date,
    "title": st.one_of(st.just(""), st.just("t" * 201), control),
    "summary": st.one_of(
        st.just(""), st.just("s" * 1001), control.filter(lambda v: "\x08" in v or "\x00" in v)
    ),
    "isbn": st.one_of(st.just("978000000001"), st.just("9780000000018"), st.text(max_size=5)),
    "author_id": st.one_of(huge_number, st.just("abc")),
    "author_name": st.one_of(st.just("n" * 202), control),
    "language_id": st.one_of(huge_number, st.just("abc")),
    "genres": st.one_of(huge_number, st.just("abc")),
    "book_id": st.one_of(huge_number, st.just("abc"), st.just("")),
    "imprint": st.one_of(st.just(""), st.just("i" * 201), control),
    "status": st.sampled_from(["x", "", "available", "oo"]),
    "due_back": bad_date,
    "name": st.one_of(st.just(""), st.just("g" * 201), control),
    "version": st.one_of(huge_number, st.just("abc")),
}
FIELDS = {
    "author": ["first_name", "last_name", "date_of_birth", "date_of_death"],
    "book": ["title", "author_id", "author_name", "summary", "isbn", "language_id", "genres"],
    "copy": ["book_id", "imprint", "status", "due_back"],
    "genre": ["name"],
    "language": ["name"],
}
anything = st.one_of(st.text(max_size=30), not_utf8, huge_number, st.just(""))


@st.composite
def bad_body(draw: st.DrawFn, fields: list[str], updating: bool) -> str:
    names = fields + (["version"] if updating else [])
    broken = draw(st.sampled_from([n for n in names if n not in ("date_of_birth",)]))
    pairs: list[tuple[str, str]] = []
    for name in names:
        if name == broken:
            if draw(st.booleans()) or name == "version":
                pairs.append((name, draw(BREAKS[name])))
            elif name in ("last_name", "title", "summary", "isbn", "book_id", "imprint", "name"):
                continue  # missing altogether: each of these is required
            else:
                pairs.append((name, draw(BREAKS[name])))
        elif draw(st.booleans()):
            pairs.append((name, draw(anything)))
    # Fields the form does not have; a second value of its own fields could mend the break.
    pairs += draw(
        st.lists(st.tuples(st.sampled_from(["x", "", "id", "next"]), anything), max_size=3)
    )
    # Values go as sent: a percent-escape from `not_utf8` stays one.
    return "&".join(
        f"{quote_from_bytes(k.encode(), safe='')}={v if '%' in v else quote_from_bytes(v.encode(), safe='')}"
        for k, v in pairs
    )


def test_no_bad_body_at_any_form_gets_a_500_or_stores_anything(
    librarian: TestClient, database_url: str
) -> None:
    book_id = first(database_url, "SELECT min(id) FROM catalog_book")
    copy_id = first(database_url, "SELECT id FROM catalog_bookinstance ORDER BY id LIMIT 1")
    copy = str(copy_id)
    if len(copy) == 32:
        copy = f"{copy[:8]}-{copy[8:12]}-{copy[12:16]}-{copy[16:20]}-{copy[20:]}"
    ids = {"author": 1, "book": book_id, "copy": copy, "genre": 1, "language": 1}
    before = sync_snapshot(database_url)
    for kind, fields in FIELDS.items():
        targets: list[tuple[str, bool]] = [
            (f"/catalog/{kind}/create", False),
            (f"/catalog/{kind}/{ids[kind]}/update", True),
        ]
        if kind == "book":
            targets += [
                ("/catalog/book/_check/isbn", False),
                (f"/catalog/book/{book_id}/_check/isbn", True),
            ]
        if kind == "author":
            targets.append(("/catalog/author/_check/dates", False))
        for path, updating in targets:
            throw(librarian, path, bad_body(fields, updating))
    assert sync_snapshot(database_url) == before


def throw(client: TestClient, path: str, bodies: st.SearchStrategy[str]) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        database=None,  # nothing written into the repository; failures print their example
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    @hypothesis.given(body=bodies)
    def send(body: str) -> None:
        hypothesis.note(f"POST {path}")
        response = client.post(path, content=body, headers=FORM, follow_redirects=False)
        assert response.status_code in (200, 400, 409), (response.status_code, response.text[:2000])
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text

    send()
