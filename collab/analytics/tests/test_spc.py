"""XmR charts against NHSRplotthedots' published test vectors and Making Data Count's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collab.analytics.spc import (
    SpcError,
    part_of_run,
    seven_point_one_side,
    seven_point_trend,
    two_in_three,
    xmr,
)

VECTOR = [89, 86, 75, 77, 81, 74, 72, 78, 76, 82, 77, 54, 66, 77, 86]


def test_the_fifteen_point_vector():
    result = xmr(VECTOR)
    p = result.points[0]
    assert round(p.mean, 2) == 76.67
    assert round(p.lpl, 2) == 57.1
    assert round(p.upl, 2) == 96.24
    assert [i + 1 for i, q in enumerate(result.points) if q.special_cause] == [12]
    assert result.points[11].rules == {"outside_limits"}


def test_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges():
    # mean 3, moving ranges 2, 2, 2 -> limits 3 -/+ 5.32
    result = xmr([1, 3, 5, 3])
    assert (result.points[0].mean, result.points[0].lpl, result.points[0].upl) == pytest.approx(
        (3, 3 - 5.32, 3 + 5.32)
    )


# The raw rule functions, with NHSRplotthedots' own vectors.


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([], []),
        ([1, 2, 3, 4, 5, 6], [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),  # a repeat is not an increase
        ([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 1]),  # 1..7 flags only the 7th
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0, 0, 0, 0, 0, 0, 0, 1, 0]),
        ([7, 6, 5, 4, 3, 2, 1], [0, 0, 0, 0, 0, 0, -1]),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0, 0, 0, 0, 0, 0, 0, -1, 0]),
    ],
)
def test_seven_point_trend(y, expected):
    assert seven_point_trend(y) == expected


@pytest.mark.parametrize(
    ("rtm", "expected"),
    [
        ([], []),
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [0, 0, 0, 0, 0, 0, 1, 1, 0]),
        ([-1] * 8 + [1], [0, 0, 0, 0, 0, 0, -1, -1, 0]),
        ([-1] + [1] * 8 + [-1], [0, 0, 0, 0, 0, 0, 0, 1, 1, 0]),
        ([1] * 3 + [0] + [1] * 4, [0] * 8),  # a point on the mean breaks the run
    ],
)
def test_seven_point_one_side(rtm, expected):
    assert seven_point_one_side(rtm) == expected


def test_every_point_of_a_run_is_part_of_it():
    assert part_of_run([]) == []
    assert part_of_run([0] * 6) == [False] * 6
    assert part_of_run([0, 0, 0, 0, 0, 0, 0, 1, 1, 0]) == [False] + [True] * 8 + [False]


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        ([], []),
        ([0, 0, 0], [0, 0, 0]),
        ([1, 0, 1], [1, 0, 1]),
        ([0, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0]),
        ([1, 0, 0, 1], [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1]),
    ],
)
def test_two_in_three_flags_only_the_close_points(close, expected):
    same_side = [1] * len(close)
    assert two_in_three(close, same_side) == [bool(v) for v in expected]


def test_two_in_three_needs_all_three_on_one_side():
    assert two_in_three([1, 0, 1], [1, -1, 1]) == [False] * 3
    assert two_in_three([1, 0, 1], [1, 0, 1]) == [False] * 3


# The rules inside a chart.


def test_a_rising_run_in_a_chart_makes_all_seven_points_special():
    ys = [10, 12, 9, 11, 10, 12, 9, 11, 10, 11, 12, 13, 14, 15, 16]
    result = xmr(ys, improvement="increase")
    trend = [i for i, p in enumerate(result.points) if "trend" in p.rules]
    assert trend == list(range(8, 15))


def test_shift_of_seven_above_the_mean_is_special_cause():
    ys = [5, 4, 6, 5, 4, 6, 5, 4, 6, 7, 6, 7, 6, 7, 6, 7]
    result = xmr(ys, baseline=9)
    shift = [i for i, p in enumerate(result.points) if "shift" in p.rules]
    assert shift == list(range(8, 16))  # baseline mean 5: the 9th point (6) starts the run
    assert result.variation == "neutral_high"


def test_two_of_three_close_to_the_upper_limit():
    # baseline mean 10, mean moving range 1 -> limits 7.34..12.66, close beyond 11.773
    ys = [10, 11, 10, 9, 10, 11, 10, 9, 10, 12, 10.5, 12.2, 10]
    result = xmr(ys, baseline=9, screen_outliers=False)
    assert result.points[0].upl == pytest.approx(12.66)
    assert [i for i, p in enumerate(result.points) if "two_in_three" in p.rules] == [9, 11]
    assert not result.points[10].special_cause


def test_frozen_baseline_keeps_limits_from_the_first_points():
    ys = [10, 11, 10, 11, 10, 11, 50, 60, 70]
    frozen = xmr(ys, baseline=6)
    assert {p.mean for p in frozen.points} == {10.5}
    assert all(p.outside_limits for p in frozen.points[6:])
    assert xmr(ys).points[0].mean == pytest.approx(sum(ys) / len(ys))


def test_rebasing_gives_each_segment_its_own_limits():
    ys = [10, 11, 10, 11, 10, 11, 20, 21, 20, 21, 20, 21]
    once = xmr(ys)
    rebased = xmr(ys, rebase_at=[6])
    assert {p.mean for p in rebased.points[:6]} == {10.5}
    assert {p.mean for p in rebased.points[6:]} == {20.5}
    assert [p.segment for p in rebased.points] == [0] * 6 + [1] * 6
    assert any(p.special_cause for p in once.points)
    assert not any(p.special_cause for p in rebased.points)


def test_outlying_moving_ranges_are_screened_from_the_limits():
    ys = [10, 11, 10, 11, 10, 11, 10, 11, 10, 40]
    screened = xmr(ys)
    raw = xmr(ys, screen_outliers=False)
    assert screened.points[0].upl - screened.points[0].mean == pytest.approx(2.66)
    assert raw.points[0].upl > screened.points[0].upl


@pytest.mark.parametrize(
    ("improvement", "last", "variation"),
    [
        ("increase", 100, "improvement_high"),
        ("increase", 20, "concern_low"),
        ("decrease", 100, "concern_high"),
        ("decrease", 20, "improvement_low"),
        ("neutral", 100, "neutral_high"),
        ("increase", 77, "common_cause"),
    ],
)
def test_variation_icon_follows_the_last_point(improvement, last, variation):
    result = xmr([*VECTOR[:11], 77, 66, 77, last], improvement=improvement)
    assert result.variation == variation
    expected = "common_cause" if variation == "common_cause" else "special_cause_"
    assert result.points[-1].point_type.startswith(expected)


@pytest.mark.parametrize(
    ("improvement", "target", "assurance"),
    [
        ("increase", 50, "consistent_pass"),
        ("increase", 100, "consistent_fail"),
        ("increase", 80, "inconsistent"),
        ("decrease", 50, "consistent_fail"),
        ("decrease", 100, "consistent_pass"),
        ("neutral", 50, None),
        ("increase", None, None),
    ],
)
def test_assurance_icon_compares_the_target_with_the_limits(improvement, target, assurance):
    assert xmr(VECTOR, improvement=improvement, target=target).assurance == assurance


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [1]}, "at least 2 values"),
        ({"values": [1, 2, float("nan")]}, "NaN"),
        ({"values": [1, 2, 3], "improvement": "up"}, "improvement must be"),
        ({"values": [1, 2, 3], "baseline": 1}, "baseline must be at least 2"),
        ({"values": [1, 2, 3], "rebase_at": [3]}, "rebase points"),
        ({"values": [1, 2, 3], "rebase_at": [2]}, "segment 2 \\(points 3-3\\)"),
        ({"values": [1, 2, 3], "x": ["a"]}, "x has 1 labels for 3 values"),
    ],
)
def test_bad_requests_say_what_is_wrong(kwargs, message):
    with pytest.raises(SpcError, match=message):
        xmr(**kwargs)


@given(st.lists(st.integers(-1000, 1000), min_size=2, max_size=60))
def test_outside_limits_matches_the_limits_and_limits_are_symmetric(ys):
    result = xmr(ys)
    for p in result.points:
        assert p.upl - p.mean == pytest.approx(p.mean - p.lpl)
        assert p.outside_limits == (p.y > p.upl or p.y < p.lpl)
        assert ("outside_limits" in p.rules) == p.outside_limits
        assert not (p.outside_limits and p.close_to_limits)


@given(st.lists(st.integers(-1000, 1000), min_size=2, max_size=40), st.integers(-50, 50))
def test_shifting_every_value_shifts_the_chart_but_not_the_signals(ys, k):
    a, b = xmr(ys), xmr([y + k for y in ys])
    assert [p.rules for p in a.points] == [p.rules for p in b.points]
    assert b.points[0].mean == pytest.approx(a.points[0].mean + k)
