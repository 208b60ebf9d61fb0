"""Job functions. They take ids, are safe to run twice, and run inside the app context."""

from __future__ import annotations

import logging

from flask import current_app

from formservice import mail, queue
from formservice.services import outbox, reminders

log = logging.getLogger(__name__)


def deliver(message_id: int) -> str:
    """Send one outbox row; a row already sent or taken by another worker is left alone."""
    message = outbox.claim(message_id)
    if message is None:
        return "skipped"
    config = current_app.config
    try:
        mail.send(mail.render(message))
    except mail.DeliveryError as exc:
        log.warning("delivery of outbox row %s failed: %s", message_id, exc)
        outbox.mark_failed(
            message,
            str(exc),
            permanent=exc.permanent,
            attempts=config["FORMSERVICE_DELIVERY_ATTEMPTS"],
            backoff=config["FORMSERVICE_DELIVERY_BACKOFF_SECONDS"],
        )
        return "failed" if message.state == "failed" else "retry"
    outbox.mark_sent(message)
    return "sent"


def sweep_outbox() -> int:
    """Enqueue pending rows older than a minute and rows whose retry is due."""
    ids = outbox.due_ids(min_age_seconds=60)
    queue.enqueue_deliveries(ids)
    return len(ids)


def send_reminders() -> int:
    return reminders.send_due()
