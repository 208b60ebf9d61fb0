"""The rules for versions of the form's categories (domain.deviation), without a database."""

from __future__ import annotations

import pytest

from formservice.domain.deviation import (
    DEFAULT_CATEGORIES,
    CategoryError,
    next_categories,
    slug,
    statistics_categories,
)

V1 = [{"code": code, "label": label} for code, label in DEFAULT_CATEGORIES]


def test_the_default_codes_are_the_slugs_of_their_labels_and_distinct():
    assert [slug(label) for _, label in DEFAULT_CATEGORIES] == [c for c, _ in DEFAULT_CATEGORIES]
    assert slug("Övrigt", taken={"ovrigt", "ovrigt-2"}) == "ovrigt-3"
    assert slug("!!!") == "kategori"


def test_next_categories_renames_in_place_retires_and_adds_last():
    v2 = next_categories(V1, {"ovrigt"}, rename={"ovrigt": "Annat"}, add=["Ny kategori"])
    assert v2[-2:] == [
        {"code": "ovrigt", "label": "Annat"},
        {"code": "ny-kategori", "label": "Ny kategori"},
    ]
    v3 = next_categories(v2, {c["code"] for c in v2}, retire=["ovrigt"], add=["Övrigt"])
    assert "ovrigt" not in [c["code"] for c in v3]
    assert v3[-1] == {"code": "ovrigt-2", "label": "Övrigt"}  # a code is never reused


@pytest.mark.parametrize(
    "change",
    [
        {"rename": {"finns-inte": "X"}},
        {"retire": ["finns-inte"]},
        {"rename": {"ovrigt": "  "}},
        {"add": ["Övrigt"]},
        {"retire": [c for c, _ in DEFAULT_CATEGORIES]},
    ],
)
def test_next_categories_refuses_what_would_break_the_form(change):
    with pytest.raises(CategoryError):
        next_categories(V1, [c["code"] for c in V1], **change)


def test_statistics_label_by_the_newest_version_current_first_then_retired():
    v2 = next_categories(
        V1, [], rename={"ovrigt": "Annat"}, retire=["vantetid-eller-tillganglighet"]
    )
    order = statistics_categories([V1, v2])
    assert order[: len(v2)] == [(c["code"], c["label"], True) for c in v2]
    assert order[len(v2) :] == [
        ("vantetid-eller-tillganglighet", "Väntetid eller tillgänglighet", False)
    ]
