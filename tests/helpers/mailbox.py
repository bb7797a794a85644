"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for mail tests.

``Mailbox()`` is plain SMTP; ``Mailbox(tls=certificate)`` offers STARTTLS (and requires it), and
``login=("user", "secret")`` requires that login. ``certificate`` makes a self-signed one for
127.0.0.1 with the ``openssl`` command, to trust through ``ca_file``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["Certificate", "Mailbox", "Received", "make_certificate"]


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (an EC key: quick to make)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "2"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    secure: bool  # came over TLS


def _free_port() -> int:
    # aiosmtpd's Controller connects to its own port to know it is up: it needs a real number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    def __init__(
        self, *, tls: Certificate | None = None, login: tuple[str, str] | None = None
    ) -> None:
        self.received: list[Received] = []
        self.logins: list[tuple[str, str]] = []  # every login tried, accepted or not
        self._login = login
        kwargs: dict[str, Any] = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(tls.cert), str(tls.key))
            kwargs |= {"tls_context": context, "require_starttls": True}
        if login is not None:
            kwargs |= {"authenticator": self._authenticate, "auth_required": True}
            kwargs["auth_require_tls"] = tls is not None
        self.port = _free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        tried = (data.login.decode(), data.password.decode())
        self.logins.append(tried)
        # handled=False: aiosmtpd answers 535 itself (handled=True would leave the client waiting).
        return AuthResult(success=tried == self._login, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
                secure=session.ssl is not None,
            )
        )
        return "250 Message accepted for delivery"

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
