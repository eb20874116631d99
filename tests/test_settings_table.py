"""The README's settings table and the code agree: every setting read is documented with the
default the code uses, and every documented setting is read."""

from __future__ import annotations

import dataclasses
import re

from locallibrary.settings import PROJECT_ROOT, Settings

# Read by the test suite, not by the site (tests/conftest.py); documented as such.
TEST_ONLY = {"LOCALLIBRARY_TEST_REQUIRE_ALL"}


def documented() -> dict[str, str]:
    """Each variable of the README's settings table, with its default as written there."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \|", table, re.MULTILINE))


def read_by_the_code() -> set[str]:
    source = (PROJECT_ROOT / "site" / "locallibrary" / "settings.py").read_text()
    return set(re.findall(r'config\(\s*"([A-Z0-9_]+)"', source))


def test_every_setting_read_is_documented_and_every_documented_one_is_read() -> None:
    assert set(documented()) - TEST_ONLY == read_by_the_code()


def test_the_documented_defaults_are_the_codes() -> None:
    """Where the table gives a default as one literal (`3`, `sessionid`), the code has it."""
    defaults = {field.name: field.default for field in dataclasses.fields(Settings)}
    checked = 0
    for variable, written in documented().items():
        literal = re.fullmatch(r"`([^`]*)`(?: \(.*\))?", written.strip())
        field = variable.lower()
        if literal is None or field not in defaults:
            continue
        default = defaults[field]
        value = literal.group(1)
        if isinstance(default, bool):
            assert value == str(default).lower(), variable
        elif isinstance(default, (int, float)):
            assert float(value) == default, variable
        else:
            assert value == default, variable
        checked += 1
    assert checked >= 8  # the table's literal defaults were found and compared
