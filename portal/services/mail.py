"""Outgoing e-mail over SMTP with the standard library (smtplib + email.message): alerts, digests, invitations.

Settings come from the app config or the environment: MAIL_SERVER (empty = mail is off), MAIL_PORT, MAIL_USE_TLS
(STARTTLS), MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM, MAIL_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

log = logging.getLogger(__name__)

DEFAULTS = {
    "MAIL_SERVER": "",
    "MAIL_PORT": "25",
    "MAIL_USE_TLS": "0",
    "MAIL_USE_SSL": "0",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "Wholesync <alerts@wholesync.local>",
    "MAIL_TIMEOUT_SECONDS": "20",
}


class MailNotConfigured(RuntimeError):
    """MAIL_SERVER is not set: nothing can be sent."""


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    use_tls: bool
    use_ssl: bool
    username: str
    password: str
    sender: str
    timeout: float


def _setting(name: str) -> str:
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name, DEFAULTS[name])
    return str(value)


def settings() -> MailSettings:
    """The SMTP settings in force (app config first, then the environment, then the defaults)."""
    flag = lambda name: _setting(name).lower() in ("1", "true", "yes")  # noqa: E731
    return MailSettings(
        server=_setting("MAIL_SERVER"),
        port=int(_setting("MAIL_PORT")),
        use_tls=flag("MAIL_USE_TLS"),
        use_ssl=flag("MAIL_USE_SSL"),
        username=_setting("MAIL_USERNAME"),
        password=_setting("MAIL_PASSWORD"),
        sender=_setting("MAIL_FROM"),
        timeout=float(_setting("MAIL_TIMEOUT_SECONDS")),
    )


def enabled() -> bool:
    """Whether an SMTP server is configured."""
    return bool(settings().server)


def build(to: list[str], subject: str, text: str, html: str | None = None, sender: str | None = None) -> EmailMessage:
    """A message with a plain-text body (and an HTML alternative when given)."""
    message = EmailMessage()
    message["From"] = sender or settings().sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="wholesync.local")
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def send(to: list[str], subject: str, text: str, html: str | None = None) -> EmailMessage:
    """Send one message to `to` over SMTP; MailNotConfigured without a server, smtplib errors as raised."""
    config = settings()
    if not config.server:
        raise MailNotConfigured("MAIL_SERVER is not set")
    message = build(to, subject, text, html, config.sender)
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if config.use_ssl else smtplib.SMTP
    kwargs = {"context": context} if config.use_ssl else {}
    with smtp_class(config.server, config.port, timeout=config.timeout, **kwargs) as smtp:
        if config.use_tls and not config.use_ssl:
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password)
        smtp.send_message(message)
    log.info("mail %r sent to %d recipient(s)", subject, len(to))
    return message
