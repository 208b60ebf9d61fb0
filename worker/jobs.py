"""Job functions. They take ids, are safe to run twice, and run inside the app context."""

from __future__ import annotations

import logging
from collections import Counter

from flask import current_app

from formservice import mail, queue
from formservice.services import outbox, reminders

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
    also the SIP kallelse documents still to build."""
    ids = outbox.due_ids(current_app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
    queue.enqueue_deliveries(ids)
    sweep_sip_documents()
    return len(ids)


def send_reminders() -> int:
    return reminders.send_due()


def build_digest(digest_id: int) -> str:
    """Compile a meeting's digest: DOCX, PDF, attachments; stored whole or not at all."""
    from formservice.documents import digest as document
    from formservice.documents.docx import render
    from formservice.documents.pdf import ConversionError, convert
    from formservice.extensions import db
    from formservice.models import Digest
    from formservice.services import digest as service

    row = db.session.get(Digest, digest_id)
    if row is None or row.state == "done":
        return "skipped"
    try:
        service.progress(digest_id, 10, "Hämtar ärendena")
        cases, summary, statistics = service.gather(row)
        service.progress(digest_id, 30, f"Skriver Word-dokumentet ({len(cases)} ärenden)")
        context = document.context(
            row.meeting, cases, summary, statistics, service.today(), service.tz()
        )
        docx = render("digest.docx", context)
        service.progress(digest_id, 55, "Gör PDF med LibreOffice")
        config = current_app.config
        pdf = convert(
            docx, config["FORMSERVICE_SOFFICE"], timeout=config["FORMSERVICE_SOFFICE_TIMEOUT"]
        )
        service.progress(digest_id, 80, "Lägger till bilagor")
        title = f"Sammanställning av avvikelser {row.meeting.meeting_date}"
        pdf = document.assemble(pdf, _pdf_attachments(cases), title, row.meeting.group.name)
        service.progress(digest_id, 95, "Sparar")
        service.finish(digest_id, [c.id for c in cases], docx, pdf)
    except ConversionError as exc:
        service.fail(digest_id, str(exc))
        raise
    except Exception:
        service.fail(digest_id, "Ett oväntat fel inträffade när sammanställningen gjordes.")
        raise
    return "done"


def _pdf_attachments(cases):
    """The reports' PDF attachments, case by case, read one at a time."""
    from formservice.documents.digest import AttachedPdf

    for case in cases:
        for attachment in case.attachments:
            if attachment.file.content_type == "application/pdf":
                yield AttachedPdf(case.case_number, attachment.file.name, attachment.file.data)


def build_bus_individ_documents(record_id: int) -> str:
    """The minutes of one BUS-individ meeting as DOCX and PDF; a second run changes nothing."""
    from formservice.services import bus_individ

    return bus_individ.build_documents(record_id)


def remove_expired_identities() -> dict[str, int]:
    """Daily: remove the child's identity from SIP and BUS-individ records past retention."""
    from formservice.services import retention

    return retention.remove_expired_identities()


def build_sip_documents(sip_id: int) -> str:
    """The kallelse of one sent SIP meeting as DOCX and PDF; a second run changes nothing."""
    from formservice.services import sip

    return sip.build_documents(sip_id)


def sweep_sip_documents() -> int:
    """Queue the kallelse of sent meetings that has neither been built nor failed."""
    from formservice.services import sip

    ids = sip.documents_due(current_app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
    for sip_id in ids:
        queue.enqueue_documents("sip", sip_id)
    return len(ids)
