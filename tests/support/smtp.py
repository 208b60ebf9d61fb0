"""An aiosmtpd sink on loopback: the mail server of every test, fault test and benchmark."""

from __future__ import annotations

import threading
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .ports import free_port


class Sink:
    """An aiosmtpd server that keeps what it receives (`keep=False`: only counts it, for a
    benchmark that must not spend the measured machine's time parsing mail)."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, keep: bool = True) -> None:
        self.host, self.port, self.keep = host, port or free_port(), keep
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.count = 0
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        """Keep (or count) the message and accept it."""
        self.accept(envelope.content)
        return "250 OK"

    def accept(self, content: bytes) -> None:
        with self.lock:
            self.count += 1
            if self.keep:
                self.messages.append(message_from_bytes(content, policy=policy.default))

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for `address`."""
        return [m for m in self.messages if m["To"] == address]

    def ids(self) -> Counter:
        """How often each Message-ID was received."""
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.count = 0

    def serve(self, **options: Any) -> Controller:
        """Start an aiosmtpd server that hands this sink what it receives; `options` go to
        aiosmtpd: `ssl_context` for implicit TLS, `tls_context` and `require_starttls=True`
        for STARTTLS. The caller stops the controller it gets."""
        controller = Controller(self, hostname=self.host, port=self.port, **options)
        controller.start()
        return controller

    def start(self, **options: Any) -> Sink:
        """Listen (see `serve`) until `stop()`."""
        self.controller = self.serve(**options)
        return self

    def stop(self) -> None:
        """No listener at all: clients get connection refused."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
