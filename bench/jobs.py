"""Job functions for the baselines; the worker imports them by name (PYTHONPATH has the root)."""

from __future__ import annotations

import os
import smtplib

_state: dict[str, object] = {}


def noop(message_id: int) -> str:
    """The trivial job of the delivery baseline: takes an id like `deliver`, does nothing."""
    return "done"


def floor_deliver(message_id: int) -> str:
    """The least work a delivery with at-most-once sending can do, hand-written: claim the row
    (UPDATE ... RETURNING, COMMIT), hand a prepared message to the SMTP server over a kept
    connection, mark the row sent (UPDATE, COMMIT). No ORM, no template, no app."""
    return _floor(message_id, synchronous=True)


def floor_deliver_async_commit(message_id: int) -> str:
    """As `floor_deliver`, with synchronous_commit off: commits do not wait for the disk."""
    return _floor(message_id, synchronous=False)


def _floor(message_id: int, synchronous: bool) -> str:
    import psycopg

    conn = _state.get("db")
    if conn is None:
        url = os.environ["FORMSERVICE_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
        conn = _state["db"] = psycopg.connect(url)
        if not synchronous:
            conn.execute("SET synchronous_commit = off")
            conn.commit()
    smtp = _state.get("smtp")
    if smtp is None:
        smtp = _state["smtp"] = smtplib.SMTP(
            os.environ["FORMSERVICE_SMTP_HOST"], int(os.environ["FORMSERVICE_SMTP_PORT"])
        )
    row = conn.execute(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1 "
        "WHERE id = %s AND state = 'pending' RETURNING to_email, message_id",
        (message_id,),
    ).fetchone()
    conn.commit()
    if row is None:
        return "skipped"
    to, mid = row
    body = (
        f"From: bus-formservice@localhost\r\nTo: {to}\r\nMessage-ID: {mid}\r\n"
        "Subject: Ny avvikelse\r\n\r\nEn ny avvikelse väntar på svar.\r\n"
    ).encode()
    smtp.sendmail("bus-formservice@localhost", [to], body)
    conn.execute("UPDATE outbox SET state = 'sent', sent_at = now() WHERE id = %s", (message_id,))
    conn.commit()
    return "sent"
