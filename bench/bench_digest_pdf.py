"""Digest PDF for 1,000 cases with 100 PDF attachments: the worker's whole `build_digest` job
(gather, DOCX, LibreOffice to PDF/A in parts, the parts and attachments joined with
bookmarks, both files stored),
run in this process in a fresh app context as the AppWorker runs it, against one LibreOffice
conversion of the same DOCX (same PDF/A filter, a ready profile) plus one pypdf merge of the
same 100 files.

    .venv/bin/python -m bench.bench_digest_pdf [--cases 1000 --attachments 100 --repeat 1]

Target: formservice <= 1.3 x baseline. Exit status 1 if missed.
"""

from __future__ import annotations

import argparse
import io
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from formservice.documents.digest import PART_SIZE

from . import _digest, common

TARGET = 1.3


def formservice_job(app, digest_id: int) -> tuple[float, bytes, bytes]:
    """build_digest as the worker runs it; the stored DOCX and PDF."""
    from formservice.extensions import db
    from formservice.models import Digest
    from formservice.services import files
    from worker.jobs import build_digest

    with app.app_context():
        t0 = time.perf_counter()
        result = build_digest(digest_id)
        seconds = time.perf_counter() - t0
        row = db.session.get(Digest, digest_id)
        assert row is not None
        if result != "done" or row.state != "done":
            raise RuntimeError(f"digest {digest_id}: {result}, {row.state}, {row.error}")
        assert row.docx_file is not None and row.pdf_file is not None
        docx, pdf = files.read(row.docx_file), files.read(row.pdf_file)
        db.session.rollback()
    return seconds, docx, pdf


def attachments(app, group_id: str) -> list[bytes]:
    from sqlalchemy import select

    from formservice.extensions import db
    from formservice.models import Attachment, Deviation, StoredFile

    with app.app_context():
        query = (
            select(StoredFile.data)
            .join(Attachment, Attachment.file_id == StoredFile.id)
            .join(Deviation, Deviation.id == Attachment.deviation_id)
            .where(Deviation.group_id == group_id, StoredFile.content_type == "application/pdf")
            .order_by(Deviation.case_number)
        )
        return list(db.session.scalars(query))


def baseline(docx: bytes, files: list[bytes], profile: Path) -> tuple[float, bytes]:
    """One `soffice --convert-to` of the DOCX and one pypdf merge of the files onto it."""
    from pypdf import PdfReader, PdfWriter

    from formservice.documents.pdf import FILTER

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "digest.docx"
        source.write_bytes(docx)
        t0 = time.perf_counter()
        subprocess.run(
            [
                shutil.which("soffice") or "soffice",
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                FILTER,
                "--outdir",
                tmp,
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=3600,
        )
        writer = PdfWriter(clone_from=PdfReader(Path(tmp) / "digest.pdf"))
        for data in files:
            writer.append(PdfReader(io.BytesIO(data)))
        out = io.BytesIO()
        writer.write(out)
        return time.perf_counter() - t0, out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--attachments", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    common.print_machine()
    group = "bench-pdf"
    fs_times, base_times = [], []
    with (
        _digest.digest_database({group: args.cases}, {group: args.attachments}) as (app, _, ids),
        tempfile.TemporaryDirectory(prefix="formservice-bench-profile-") as profile_dir,
    ):
        files = attachments(app, group)
        profile = Path(profile_dir)
        # make the baseline's LibreOffice profile once, outside the timing
        from formservice.documents.docx import render  # noqa: F401  (warm imports)
        from formservice.documents.pdf import convert

        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                profile_dir,
                str(common.ROOT / "templates" / "docx" / "deviation.docx"),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        del convert
        for n in range(args.repeat):
            common.log(f"run {n + 1}/{args.repeat}: formservice (build_digest)")
            digest_id = _digest.new_digest(app, ids[group])
            seconds, docx, pdf = formservice_job(app, digest_id)
            fs_times.append(seconds)
            common.log(f"run {n + 1}/{args.repeat}: baseline (soffice + pypdf)")
            seconds, merged = baseline(docx, files, profile)
            base_times.append(seconds)
    from pypdf import PdfReader

    fs_pages = len(PdfReader(io.BytesIO(pdf)).pages)
    base_pages = len(PdfReader(io.BytesIO(merged)).pages)
    fs, base = common.median(fs_times), common.median(base_times)
    print(f"\nDigest PDF: {args.cases} cases, {len(files)} PDF attachments")
    print(f"{'':<40} {'seconds':>9} {'pages':>7} {'bytes':>12}")
    print(f"{'formservice build_digest (whole job)':<40} {fs:>9.2f} {fs_pages:>7} {len(pdf):>12,}")
    print(f"{'baseline soffice + pypdf merge':<40} {base:>9.2f} {base_pages:>7} {len(merged):>12,}")
    ratio = fs / base
    parts = math.ceil(args.cases / PART_SIZE)
    print(f"\nratio {ratio:.2f} (runs: formservice {fs_times}, baseline {base_times})")
    verdicts = [
        common.Verdict(
            "digest PDF vs baseline", f"{ratio:.2f} x", f"<= {TARGET} x", ratio <= TARGET
        ),
        common.Verdict(  # every part LibreOffice converts begins on a page of its own
            "same pages (a part may end on a page of its own)",
            f"{fs_pages} / {base_pages}",
            f"equal, or up to {parts - 1} more",
            base_pages <= fs_pages <= base_pages + parts - 1,
        ),
    ]
    return common.report(
        verdicts,
        "digest_pdf",
        {"formservice_s": fs, "baseline_s": base, "ratio": ratio, "pages": fs_pages},
    )


if __name__ == "__main__":
    sys.exit(main())
