"""The messages in an outbox directory (`MAIL_URL=file:…`), for tests that read the mail sent."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path


def messages(directory: Path) -> list[EmailMessage]:
    """Every message in `directory`, in the order they were sent (none if it does not exist)."""
    # Only finished messages: one still being written is a hidden temporary file.
    files = sorted(directory.glob("[!.]*.eml"))
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]
