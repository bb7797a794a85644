"""The briefing by mail, delivered to a real SMTP server on loopback (aiosmtpd) and read back:
plain for a relay on this machine, STARTTLS with a login, and the failures a person must act on,
none of which ever shows the password."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest
from helpers.mailbox import Certificate, Mailbox, make_certificate

from briefer.daily import MailError
from briefer.daily._mail import build_message, mail_password, send_message
from briefer.errors import ConfigError
from briefer.settings import MailSettings

DAY = dt.date(2026, 3, 5)
TEXT = "# Daily briefing, 5 March 2026\n\nThe council approved the ferry routes.\n"
HTML = "<!DOCTYPE html><html><body><h1>Daily briefing</h1><p>Ferry routes.</p></body></html>"
PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def _settings(port: int, **extra: object) -> MailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "Briefer <briefer@example.org>",
        "to": ["ana@example.org", "ben@example.org"],
        **extra,
    }
    return MailSettings.model_validate(values)


def _message(mail: MailSettings) -> object:
    return build_message(
        mail, subject="Daily briefing, 5 March 2026", text=TEXT, html=HTML, day=DAY
    )


def test_a_plain_relay_on_loopback_gets_text_and_html_as_alternatives() -> None:
    with Mailbox() as box:
        mail = _settings(box.port)
        send_message(mail, build_message(mail, subject="S", text=TEXT, html=HTML, day=DAY), None)
    [got] = box.received
    assert got.recipients == ["ana@example.org", "ben@example.org"]
    assert got.sender == "briefer@example.org"
    message = got.message
    assert message["Subject"] == "S"
    assert message["To"] == "ana@example.org, ben@example.org"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # Lines travel with CRLF ends.
    assert parts[0].get_content().replace("\r\n", "\n") == TEXT
    assert parts[1].get_content().strip() == HTML
    assert not got.secure


def test_starttls_with_a_login_reads_the_password_from_the_variable_named(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILY_TEST_SMTP_PASSWORD", PASSWORD)
    with Mailbox(tls=certificate, login=("briefer", PASSWORD)) as box:
        mail = _settings(
            box.port,
            security="starttls",
            username="briefer",
            password_env="DAILY_TEST_SMTP_PASSWORD",
            ca_file=certificate.cert,
        )
        password = mail_password(mail)
        send_message(mail, _message(mail), password)  # type: ignore[arg-type]
    [got] = box.received
    assert got.secure
    assert box.logins == [("briefer", PASSWORD)]


def test_a_rejected_login_is_one_line_without_the_password(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Mailbox(tls=certificate, login=("briefer", "another")) as box:
        mail = _settings(
            box.port, security="starttls", username="briefer", ca_file=certificate.cert
        )
        with pytest.raises(MailError) as caught:
            send_message(mail, _message(mail), PASSWORD)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and PASSWORD not in message
    assert f"127.0.0.1:{box.port}" in message and "535" in message
    assert box.received == []


def test_an_untrusted_certificate_is_refused(certificate: Certificate) -> None:
    with Mailbox(tls=certificate) as box:
        mail = _settings(box.port, security="starttls")  # no ca_file: the system's CAs only
        with pytest.raises(MailError, match="TLS failed"):
            send_message(mail, _message(mail), None)  # type: ignore[arg-type]
    assert box.received == []


def test_starttls_is_never_dropped_for_plain_text() -> None:
    with Mailbox() as box:  # offers no STARTTLS
        mail = _settings(box.port, security="starttls")
        with pytest.raises(MailError, match="does not offer STARTTLS"):
            send_message(mail, _message(mail), None)  # type: ignore[arg-type]
    assert box.received == []


def test_a_closed_port_names_the_server() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mail = _settings(port, timeout=2)
    with pytest.raises(MailError) as caught:
        send_message(mail, _message(mail), None)  # type: ignore[arg-type]
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "ana@example.org" in str(caught.value)


def test_a_username_without_its_password_fails_before_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BRIEFER_SMTP_PASSWORD", raising=False)
    mail = _settings(25, security="starttls", username="briefer")
    with pytest.raises(ConfigError, match=r"\$BRIEFER_SMTP_PASSWORD is empty"):
        mail_password(mail)
    assert mail_password(_settings(25)) is None  # no login, no password needed


def test_a_password_never_goes_in_clear_to_another_host(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="in clear"):
        _settings(25, host="smtp.example.org", username="briefer")
    assert _settings(25, host="smtp.example.org").security == "none"  # no login: allowed
    assert _settings(2525, username="briefer").host == "127.0.0.1"  # this machine: allowed
