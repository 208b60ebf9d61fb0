"""Small-cell suppression of a whole report (SPEC §6): 1 … threshold-1 become "<3"."""

from __future__ import annotations

from formservice.services.statistics_report import suppressed

REPORT = {
    "year": 2026,
    "suppressed_below": None,
    "sip": {
        "total": 6,
        "by_gender": [
            {"key": "flicka", "label": "Flicka", "count": 0},
            {"key": "pojke", "label": "Pojke", "count": 1},
            {"key": "annat", "label": "Annat", "count": 2},
            {"key": "x", "label": "X", "count": 3},
        ],
    },
    "deviations": {
        "total": 2,
        "answers": {
            "answered": 2,
            "in_time": 2,
            "overdue": 0,
            "median_days": 4,
            "share_in_time": 100.0,
        },
    },
    "process": {"total": 10, "short_notice": 1, "short_notice_share": 10.0},
    "flag": True,
}


def test_every_count_becomes_text_and_small_ones_are_hidden():
    result = suppressed(REPORT, 3)
    counts = [row["count"] for row in result["sip"]["by_gender"]]
    assert counts == ["0", "<3", "<3", "3"]
    assert result["sip"]["total"] == "6"
    assert result["deviations"]["total"] == "<3"
    assert result["deviations"]["answers"]["overdue"] == "0"
    assert result["suppressed_below"] == 3


def test_figures_resting_on_a_small_count_are_dropped_and_others_kept():
    result = suppressed(REPORT, 3)
    assert result["deviations"]["answers"]["median_days"] is None  # 2 answers
    assert result["deviations"]["answers"]["share_in_time"] is None
    assert result["process"]["short_notice_share"] is None  # 1 of 10 would reveal the 1
    big = suppressed({"answers": {"answered": 5, "in_time": 3, "median_days": 4}}, 3)
    assert big["answers"]["median_days"] == 4


def test_other_numbers_and_the_original_are_untouched():
    result = suppressed(REPORT, 3)
    assert result["year"] == 2026 and result["flag"] is True
    assert REPORT["sip"]["by_gender"][1]["count"] == 1
    assert REPORT["suppressed_below"] is None


def test_the_threshold_decides():
    assert suppressed({"count": 3}, 4) == {"count": "<4"}
    assert suppressed({"count": 1}, 1) == {"count": "1"}


def _rows(**counts: int) -> list[dict]:
    return [{"key": k, "label": k.title(), "count": n} for k, n in counts.items()]


def test_a_total_beside_one_small_count_hides_a_second_count():
    report = {"bus_individ": {"total": 6, "by_gender": _rows(flicka=5, pojke=1, annat=0)}}
    result = suppressed(report, 3)["bus_individ"]
    assert [row["count"] for row in result["by_gender"]] == ["dolt", "<3", "0"]
    assert result["total"] == "6"


def _half(key: str, answered: int, in_time: int) -> dict:
    answers = {"answered": answered, "in_time": in_time, "overdue": 0, "median_days": 3.0}
    answers["share_in_time"] = round(100 * in_time / answered, 1)
    return {
        "key": key,
        "label": key,
        "total": answered,
        "by_state": _rows(besvarad=answered),
        "by_category": [],
        "by_pair": [],
        "answers": answers,
    }


def test_halves_and_year_add_up_and_shares_of_a_hidden_count_go():
    """H1 + H2 = the year: a small H1 figure hides an H2 figure too, with its share."""
    report = {"deviations": [_half("H1", 10, 1), _half("H2", 10, 9), _half("year", 20, 10)]}
    h1, h2, year = (part["answers"] for part in suppressed(report, 3)["deviations"])
    assert (h1["in_time"], h2["in_time"], year["in_time"]) == ("<3", "dolt", "10")
    assert h1["share_in_time"] is None and h2["share_in_time"] is None
    assert year["share_in_time"] == 50.0 and h2["answered"] == "10"
