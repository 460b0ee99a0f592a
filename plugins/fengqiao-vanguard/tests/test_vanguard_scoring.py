"""The scoring rules as plain arithmetic: star bands, bonus clipping, deductions, veto."""

from __future__ import annotations

import pytest

from fengqiao_vanguard.indicators import DEFAULT_BANDS, DEFAULT_BONUS_CAP, DEFAULT_INDICATORS
from fengqiao_vanguard.models import Indicator, IndicatorSet
from fengqiao_vanguard.scoring import compute, stars_for


def default_set(bands=None) -> IndicatorSet:
    return IndicatorSet(bands=list(bands or DEFAULT_BANDS), bonus_cap=DEFAULT_BONUS_CAP,
                        indicators=[Indicator(code=c, name=n, kind=k, max_points=m, position=i)
                                    for i, (c, n, k, m) in enumerate(DEFAULT_INDICATORS)])


@pytest.mark.parametrize(("score", "stars"), [
    (0, 0), (59.5, 0), (59.99, 0), (60, 1), (69.9, 1), (70, 2), (79.5, 2), (80, 3), (89.9, 3),
    (90, 4), (95, 4), (95.5, 4), (96, 5), (100, 5),
])
def test_default_bands(score, stars):
    assert stars_for(score, DEFAULT_BANDS) == stars


def test_bands_are_configurable_per_set():
    assert stars_for(85, [50, 60, 70, 80, 85]) == 5
    assert stars_for(49.9, [50, 60, 70, 80, 85]) == 0


def test_score_from_events_maps_to_bands():
    item_set = default_set()
    result = compute(item_set, [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20), ("service", 19.9)])
    assert (result.score, result.stars, result.vetoed) == (89.9, 3, False)
    result = compute(item_set, [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20), ("service", 20),
                                ("households", 5), ("double_report", 0.5)])
    assert (result.score, result.stars) == (95.5, 4)


def test_basic_item_is_capped_at_its_weight_with_a_note():
    result = compute(default_set(), [("study", 15), ("study", 10)])
    assert result.score == 20
    assert any("学习教育" in n and "超过上限 20" in n for n in result.notes)


def test_bonus_beyond_its_cap_is_clipped_with_a_visible_note():
    item_set = default_set()
    basics = [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20)]  # 70
    result = compute(item_set, [*basics, ("honours", 8), ("double_report", 6)])  # bonus 14 > cap 10
    assert result.bonus == 10 and result.score == 80 and result.stars == 3
    assert result.notes == ["加分合计 14 分，超过加分上限 10 分，按 10 分计"]
    result = compute(item_set, [*basics, ("micro_wish", 7)])  # the item's own cap is 5
    assert result.score == 75
    assert result.notes == ["加分项「认领微心愿」申报 7 分，超过上限 5 分，按 5 分计"]


def test_deductions_subtract_and_the_score_never_goes_below_zero():
    item_set = default_set()
    assert compute(item_set, [("study", 20), ("org_life", 20), ("dues", 10), ("posts", 20), ("service", 20),
                              ("absence", 5)]).score == 85
    assert compute(item_set, [("study", 3), ("complaint", 10)]).score == 0


def test_total_is_clamped_to_100():
    result = compute(default_set(), [(c, m) for c, _, k, m in DEFAULT_INDICATORS if k in ("basic", "bonus")])
    assert result.score == 100 and result.stars == 5


def test_veto_means_no_star_whatever_the_score():
    full = [(c, m) for c, _, k, m in DEFAULT_INDICATORS if k == "basic"]
    result = compute(default_set(), [*full, ("discipline", 0)])
    assert result.score == 100
    assert result.vetoed is True and result.stars == 0
    assert any("一票否决" in n and "受到党纪政务处分" in n for n in result.notes)


def test_events_under_indicators_missing_from_the_set_are_not_counted():
    result = compute(default_set(), [("study", 10), ("retired_item", 30)])
    assert result.score == 10
    assert any("retired_item" in n for n in result.notes)
