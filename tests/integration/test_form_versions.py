"""The deviation form's versions (SPEC §3): a report renders with the category labels of the
version it was filed on, wherever it is shown; statistics count a category by its code under
its newest label, and keep a retired one for the periods where it was used (both databases)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from docx import Document
from sqlalchemy import select

from formservice.domain.deviation import CategoryError
from formservice.domain.statistics import half_year
from formservice.extensions import db
from formservice.models import AuditEvent, Deviation, FormVersion
from formservice.services import categories, statistics_report
from formservice.services import deviations as deviations_service
from formservice.services.digest import case_dicts, statistics
from tests.support.app import login

from .helpers import ADMIN, CHEF_A, CHEF_B, VANTETID, form_data, report_input, send_report, user

OLD_LABEL = "Väntetid eller tillgänglighet"
NEW_LABEL = "Väntetid, kö eller bristande tillgänglighet"
ADDED = "Brister i dokumentationen"
ADDED_CODE = "brister-i-dokumentationen"
EARLIER = datetime(2025, 3, 3, 9, tzinfo=UTC)  # 2025 H1


def text_of(response) -> str:
    return response.get_data(as_text=True)


def docx_text(response) -> str:
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def sent_earlier(deviation: Deviation) -> Deviation:
    deviation.sent_at = EARLIER
    db.session.commit()
    return deviation


def version_2() -> int:
    return categories.new_version(
        user(ADMIN),
        rename={VANTETID: NEW_LABEL},
        retire=["ovrigt"],
        add=[ADDED],
    )


def by_category(period) -> dict[str, tuple[str, int]]:
    report = statistics_report.group_report("skarpnack", period, today=date(2026, 12, 1))
    return {r["key"]: (r["label"], r["count"]) for r in report["deviations"]["by_category"]}


def test_a_new_version_renames_retires_and_adds_with_an_audit_event(directory):
    assert categories.current_version() == 1
    assert version_2() == 2
    assert categories.current_version() == 2
    current = categories.labels()
    assert current[VANTETID] == NEW_LABEL and current[ADDED_CODE] == ADDED
    assert "ovrigt" not in current
    assert categories.labels(1)[VANTETID] == OLD_LABEL and categories.labels(1)["ovrigt"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "form.version_created"))
    assert event.actor == ADMIN and event.object_id == "2"
    stored = db.session.get(FormVersion, 2).categories
    assert [c["code"] for c in stored][-1] == ADDED_CODE  # added last, in the form's order


def test_a_new_version_keeps_the_rules(directory):
    with pytest.raises(CategoryError):
        categories.new_version(ADMIN, rename={"finns-inte": "X"})
    with pytest.raises(CategoryError):
        categories.new_version(ADMIN, add=[OLD_LABEL])  # two categories with one label
    codes = [code for code, _ in categories.choices()]
    with pytest.raises(CategoryError):
        categories.new_version(ADMIN, retire=codes)  # a form needs a category
    categories.new_version(ADMIN, retire=["ovrigt"])
    categories.new_version(ADMIN, add=["Övrigt"])  # a retired code is never reused
    assert "ovrigt-2" in categories.labels() and "ovrigt" not in categories.labels()
    assert db.session.scalar(select(FormVersion.version).order_by(FormVersion.version.desc())) == 3


def test_old_reports_render_as_filed_and_new_ones_with_the_new_form(client, directory):
    old = sent_earlier(send_report(categories=[VANTETID, "ovrigt"]))
    assert old.form_version == 1
    version_2()
    login(client, CHEF_A)
    form_page = text_of(client.get("/avvikelser/ny"))
    assert NEW_LABEL in form_page and ADDED in form_page and "Övrigt" not in form_page
    response = client.post("/avvikelser/ny", data=form_data(categories=[VANTETID, ADDED_CODE]))
    assert response.status_code == 302
    new = db.session.scalar(select(Deviation).order_by(Deviation.id.desc()))
    assert new.form_version == 2 and new.categories == [VANTETID, ADDED_CODE]

    old_page = text_of(client.get(f"/avvikelser/{old.id}"))
    assert OLD_LABEL in old_page and "Övrigt" in old_page and NEW_LABEL not in old_page
    new_page = text_of(client.get(f"/avvikelser/{new.id}"))
    assert NEW_LABEL in new_page and ADDED in new_page and OLD_LABEL not in new_page
    assert VANTETID not in old_page + new_page  # codes are never shown

    old_docx = docx_text(client.get(f"/avvikelser/{old.id}/avvikelse.docx"))
    assert OLD_LABEL in old_docx and "Övrigt" in old_docx and NEW_LABEL not in old_docx
    new_docx = docx_text(client.get(f"/avvikelser/{new.id}/avvikelse.docx"))
    assert NEW_LABEL in new_docx and ADDED in new_docx and OLD_LABEL not in new_docx

    old_case, new_case = case_dicts([old.id, new.id])  # the digest's cases
    assert old_case["categories"] == [OLD_LABEL, "Övrigt"]
    assert new_case["categories"] == [NEW_LABEL, ADDED]


def test_the_link_answer_page_shows_the_labels_as_filed(client, directory):
    from formservice.tokens import make_token

    old = send_report(categories=[VANTETID])
    version_2()
    page = text_of(client.get(f"/svara/{make_token(old.id, CHEF_B, old.link_version)}"))
    assert OLD_LABEL in page and NEW_LABEL not in page


def test_statistics_count_by_code_under_the_newest_label_and_keep_retired_ones(directory):
    sent_earlier(send_report(categories=[VANTETID, "ovrigt"]))  # on version 1
    version_2()
    sent_earlier(send_report(categories=[VANTETID]))  # on version 2, same period
    send_report(categories=[ADDED_CODE])  # now, on version 2
    earlier = by_category(half_year(2025, 1))
    assert earlier[VANTETID] == (NEW_LABEL, 2)  # renamed: one category, newest label
    assert earlier["ovrigt"] == ("Övrigt", 1)  # retired, still counted where it was used
    assert earlier[ADDED_CODE] == (ADDED, 0)  # on the current form: shown, with no reports
    now = datetime.now(UTC).date()
    current = by_category(half_year(now.year, 1 if now.month <= 6 else 2))
    assert "ovrigt" not in current  # retired and unused in the period: not shown
    assert current[ADDED_CODE] == (ADDED, 1)
    digest_rows = statistics("skarpnack")["by_category"]
    assert [(r["label"], r["count"]) for r in digest_rows] == [(ADDED, 1)]


def test_a_draft_keeps_a_retired_category_visible_but_must_choose_anew(client, directory):
    draft = deviations_service.save(
        user(CHEF_A), report_input(categories=["ovrigt"]), send=False
    ).deviation
    version_2()
    login(client, CHEF_A)
    page = text_of(client.get(f"/avvikelser/{draft.id}/redigera"))
    assert "Övrigt (finns inte längre)" in page and NEW_LABEL in page
    response = client.post(
        f"/avvikelser/{draft.id}/redigera", data=form_data(categories=["ovrigt"])
    )
    assert response.status_code == 422
    assert "Avvikelsen avser: Övrigt finns inte längre på blanketten." in text_of(response)
    response = client.post(
        f"/avvikelser/{draft.id}/redigera", data=form_data(categories=[VANTETID])
    )
    assert response.status_code == 302
    db.session.expire_all()
    sent = db.session.get(Deviation, draft.id)
    assert sent.state == "skickad" and sent.form_version == 2


def test_the_service_refuses_a_category_not_on_the_current_form(directory):
    version_2()
    with pytest.raises(ValueError):
        deviations_service.save(user(CHEF_A), report_input(categories=["ovrigt"]), send=True)
    db.session.rollback()
    assert db.session.scalar(select(Deviation.id)) is None
