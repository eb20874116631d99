"""Semantic, labelled pages: landmarks, headings in order, labelled controls, table headers."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.html import parse

PAGES = [
    "/catalog/",
    "/catalog/books/",
    "/catalog/authors/",
    "/catalog/book/1",
    "/catalog/author/1",
    "/catalog/genres/",
    "/catalog/genre/1",
    "/catalog/languages/",
    "/catalog/language/1",
    "/no/such/page",
]


@pytest.mark.parametrize("path", PAGES)
def test_page_structure(client: TestClient, path: str) -> None:
    tree = parse(client.get(path).text)
    assert tree.css_first("html").attributes.get("lang") == "en"
    assert len(tree.css("main")) == 1 and tree.css_first("header") is not None
    assert tree.css_first('nav[aria-label="Main"]') is not None
    assert len(tree.css("h1")) == 1
    levels = [int(node.tag[1]) for node in tree.css("h1, h2, h3, h4, h5, h6")]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels


@pytest.mark.parametrize("path", PAGES)
def test_every_control_has_a_label(client: TestClient, path: str) -> None:
    tree = parse(client.get(path).text)
    labelled = {node.attributes.get("for") for node in tree.css("label")}
    for control in tree.css("select, textarea, input:not([type=hidden])"):
        assert control.attributes.get("id") in labelled, control.html
    for button in tree.css("button"):
        assert button.text(strip=True), button.html


def test_copy_table_has_column_headers(client: TestClient) -> None:
    tree = parse(client.get("/catalog/book/1").text)
    headers = [node.text(strip=True) for node in tree.css(".copies thead th[scope=col]")]
    assert headers == ["Status", "Due back", "Imprint", "Id"]
    for status in tree.css(".copies .status"):
        assert status.text(strip=True), "the status is written, not only coloured"
