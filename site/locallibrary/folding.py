"""Text without case or accents, for comparing words as a reader does ("Élise" is "elise")."""

from __future__ import annotations

import unicodedata


def folded(text: str) -> str:
    """`text` case-folded, its accents (combining marks, after NFKD) taken off."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
