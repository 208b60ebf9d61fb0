"""Files stored from disk in chunks: written and sent a piece at a time, read back whole."""

from __future__ import annotations

import hashlib
import os
import threading

from sqlalchemy import func, select

from formservice.extensions import db
from formservice.models import StoredFile, StoredFileChunk
from formservice.services import files
from formservice.views.files import send_stored


def download(app, path: str):
    """GET in a thread of its own, as a server runs a request: outside the test's app context,
    so the request's session is removed when the view returns, before the body is sent."""
    responses = []
    client = app.test_client()
    thread = threading.Thread(target=lambda: responses.append(client.get(path, buffered=True)))
    thread.start()
    thread.join()
    return responses[0]


def test_a_file_from_disk_is_stored_in_chunks_and_read_back(app, tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK_SIZE", 1000)
    data = os.urandom(5500)
    path = tmp_path / "sammanställning.pdf"
    path.write_bytes(data)
    stored = files.store("sammanställning.pdf", files.PDF_TYPE, path)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(StoredFile, stored.id)
    assert (stored.size, stored.sha256) == (5500, hashlib.sha256(data).hexdigest())
    assert stored.data is None
    pieces = list(files.chunks(stored))
    assert [len(p) for p in pieces] == [1000] * 5 + [500]
    assert files.read(stored) == data

    app.add_url_rule(  # sent as a view sends it: read after the request's session is gone
        "/prov/<int:file_id>",
        "prov",
        lambda file_id: send_stored(db.session.get(StoredFile, file_id)),
    )
    response = download(app, f"/prov/{stored.id}")
    assert response.status_code == 200 and response.data == data
    assert response.content_length == 5500
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=sammanstallning.pdf;")
    assert "filename*=UTF-8''sammanst%C3%A4llning.pdf" in disposition
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"

    files.delete_files([stored.id])
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StoredFileChunk)) == 0
    assert db.session.get(StoredFile, stored.id) is None


def test_a_file_stored_whole_is_one_chunk(app):
    stored = files.new_file("bilaga.pdf", files.PDF_TYPE, b"%PDF-1.4 liten")
    db.session.add(stored)
    db.session.commit()
    assert list(files.chunks(stored)) == [b"%PDF-1.4 liten"]
    with app.test_request_context():
        response = send_stored(stored)
        assert b"".join(response.response) == b"%PDF-1.4 liten"
    assert response.headers["Content-Disposition"] == "attachment; filename=bilaga.pdf"
