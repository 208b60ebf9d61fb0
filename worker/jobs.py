"""Job functions. They take ids, are safe to run twice, and run inside the app context."""

from __future__ import annotations

import logging
from collections import Counter

from flask import current_app

from formservice import mail, queue
from formservice.services import feedback, outbox, reminders

log = logging.getLogger(__name__)


def deliver(*message_ids: int) -> dict[str, int]:
    """Send outbox rows (one report's messages, or what the sweep found); a row already sent or
    taken by another worker is skipped. Counts by outcome: sent, retry, failed, skipped.

    When the server cannot be reached, the job's remaining rows are not tried again: each is
    settled with the same error and retried later, like the one that failed."""
    config = current_app.config
    messages = outbox.claim(message_ids, config["FORMSERVICE_DELIVERY_CLAIM_SECONDS"])
    counts = Counter(skipped=len(set(message_ids)) - len(messages))
    down: mail.DeliveryError | None = None
    for message in messages:
        try:
            if down is not None:
                raise down
            mail.send(mail.render(message))
        except mail.DeliveryError as exc:
            log.warning("delivery of outbox row %s failed: %s", message.id, exc)
            down = exc if exc.server_down else None
            outbox.mark_failed(
                message,
                str(exc),
                permanent=exc.permanent,
                attempts=config["FORMSERVICE_DELIVERY_ATTEMPTS"],
                backoff=config["FORMSERVICE_DELIVERY_BACKOFF_SECONDS"],
            )
            counts["failed" if message.state == "failed" else "retry"] += 1
        else:
            outbox.mark_sent(message)
            counts["sent"] += 1
    return {outcome: n for outcome, n in counts.items() if n}


def sweep_outbox() -> int:
    """Enqueue pending rows older than a minute and rows whose retry is due (the count);
    also the SIP and BUS-individ documents still to build, and give up digests whose worker
    died."""
    from formservice.services import digest

    ids = outbox.due_ids(current_app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
    queue.enqueue_deliveries(ids)
    sweep_documents()
    digest.give_up_stale()
    return len(ids)


def send_reminders() -> int:
    """The daily reminders: answers (chef B), then supplementary answers (issue 17)."""
    return reminders.send_due() + feedback.send_due_reminders()


def detect_patterns() -> int:
    """Daily: tell the groups of recurring deviations (new patterns, and grown ones)."""
    from formservice.services import patterns

    return patterns.notify_due()


def build_digest(digest_id: int) -> str:
    """Compile a meeting's digest (`services.digest.build`); queued by its dotted path."""
    from formservice.services import digest

    return digest.build(digest_id)


def build_bus_individ_documents(record_id: int) -> str:
    """The minutes of one BUS-individ meeting as DOCX and PDF; a second run changes nothing."""
    from formservice.services import record_documents

    return record_documents.build("bus_individ", record_id)


def remove_expired_identities() -> dict[str, int]:
    """Daily: remove the child's identity from SIP and BUS-individ records past retention."""
    from formservice.services import retention

    return retention.remove_expired_identities()


def build_sip_documents(sip_id: int) -> str:
    """The kallelse of one sent SIP meeting as DOCX and PDF; a second run changes nothing."""
    from formservice.services import record_documents

    return record_documents.build("sip", sip_id)


def sweep_documents() -> int:
    """Queue the SIP and BUS-individ documents that have neither been built nor failed
    (their job was never queued, or was lost with Redis); the count."""
    from formservice.services import record_documents

    due = record_documents.due(current_app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
    for kind, record_id in due:
        queue.enqueue_documents(kind, record_id)
    return len(due)
