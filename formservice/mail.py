"""Render one outbox message and hand it to the SMTP server."""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for

from .models import OutboxMessage
from .models.outbox import ACCOUNT_KINDS
from .tokens import make_measure_token, make_supplement_token, make_token

#: Where an account e-mail's link leads (views/auth/links.py).
ACCOUNT_LINK_ENDPOINTS = {"invitation": "auth.invitation", "password_reset": "auth.reset"}


class DeliveryError(Exception):
    """The server did not take the message; `permanent` when retrying cannot help,
    `server_down` when the next message would fare no better (no answer, a dropped
    connection, a refusal before any recipient), unlike a refusal of this one message."""

    def __init__(self, message: str, permanent: bool, server_down: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.server_down = server_down


def kinds() -> list[str]:
    """Every message kind: one template in templates/email/ each (`_`-files are parts)."""
    templates = current_app.template_folder
    assert templates is not None, "create_app sets the template folder"
    folder = Path(templates) / "email"
    return sorted(p.stem for p in folder.glob("*.txt") if not p.name.startswith("_"))


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
    if context.get("calendar"):
        _attach_calendar(email, context["calendar"], message)
    return email


def _attach_calendar(email: EmailMessage, event: dict, message: OutboxMessage) -> None:
    """The meeting's .ics (time and kind of meeting only), as the row said when written."""
    from .services.calendar import render as render_calendar

    stamp = message.created_at or datetime.now(UTC)
    data = render_calendar(event, stamp)
    email.add_attachment(
        data,
        maintype="text",
        subtype="calendar",
        filename="mote.ics",
        params={"method": event["method"], "charset": "utf-8"},
    )


def _link(message: OutboxMessage) -> str:
    """The page the message is about, as a full URL under FORMSERVICE_BASE_URL."""
    context = message.context
    if message.kind in ACCOUNT_KINDS:
        token = _account_token(message)
        with _under_base_url():
            return url_for(ACCOUNT_LINK_ENDPOINTS[message.kind], token=token)
    with _under_base_url():
        if context.get("bus_individ_id"):
            return url_for("bus_individ.show", record_id=int(context["bus_individ_id"]))
        if context.get("sip_id"):
            return url_for("sip.show", sip_id=int(context["sip_id"]))
        if context.get("measure_id"):
            token = make_measure_token(int(context["measure_id"]), message.to_email)
            return url_for("measures.by_link", token=token)
        if context.get("meeting_id"):
            return url_for("meetings.show", meeting_id=int(context["meeting_id"]))
        if message.deviation_id is None:
            return url_for("deviations.index")
        if context.get("supplement"):
            token = make_supplement_token(
                message.deviation_id, message.to_email, context["link_version"]
            )
            return url_for("feedback.link_show", token=token)
        if context.get("respond"):
            token = make_token(message.deviation_id, message.to_email, context["link_version"])
            return url_for("respond.show", token=token)
        return url_for("deviations.show", deviation_id=message.deviation_id)


def _account_token(message: OutboxMessage) -> str:
    """The invitation or reset link's token, made now for the person's current version."""
    from .services.accounts import link_token

    token = link_token(message.kind, message.to_email)
    if token is None:  # left the directory after the row was claimed
        raise DeliveryError("recipient_inactive", permanent=True)
    return token


@contextmanager
def _under_base_url() -> Iterator[None]:
    """An app context in which `url_for` builds external URLs under FORMSERVICE_BASE_URL:
    its scheme, host, port and path prefix. The worker has no request to take them from, and
    SERVER_NAME is not set (it would bind the site's own requests to one host name), so this
    context gets a URL adapter of its own, bound to the base URL."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    base = urlsplit(app.config["FORMSERVICE_BASE_URL"])
    context = app.app_context()
    context.url_adapter = app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme
    )
    with context:
        yield


def send(email: EmailMessage) -> None:
    """Hand one message to the SMTP server; raise DeliveryError with the server's verdict.

    The connection stays open for the worker's next message (connect, EHLO, STARTTLS, login
    and QUIT were 40 % of the SMTP work per message; docs/performance.md). Before it is
    reused, RSET checks that the server is still there, so a connection the server closed
    while idle is replaced before anything is sent. After any error the connection is closed
    and the next message opens a new one, as every message did before."""
    config = current_app.config
    settings = tuple(config[f"FORMSERVICE_SMTP_{key}"] for key in _SMTP_KEYS)
    try:
        _connection(settings).send_message(email)
    except BaseException as exc:
        _drop_connection()
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(c >= 500 for c in codes)
            raise DeliveryError(f"recipient refused ({codes})", permanent) from exc
        if isinstance(exc, smtplib.SMTPDataError):  # this message's content was refused
            raise DeliveryError(f"SMTP {exc.smtp_code}", exc.smtp_code >= 500) from exc
        if isinstance(exc, smtplib.SMTPResponseException):
            code = exc.smtp_code
            raise DeliveryError(f"SMTP {code}", code >= 500, server_down=True) from exc
        if isinstance(exc, ssl.SSLCertVerificationError):  # retried: the CA may be configured
            reason = f"server certificate not accepted: {exc.verify_message}"
            raise DeliveryError(reason, False, server_down=True) from exc
        if isinstance(exc, smtplib.SMTPException | OSError):
            raise DeliveryError(type(exc).__name__, False, server_down=True) from exc
        raise


_SMTP_KEYS = ("HOST", "PORT", "TLS", "CA_FILE", "TIMEOUT", "USER", "PASSWORD")
_open = threading.local()  # one connection per thread (the worker has one)


def _connection(settings: tuple) -> smtplib.SMTP:
    """The open connection for these settings if the server still answers, else a new one."""
    cached = getattr(_open, "smtp", None)
    if cached is not None:
        key, client = cached
        if key == settings:
            try:
                if client.rset()[0] == 250:
                    return client
            except (smtplib.SMTPException, OSError):
                pass
        _drop_connection()
    host, port, tls, ca_file, timeout, user, password = settings
    if tls == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(ca_file))
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if tls == "starttls":
            client.starttls(context=_tls_context(ca_file))
        if user:
            client.login(user, password)
    except BaseException:
        client.close()
        raise
    _open.smtp = (settings, client)
    return client


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificate and host name checked: against FORMSERVICE_SMTP_CA_FILE when it is set
    (a municipality's own CA), else against the system's CAs."""
    return ssl.create_default_context(cafile=ca_file or None)


def close_connection() -> None:
    """QUIT and close this thread's open connection, if there is one (the worker stops, or a
    burst is over): left to the garbage collector, its socket would be closed unannounced."""
    cached = getattr(_open, "smtp", None)
    _open.smtp = None
    if cached is not None:
        client = cached[1]
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _drop_connection() -> None:
    """Close without QUIT: after an error the server may not answer (a timeout, again)."""
    cached = getattr(_open, "smtp", None)
    _open.smtp = None
    if cached is not None:
        cached[1].close()
