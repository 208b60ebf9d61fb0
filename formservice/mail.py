"""Render one outbox message and hand it to the SMTP server."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app, render_template

from .models import OutboxMessage
from .tokens import make_token


class DeliveryError(Exception):
    """The server did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def render(message: OutboxMessage) -> EmailMessage:
    """Build the e-mail; its text comes from templates/email/<kind>.txt (subject first)."""
    config = current_app.config
    context = dict(message.context)
    context["link"] = _link(message)
    text = render_template(f"email/{message.kind}.txt", **context)
    subject, _, body = text.partition("\n")
    email = EmailMessage()
    email["Subject"] = subject.removeprefix("Ämne:").strip()
    email["From"] = config["FORMSERVICE_MAIL_FROM"]
    email["To"] = message.to_email
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(body.lstrip("\n"))
    return email


def _link(message: OutboxMessage) -> str:
    base = current_app.config["FORMSERVICE_BASE_URL"].rstrip("/")
    context = message.context
    if context.get("bus_individ_id"):
        return f"{base}/bus-individ/{int(context['bus_individ_id'])}"
    if context.get("sip_id"):
        return f"{base}/sip/{int(context['sip_id'])}"
    if message.deviation_id is None:
        return base + "/"
    if context.get("respond"):
        token = make_token(message.deviation_id, message.to_email, context["link_version"])
        return f"{base}/svara/{token}"
    return f"{base}/avvikelser/{message.deviation_id}"


def send(email: EmailMessage) -> None:
    """One SMTP conversation; raise DeliveryError with the server's verdict."""
    config = current_app.config
    host, port = config["FORMSERVICE_SMTP_HOST"], config["FORMSERVICE_SMTP_PORT"]
    tls, timeout = config["FORMSERVICE_SMTP_TLS"], config["FORMSERVICE_SMTP_TIMEOUT"]
    try:
        client_class = smtplib.SMTP_SSL if tls == "ssl" else smtplib.SMTP
        with client_class(host, port, timeout=timeout) as client:
            if tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config["FORMSERVICE_SMTP_USER"]:
                client.login(config["FORMSERVICE_SMTP_USER"], config["FORMSERVICE_SMTP_PASSWORD"])
            client.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(f"recipient refused ({codes})", all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {exc.smtp_code}", exc.smtp_code >= 500) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(type(exc).__name__, False) from exc
