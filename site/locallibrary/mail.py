"""Sending mail: over SMTP in production, into a directory of `.eml` files in development and tests.

    mailer = mailer_for(settings.mail_url, settings.mail_from)
    await mailer.send(mailer.message(to="ada@example.org", subject="Hello", body="..."))

`MAIL_URL` chooses the mailer: `smtp://user:password@host:port` (STARTTLS when the server offers
it), `smtps://…` (TLS from the first byte) or `file:PATH` (a directory, one file per message).
A message that cannot be sent raises `MailError`, whose text is one line for a page or a log.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

import aiosmtplib

# A page waits for its mail to go: better a clear failure than a browser left hanging for
# aiosmtplib's default minute.
SMTP_TIMEOUT_SECONDS = 15.0


class MailError(Exception):
    """A message that could not be sent; the text is one line, fit for a page."""


class MailURLError(ValueError):
    """A MAIL_URL that names no mailer we have; the text is one line and holds no password."""


class Mailer(ABC):
    def __init__(self, sender: str) -> None:
        self.sender = sender

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        """A plain-text message from this mailer's sender."""
        return plain_text_message(self.sender, to, subject, body)

    @abstractmethod
    async def send(self, message: EmailMessage) -> None:
        """Hand the message on; raise MailError if it cannot be."""


def plain_text_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    # The sender's domain, not make_msgid's default, which asks DNS for this host's name.
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = email.utils.make_msgid(domain=domain)
    message.set_content(body)
    return message


@dataclass(frozen=True)
class SMTPServer:
    hostname: str
    port: int | None  # None: aiosmtplib's default, 465 with implicit TLS and 25 without
    username: str | None
    password: str | None = field(repr=False)
    implicit_tls: bool


class SMTPMailer(Mailer):
    def __init__(self, sender: str, server: SMTPServer) -> None:
        super().__init__(sender)
        self.server = server

    async def send(self, message: EmailMessage) -> None:
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.hostname,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                # None: STARTTLS if the server offers it; never inside TLS already.
                start_tls=False if server.implicit_tls else None,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPException as error:
            where = server.hostname if server.port is None else f"{server.hostname}:{server.port}"
            raise MailError(f"cannot send mail through {where}: {_reason(error)}") from error


def _reason(error: aiosmtplib.SMTPException) -> str:
    """What went wrong, in one line: the server's replies as it gave them, code first."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        reason = "; ".join(f"{r.code} {r.message} ({r.recipient})" for r in error.recipients)
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        reason = f"{error.code} {error.message}"
    else:
        reason = str(error)
    return " ".join(reason.split())  # a server's reply may span lines


class OutboxMailer(Mailer):
    """Writes each message into `directory` as one `.eml` file; names sort in sending order."""

    def __init__(self, sender: str, directory: Path) -> None:
        super().__init__(sender)
        self.directory = directory
        self._last_name_ns = 0

    async def send(self, message: EmailMessage) -> None:
        # The name is taken before the first await, so the order of names is the order of the
        # calls; each is later than the last even if the clock steps back.
        self._last_name_ns = max(time.time_ns(), self._last_name_ns + 1)
        name = f"{self._last_name_ns:020d}-{os.getpid()}.eml"  # the pid: other workers' names
        try:
            await asyncio.to_thread(self._write, name, message.as_bytes())
        except OSError as error:
            raise MailError(f"cannot write mail to {self.directory}: {error}") from error

    def _write(self, name: str, content: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader of the directory sees whole messages or none.
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(content)
        temporary.replace(self.directory / name)


def mailer_for(url: str, sender: str) -> Mailer:
    """The mailer that `url` (a MAIL_URL) names; MailURLError if it names none."""
    destination = mail_destination(url)
    if isinstance(destination, Path):
        return OutboxMailer(sender, destination)
    return SMTPMailer(sender, destination)


def mail_destination(url: str) -> Path | SMTPServer:
    """Where a MAIL_URL sends mail: an outbox directory or an SMTP server."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "file"):
        raise _refused(parts, "names no mailer")
    if parts.query or parts.fragment:
        raise _refused(parts, "has a query or a fragment")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _refused(parts, "names another host's files")
        if not parts.path:
            raise _refused(parts, "names no directory")
        return Path(unquote(parts.path))
    try:
        port = parts.port
    except ValueError:
        raise _refused(parts, "has a port that is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise _refused(parts, "names no host")
    if parts.path not in ("", "/"):
        raise _refused(parts, "has a path")
    return SMTPServer(
        hostname=parts.hostname,
        port=port,
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        implicit_tls=parts.scheme == "smtps",
    )


def _refused(parts: SplitResult, problem: str) -> MailURLError:
    if parts.password is not None:  # never in a message that a log or a terminal keeps
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}")
    return MailURLError(
        f"MAIL_URL {parts.geturl()!r} {problem}: use smtp://user:password@host:port, "
        "smtps://user:password@host:port or file:PATH"
    )
