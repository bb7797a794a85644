"""The day's briefing by mail: one multipart/alternative message (the markdown as text, the
HTML page), sent with ``smtplib`` over STARTTLS, TLS from the start, or (a relay on this
machine) neither.

The password is read from the variable ``password_env`` names when the mail is sent, and goes
nowhere else: not in a message, not in a file, not in an error.
"""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from briefer.errors import BrieferError, ConfigError
from briefer.settings import MailSettings

__all__ = ["MailError", "build_message", "mail_password", "send_message"]


class MailError(BrieferError):
    """The mail could not be sent; the briefing's files are written all the same (exit 3)."""


def mail_password(mail: MailSettings) -> str | None:
    """The password for ``mail.username``, from ``$password_env``; None without a username.
    Checked before a run, so that a missing one fails it before any model call."""
    if not mail.username:
        return None
    password = os.environ.get(mail.password_env, "")
    if not password:
        raise ConfigError(
            f"daily.mail.username is set but ${mail.password_env} is empty: export the SMTP "
            "password in it, or name another variable in daily.mail.password_env"
        )
    return password


def build_message(
    mail: MailSettings, *, subject: str, text: str, html: str, day: dt.date
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = parseaddr(mail.sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(idstring=f"briefer-{day.isoformat()}", domain=domain)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def _tls_context(mail: MailSettings) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(mail.ca_file) if mail.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"daily.mail.ca_file {mail.ca_file}: {exc}") from None


def _reason(error: BaseException, password: str | None) -> str:
    """One line of what went wrong, the password scrubbed should a server ever echo it."""
    if isinstance(error, smtplib.SMTPResponseException):
        raw = error.smtp_error
        said = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        text = f"the server answered {error.smtp_code} {' '.join(said.split())}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "every recipient was refused: " + ", ".join(sorted(error.recipients))
    elif isinstance(error, smtplib.SMTPNotSupportedError):
        text = "the server does not offer STARTTLS (set daily.mail.security)"
    elif isinstance(error, ssl.SSLError | ssl.CertificateError):
        text = f"TLS failed: {getattr(error, 'reason', None) or error}"
    elif isinstance(error, TimeoutError):
        text = "no answer in time"
    elif isinstance(error, OSError) and error.strerror:
        text = error.strerror
    else:
        text = " ".join(str(error).split()) or type(error).__name__
    return text.replace(password, "***") if password else text


def send_message(mail: MailSettings, message: EmailMessage, password: str | None) -> None:
    """Deliver ``message``; ``MailError`` naming the server and why, when it cannot."""
    where = f"{mail.host}:{mail.port_in_use()}"
    try:
        if mail.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                mail.host, mail.port_in_use(), timeout=mail.timeout, context=_tls_context(mail)
            )
        else:
            client = smtplib.SMTP(mail.host, mail.port_in_use(), timeout=mail.timeout)
        with client:
            client.ehlo()
            if mail.security == "starttls":
                client.starttls(context=_tls_context(mail))
                client.ehlo()
            if mail.username and password is not None:
                client.login(mail.username, password)
            client.send_message(message)
    except ConfigError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"the mail to {', '.join(mail.to)} through {where} failed: {_reason(exc, password)}"
        ) from None
