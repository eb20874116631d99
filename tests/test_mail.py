"""The mailer: an outbox directory of whole `.eml` files in sending order, and real SMTP.

The SMTP tests send to aiosmtpd's server, on a free loopback port in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import threading
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from locallibrary.mail import MailError, SMTPServer, mail_destination, mailer_for
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.outbox import messages
from tests.postgres_server import free_port

SENDER = "Local Library <library@localhost>"


def send(mailer_url: str, to: str = "ada@example.org", body: str = "Hello.\n") -> None:
    mailer = mailer_for(mailer_url, SENDER)
    asyncio.run(mailer.send(mailer.message(to, "Your library", body)))


# -- the outbox --------------------------------------------------------------------------------


def test_each_message_is_a_file_read_back_whole_in_sending_order(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    mailer = mailer_for(f"file:{outbox}", SENDER)

    async def send_three() -> None:
        for number in (1, 2, 3):
            await mailer.send(
                mailer.message(f"reader{number}@example.org", f"No. {number}", "Hi\n")
            )

    asyncio.run(send_three())
    sent = messages(outbox)
    assert [message["Subject"] for message in sent] == ["No. 1", "No. 2", "No. 3"]
    first = sent[0]
    assert first["From"] == SENDER
    assert first["To"] == "reader1@example.org"
    assert first["Date"].datetime.tzinfo is not None
    assert first["Message-ID"].endswith("@localhost>")
    assert first.get_content_type() == "text/plain"
    assert first.get_content() == "Hi\n"
    assert len({message["Message-ID"] for message in sent}) == 3


def test_twenty_concurrent_sends_give_twenty_whole_files_and_a_reader_sees_no_part(
    tmp_path: Path,
) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    mailer = mailer_for(f"file:{outbox}", SENDER)
    # Large enough that a file written in place would be seen half-written.
    bodies = [f"{number:02d} " * 200_000 + "\n" for number in range(20)]
    seen_sizes: dict[str, set[int]] = {}
    writing = threading.Event()
    writing.set()

    def watch_while_writing() -> None:
        # Listing and stat only, so that it looks often: each size seen under a message's name.
        while writing.is_set():
            with os.scandir(outbox) as entries:
                for entry in entries:
                    if not entry.name.startswith("."):
                        with contextlib.suppress(FileNotFoundError):
                            seen_sizes.setdefault(entry.name, set()).add(entry.stat().st_size)

    async def send_all() -> None:
        await asyncio.gather(
            *(
                mailer.send(mailer.message("ada@example.org", f"#{n}", b))
                for n, b in enumerate(bodies)
            )
        )

    watcher = threading.Thread(target=watch_while_writing)
    watcher.start()
    try:
        asyncio.run(send_all())
    finally:
        writing.clear()
        watcher.join()
    sent = messages(outbox)
    assert [message["Subject"] for message in sent] == [f"#{n}" for n in range(20)]
    assert [message.get_content() for message in sent] == bodies
    final_sizes = {path.name: {path.stat().st_size} for path in outbox.iterdir()}
    assert len(final_sizes) == 20, "no temporary file is left behind"
    assert {name: seen_sizes[name] for name in seen_sizes} == {
        name: final_sizes[name] for name in seen_sizes
    }, "every size seen under a message's name is its whole size"


def test_a_relative_outbox_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    send("file:outbox")
    assert len(messages(tmp_path / "outbox")) == 1


def test_an_absolute_outbox_url_names_its_directory(tmp_path: Path) -> None:
    send(f"file://{tmp_path}/var%20mail/outbox")
    assert len(messages(tmp_path / "var mail" / "outbox")) == 1


def test_an_outbox_that_cannot_be_written_is_a_mail_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    with pytest.raises(MailError, match="^cannot write mail to .*not-a-directory") as failed:
        send(f"file:{tmp_path / 'not-a-directory'}")
    assert "\n" not in str(failed.value)


# -- SMTP --------------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd's handler: keeps what it was given; refuses mail to anyone named nobody."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, address: str, _: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550-5.1.1 No such reader\r\n550 5.1.1 at this library"  # two lines
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(
        self, server: SMTPProtocol, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=True)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback that takes logins without TLS, and its port."""
    handler, port = Inbox(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_a_message_arrives_by_smtp_with_its_headers_and_body(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    send(f"smtp://127.0.0.1:{port}", body="Your reset link: http://example.org/r/abc\n")
    [envelope] = handler.envelopes
    assert envelope.mail_from == "library@localhost"
    assert envelope.rcpt_tos == ["ada@example.org"]
    assert handler.logins == [], "no credentials in the URL, no login"
    assert isinstance(envelope.content, bytes)
    # SMTP ends lines with CRLF; the email package keeps whatever line ends it reads.
    wire = envelope.content.replace(b"\r\n", b"\n")
    received = email.message_from_bytes(wire, policy=policy.default)
    assert received["From"] == SENDER
    assert received["To"] == "ada@example.org"
    assert received["Subject"] == "Your library"
    assert received["Date"] and received["Message-ID"]
    assert received.get_content() == "Your reset link: http://example.org/r/abc\n"


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")  # aiosmtpd's own use
def test_credentials_in_the_url_are_percent_decoded(inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    send(f"smtp://desk%40library:p%3As%20s%2Fw@127.0.0.1:{port}")
    assert handler.logins == [(b"desk@library", b"p:s s/w")]
    assert len(handler.envelopes) == 1


def test_a_refused_recipient_is_one_line_that_gives_the_servers_reply(
    inbox: tuple[Inbox, int],
) -> None:
    handler, port = inbox
    with pytest.raises(MailError) as refused:
        send(f"smtp://127.0.0.1:{port}", to="nobody@example.org")
    assert str(refused.value) == (
        f"cannot send mail through 127.0.0.1:{port}: "
        "550 5.1.1 No such reader 5.1.1 at this library (nobody@example.org)"
    )
    assert handler.envelopes == []


def test_a_server_that_is_not_there_is_a_mail_error() -> None:
    port = free_port()  # nothing listens on it
    with pytest.raises(MailError, match=f"^cannot send mail through 127.0.0.1:{port}: ") as failed:
        send(f"smtp://127.0.0.1:{port}")
    assert "\n" not in str(failed.value)


# -- MAIL_URL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "destination"),
    [
        ("file:outbox", Path("outbox")),
        ("file:///var/mail/outbox", Path("/var/mail/outbox")),
        ("file://localhost/var/mail/outbox", Path("/var/mail/outbox")),
        ("smtp://mail.example.org", SMTPServer("mail.example.org", None, None, None, False)),
        (
            "smtp://desk:se%2Fcret@mail.example.org:587",
            SMTPServer("mail.example.org", 587, "desk", "se/cret", False),
        ),
        (
            "smtps://desk:secret@mail.example.org",
            SMTPServer("mail.example.org", None, "desk", "secret", True),
        ),
    ],
)
def test_a_mail_url_names_its_destination(url: str, destination: Path | SMTPServer) -> None:
    assert mail_destination(url) == destination


def test_the_app_has_the_mailer_that_the_settings_name(tmp_path: Path) -> None:
    settings = Settings(mail_url=f"file:{tmp_path / 'outbox'}", mail_from="Desk <desk@example.org>")
    mailer = create_app(settings).state.mailer
    asyncio.run(mailer.send(mailer.message("ada@example.org", "Hello", "Hi\n")))
    [sent] = messages(tmp_path / "outbox")
    assert sent["From"] == "Desk <desk@example.org>"
    assert sent["Message-ID"].endswith("@example.org>")
