"""Job functions. They take ids, are safe to run twice, and run inside the app context."""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from pathlib import Path

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
    also the SIP and BUS-individ documents still to build."""
    ids = outbox.due_ids(current_app.config["FORMSERVICE_SWEEP_INTERVAL_SECONDS"])
    queue.enqueue_deliveries(ids)
    sweep_documents()
    return len(ids)


def send_reminders() -> int:
    return reminders.send_due()


def build_digest(digest_id: int) -> str:
    """Compile a meeting's digest: DOCX, PDF in parts, attachments; stored whole or not at all."""
    from formservice.documents.pdf import ConversionError
    from formservice.extensions import db
    from formservice.models import Digest
    from formservice.services import digest as service

    row = db.session.get(Digest, digest_id)
    if row is None or row.state == "done":
        return "skipped"
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="formservice-digest-") as folder:
            docx, pdf, case_ids = _compile_digest(row, Path(folder))
            service.progress(digest_id, 95, "Sparar")
            service.finish(digest_id, case_ids, docx, pdf, time.monotonic() - started)
    except ConversionError as exc:
        service.fail(digest_id, str(exc))
        raise
    except Exception:
        service.fail(digest_id, "Ett oväntat fel inträffade när sammanställningen gjordes.")
        raise
    return "done"


def _compile_digest(row, folder: Path) -> tuple[Path, Path, list[int]]:
    """The digest's DOCX and PDF in `folder`, and its case ids. Memory does not grow with the
    number of cases: the documents are written as the cases are read, LibreOffice converts
    the digest in parts, and the PDF is joined from them on disk."""
    from formservice import clock
    from formservice.documents import digest as document
    from formservice.documents import pdfjoin
    from formservice.documents.docx import stream
    from formservice.documents.pdf import Converter
    from formservice.services import digest as service

    service.progress(row.id, 5, "Hämtar ärendena")
    contents = service.gather(row)
    meeting, today = row.meeting, clock.today()

    def write(part: document.Part, path: Path) -> list[int]:
        figures = contents.summary, contents.statistics
        context = document.context(meeting, part, service.case_dicts, *figures, today)
        with path.open("wb") as out:
            return stream("digest.docx", context, out)

    cases = len(contents.case_ids)
    service.progress(row.id, 10, f"Skriver Word-dokumentet ({cases} ärenden)")
    docx = folder / "sammanstallning.docx"
    write(document.whole(contents.sections), docx)
    parts = document.parts(contents.sections, document.PART_SIZE)
    pdfs, levels = [], []
    config = current_app.config
    with Converter(config["FORMSERVICE_SOFFICE"], config["FORMSERVICE_SOFFICE_TIMEOUT"]) as pdf:
        for n, part in enumerate(parts):
            step = f"Gör PDF med LibreOffice (del {n + 1} av {len(parts)})"
            service.progress(row.id, 20 + 60 * n // len(parts), step)
            source = folder / f"del-{n + 1}.docx"
            levels += write(part, source)
            pdfs.append(pdf.convert(source))
    service.progress(row.id, 80, "Lägger till bilagor")
    attached, appendices = _appendices(contents.case_ids, folder, sum(pdfjoin.page_counts(pdfs)))
    result = folder / "sammanstallning.pdf"
    pdfjoin.join(
        [*pdfs, *attached],
        result,
        document.outline(pdfjoin.headings(pdfs), levels, appendices),
        {
            "/Title": f"Sammanställning av avvikelser {meeting.meeting_date}",
            "/Subject": meeting.group.name,
            "/Author": "BUS-formservice",
        },
    )
    return docx, result, contents.case_ids


def _appendices(case_ids: list[int], folder: Path, first_page: int):
    """The reports' PDF attachments as files to append, and where each begins. A file that no
    longer opens is left out (it was checked at upload), not fatal."""
    from formservice.documents import pdfjoin
    from formservice.documents.digest import Appendix
    from formservice.services import digest as service

    files: list[Path] = []
    appendices: list[Appendix] = []
    for n, (case_number, name, data) in enumerate(service.pdf_attachments(case_ids)):
        path = folder / f"bilaga-{n + 1}.pdf"
        path.write_bytes(data)
        try:
            (pages,) = pdfjoin.page_counts([path])
        except pdfjoin.PdfJoinError:
            log.warning("attachment %s of %s left out of the digest: unreadable", n, case_number)
            continue
        files.append(path)
        appendices.append(Appendix(case_number, name, first_page))
        first_page += pages
    return files, appendices


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
