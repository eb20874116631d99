"""Helpers to read pages as HTML trees rather than as strings."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node


def parse(markup: str) -> HTMLParser:
    return HTMLParser(markup)


def text(node: Node | None) -> str:
    assert node is not None, "element not found"
    return " ".join(node.text(separator=" ").split())


def texts(tree: HTMLParser, selector: str) -> list[str]:
    return [text(node) for node in tree.css(selector)]


def links(tree: HTMLParser, selector: str = "a") -> list[str]:
    return [node.attributes.get("href") or "" for node in tree.css(selector)]
