"""A patron's due dates as an iCalendar file (RFC 5545), one all-day event per open loan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from locallibrary.loans.queries import PatronLoan

PRODUCT = "-//Local Library//Due dates//EN"
UID_DOMAIN = "locallibrary"
LINE_OCTETS = 75  # the longest line the standard allows, without its CRLF


def _escaped(value: str) -> str:
    """TEXT as RFC 5545 writes it: backslash, semicolon, comma and newline escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _folded(line: str) -> str:
    """A long line split into lines of at most 75 octets, never inside a UTF-8 character;
    each continuation starts with a space."""
    parts: list[str] = []
    current, size = "", 0
    limit = LINE_OCTETS
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, LINE_OCTETS - 1  # the space counts
        current += character
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def due_dates_calendar(loans: Iterable[PatronLoan], made_at: dt.datetime) -> str:
    """The calendar of these loans' due dates."""
    stamp = made_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN"]
    for loan in loans:
        lines += [
            "BEGIN:VEVENT",
            # The same loan keeps its UID, so a renewal moves the event rather than adding one.
            f"UID:loan-{loan.id}@{UID_DOMAIN}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{loan.due_back:%Y%m%d}",
            f"DTEND;VALUE=DATE:{loan.due_back + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escaped(f'Due back at the library: {loan.title}')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_folded(line) + "\r\n" for line in lines)
