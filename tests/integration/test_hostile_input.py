"""Random, boundary and hostile values posted to the forms: a clear 4xx or form error, never
a 500, never a half-stored record."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from formservice.extensions import db
from formservice.models import Deviation, OutboxMessage
from formservice.tokens import make_token
from tests.support.app import login
from tests.upload_files import EMAIL, HOSTILE, PNR, clean_pdf, clean_word_document

from .helpers import CHEF_A, CHEF_B, form_data, send_report

FIELDS = [
    "reporting_unit",
    "receiving_unit",
    "event_date",
    "categories",
    "description",
    "actions_taken",
    "bus_individ",
    "bus_individ_date",
    "proposal",
    "child_gender",
    "age_group",
    "attest",
    "sip_id",
    "bus_individ_id",
]
hostile_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50),
    st.just("x" * 200_000),
    st.just("'; DROP TABLE deviations; --"),
    st.just("<script>alert(1)</script>"),
    st.just("\x00\ud7ff\ufffe"),
    st.sampled_from(["", " ", "ja", "nej", "2026-02-30", "9999-99-99", "-1", "0", "1e9"]),
)
SLOW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def counts() -> tuple[int, int]:
    deviations = db.session.scalar(select(func.count()).select_from(Deviation))
    messages = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    return deviations, messages


def assert_whole_records() -> None:
    """Every sent report has its messages; no message without its report."""
    db.session.expire_all()
    for deviation in db.session.scalars(select(Deviation)):
        rows = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.deviation_id == deviation.id)
        )
        assert (rows > 0) == (deviation.state != "utkast")


@SLOW
@given(
    overrides=st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=6),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=4),
)
@example(overrides={"description": "\x00\ud7ff\ufffe"}, dropped=set())  # PostgreSQL refuses NUL
def test_deviation_form_never_fails_badly(directory, client, overrides, dropped):
    login(client, CHEF_A)
    data = form_data(**overrides)
    for name in dropped:
        data.pop(name, None)
    response = client.post("/avvikelser/ny", data=data)
    assert response.status_code in (302, 400, 403, 413, 422), response.status_code
    if response.status_code == 422:
        assert "Formuläret innehåller fel" in response.get_data(as_text=True)
    assert_whole_records()


@SLOW
@given(
    overrides=st.dictionaries(
        st.sampled_from(
            [
                "responder_name",
                "assessment",
                "actions_taken",
                "agrees",
                "raise_regional",
                "attest",
                "planned_measures-0-action",
                "planned_measures-0-due",
                "planned_measures-7-action",
            ]
        ),
        hostile_text,
        max_size=5,
    )
)
@example(overrides={"responder_name": "Ines\x00", "assessment": "\x00"})
def test_answer_by_link_never_fails_badly(directory, client, overrides):
    deviation = db.session.scalar(select(Deviation)) or send_report()
    token = make_token(deviation.id, CHEF_B, deviation.link_version)
    data = {"responder_name": "Ines Sved", "assessment": "Bedömning.", "agrees": "ja"}
    data.update(overrides)
    response = client.post(f"/svara/{token}", data=data)
    assert response.status_code in (200, 410, 422), response.status_code
    assert_whole_records()


def test_unknown_ids_and_wrong_types_are_404(directory, client):
    login(client, CHEF_A)
    for url in (
        "/avvikelser/0",
        "/avvikelser/2147483648",
        "/avvikelser/abc",
        "/avvikelser/1/bilagor/999",
        "/avvikelser/-1",
        "/svara/" + "A" * 5000,
    ):
        assert client.get(url).status_code in (400, 404), url


def test_missing_and_wrong_csrf_tokens_are_refused(directory, app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/logga-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/logga-in", data={"email": CHEF_A, "password": "x"}).status_code == 400
    wrong = {"email": CHEF_A, "password": "x", "csrf_token": token[:-2] + "zz"}
    assert client.post("/logga-in", data=wrong).status_code == 400
    good = client.post("/logga-in", data={"email": CHEF_A, "password": "x", "csrf_token": token})
    assert good.status_code == 401  # wrong password, but the token was accepted
    before = counts()
    response = client.post("/avvikelser/ny", data=form_data())
    assert response.status_code in (302, 400)  # not logged in → login, or CSRF → 400
    assert counts() == before


def test_hostile_uploads_are_refused_with_a_form_error(directory, client):
    login(client, CHEF_A)
    cases = [
        (b"", "tom.pdf"),
        (b"%PDF-1.4\n" + b"0" * 100, "trasig.pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 50, "../../../etc/passwd.pdf"),
        (b"PK\x03\x04" + b"\x00" * 100, "falsk.docx"),
        (b"GIF89a" + b"0" * 30, "bild.gif"),
    ]
    for payload, name in cases:
        data = form_data()
        data["attachments"] = [(io.BytesIO(payload), name)]
        response = client.post("/avvikelser/ny", data=data, content_type="multipart/form-data")
        assert response.status_code == 422, name
        body = response.get_data(as_text=True)
        assert "Bilagor:" in body and "/etc/" not in body.split("<main")[1].split("</form>")[0]
    assert counts() == (0, 0)


def test_hostile_documents_are_refused_naming_bilagor(directory, client):
    """Each hostile DOCX and PDF (personal data or active content anywhere in the file) gets
    its own Swedish error under "Bilagor", without echoing what was found; nothing is stored."""
    login(client, CHEF_A)
    wrong = {}
    for case in HOSTILE:
        data = form_data()
        data["attachments"] = [(io.BytesIO(case.build()), case.filename)]
        response = client.post("/avvikelser/ny", data=data, content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        error = f"Bilagor: Filen ”{case.filename}” {case.says}"
        if response.status_code != 422 or error not in page or PNR in page or EMAIL in page:
            wrong[case.id] = response.status_code
    assert wrong == {}
    assert counts() == (0, 0)


def test_clean_documents_with_comments_and_metadata_are_stored(directory, client):
    login(client, CHEF_A)
    data = form_data()
    data["attachments"] = [
        (io.BytesIO(clean_word_document()), "protokoll.docx"),
        (io.BytesIO(clean_pdf()), "underlag.pdf"),
    ]
    response = client.post("/avvikelser/ny", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    deviation = db.session.scalar(select(Deviation))
    assert sorted(a.file.name for a in deviation.attachments) == ["protokoll.docx", "underlag.pdf"]


def test_oversize_request_gets_a_clear_413_page(directory, client, app):
    login(client, CHEF_A)
    app.config["MAX_CONTENT_LENGTH"] = 1024
    data = form_data(description="x" * 5000)
    response = client.post("/avvikelser/ny", data=data)
    assert response.status_code == 413
    assert "För stor fil" in response.get_data(as_text=True)


def test_nul_character_is_refused_naming_the_field(directory, client):
    login(client, CHEF_A)
    before = counts()
    response = client.post("/avvikelser/ny", data=form_data(description="Remissen\x00 kom inte."))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Beskrivning av avvikelsen: texten innehåller ett otillåtet tecken (NUL)." in page
    assert counts() == before
