"""DOCX → PDF/A-2b (tagged) with LibreOffice headless; run by the worker only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

# PDF/A-2b and a tagged (structured) PDF, in LibreOffice's JSON filter-option syntax.
FILTER = (
    'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},'
    '"UseTaggedPDF":{"type":"boolean","value":"true"}}'
)


class ConversionError(Exception):
    """LibreOffice did not produce a PDF; the message says why, without document content.

    `code` ("conversion_failed", "conversion_no_start", "conversion_timeout") and `details`
    are what is stored; the pages render the text from them (templates/html/_status.html)."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def convert(docx: bytes, soffice: str = "soffice", timeout: float = 120) -> bytes:
    """Convert one DOCX in a private profile and folder; kill LibreOffice if it hangs."""
    with Converter(soffice, timeout) as converter:
        source = converter.folder / "document.docx"
        source.write_bytes(docx)
        return converter.convert(source).read_bytes()


class Converter:
    """LibreOffice for one or more conversions in a private profile and folder.

    The profile is made by the first conversion and kept for the next: a digest is converted
    in parts, and a fresh profile costs each start a few seconds more. Each conversion is
    one LibreOffice process, stopped after `timeout` seconds."""

    def __init__(self, soffice: str = "soffice", timeout: float = 120) -> None:
        self.program = shutil.which(soffice) or soffice
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="formservice-pdf-")
        self.folder = Path(self._tmp.name)

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._tmp.cleanup()

    def convert(self, source: Path) -> Path:
        """The PDF of `source` (a DOCX), written beside it."""
        command = [
            self.program,
            f"-env:UserInstallation={(self.folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            FILTER,
            "--outdir",
            str(source.parent),
            str(source),
        ]
        _run(command, self.timeout, env={**os.environ, "HOME": str(self.folder)})
        result = source.with_suffix(".pdf")
        if not result.exists() or result.stat().st_size == 0:
            raise ConversionError(
                "conversion_failed", "LibreOffice kunde inte omvandla dokumentet till PDF."
            )
        return result


def _run(command: list[str], timeout: float, env: dict[str, str]) -> None:
    """Run LibreOffice in its own process group, so a hang kills soffice.bin too."""
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    except OSError as exc:
        raise ConversionError(
            "conversion_no_start",
            f"LibreOffice kunde inte startas ({command[0]}).",
            program=command[0],
        ) from exc
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise ConversionError(
            "conversion_timeout",
            f"LibreOffice svarade inte inom {timeout:.0f} sekunder.",
            seconds=round(timeout),
        ) from exc
