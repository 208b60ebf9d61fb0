"""The access log never holds a responder token."""

from types import SimpleNamespace

from gunicorn.config import Config

from formservice.server import RedactingLogger


def test_access_log_atoms_hide_responder_tokens():
    logger = RedactingLogger(Config())
    req = SimpleNamespace(
        headers=[],
        method="GET",
        path="/svara/eyJkIjo.secret.sig",
        query="",
        version=(1, 1),
        uri="/svara/eyJkIjo.secret.sig",
    )
    resp = SimpleNamespace(status="200 OK", response_length=10, sent=10, headers=[])
    environ = {
        "RAW_URI": "/svara/eyJkIjo.secret.sig/vidare",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/svara/x",
    }
    from datetime import timedelta

    atoms = logger.atoms(resp, req, environ, timedelta(seconds=0.01))
    assert "secret" not in atoms["U"] and "secret" not in atoms["r"]
    assert atoms["r"].startswith("GET /svara/[token]")


def test_access_log_atoms_hide_tokens_in_the_referer():
    """A form posted from a /svara/ page carries the token in its Referer (same-origin)."""
    from datetime import timedelta

    logger = RedactingLogger(Config())
    referer = "https://bus.stad.example/svara/eyJkIjo.secret.sig"
    req = SimpleNamespace(
        headers=[("REFERER", referer)],
        method="POST",
        path="/svara/eyJkIjo.secret.sig",
        query="",
        version=(1, 1),
        uri="/svara/eyJkIjo.secret.sig",
    )
    resp = SimpleNamespace(status="200 OK", response_length=10, sent=10, headers=[])
    environ = {
        "RAW_URI": "/svara/eyJkIjo.secret.sig",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/svara/eyJkIjo.secret.sig",
        "HTTP_REFERER": referer,
    }
    atoms = logger.atoms(resp, req, environ, timedelta(seconds=0.01))
    leaked = [key for key, value in atoms.items() if "secret" in str(value)]
    assert leaked == []
    assert atoms["f"] == "https://bus.stad.example/svara/[token]"


def test_access_log_atoms_hide_invitation_and_reset_tokens():
    """Invitation and reset links carry their token in the path too (issue 14), and so do
    the supplement links and the links of decided measures (issue 17)."""
    from datetime import timedelta

    logger = RedactingLogger(Config())
    paths = (
        "/inbjudan/eyJ1Ijo.secret.sig",
        "/aterstall/eyJ1Ijo.secret.sig",
        "/komplettera/eyJkIjo.secret.sig",
        "/atgard/eyJtIjo.secret.sig",
    )
    for path in paths:
        referer = f"https://bus.stad.example{path}"
        req = SimpleNamespace(
            headers=[("REFERER", referer)],
            method="POST",
            path=path,
            query="",
            version=(1, 1),
            uri=path,
        )
        resp = SimpleNamespace(status="302 FOUND", response_length=0, sent=0, headers=[])
        environ = {
            "RAW_URI": path,
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "HTTP_REFERER": referer,
        }
        atoms = logger.atoms(resp, req, environ, timedelta(seconds=0.01))
        assert [key for key, value in atoms.items() if "secret" in str(value)] == []
        assert atoms["U"].endswith("/[token]")
