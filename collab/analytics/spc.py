"""XmR statistical process control, as NHS England's "Making Data Count" describes it.

* Mean and limits: mean +/- 2.66 x the mean moving range, from a baseline (all points, or the
  first ``baseline`` points of each segment, "frozen"); moving ranges of 3.267 x the mean moving
  range or more are screened out first, as NHSRplotthedots does by default.
* Special cause rules: a point outside the limits; a run of 7 rising or falling points (6
  consecutive increases); 2 of 3 consecutive points close to a limit (beyond two thirds of the
  way to it) with all 3 on one side of the mean; 7 points in a row on one side of the mean (a
  point on the mean breaks the run). Every point of a run that breaks a rule is special cause.
* Rebasing: a new segment, with its own baseline and limits, starts at each ``rebase_at`` index.
* Icons: variation from the last point (common cause, improvement or concern, high or low);
  assurance from the target against the last segment's limits (pass, fail or inconsistent).

Plain Python: no Django, no numpy, so any view, command or test can call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SpcError",
    "SpcPoint",
    "SpcResult",
    "part_of_run",
    "seven_point_one_side",
    "seven_point_trend",
    "two_in_three",
    "xmr",
]

LIMIT = 2.66
CLOSE = LIMIT * 2 / 3
SCREEN = 3.267
RUN = 7
DIRECTIONS = ("increase", "decrease", "neutral")


class SpcError(ValueError):
    pass


def _sign(v: float) -> int:
    return (v > 0) - (v < 0)


def seven_point_trend(y: Sequence[float]) -> list[int]:
    """+1/-1 at each point that ends 6 consecutive increases/decreases (7 points), else 0."""
    out = [0] * len(y)
    for i in range(RUN - 1, len(y)):
        steps = {_sign(y[j] - y[j - 1]) for j in range(i - RUN + 2, i + 1)}
        if steps == {1}:
            out[i] = 1
        elif steps == {-1}:
            out[i] = -1
    return out


def seven_point_one_side(relative_to_mean: Sequence[int]) -> list[int]:
    """+1/-1 at each point that ends 7 in a row above/below the mean, else 0."""
    out = [0] * len(relative_to_mean)
    for i in range(RUN - 1, len(relative_to_mean)):
        window = set(relative_to_mean[i - RUN + 1 : i + 1])
        if len(window) == 1 and 0 not in window:
            out[i] = relative_to_mean[i]
    return out


def part_of_run(ends: Sequence[int]) -> list[bool]:
    """Every point of a 7-point run, given the points where runs end."""
    return [any(ends[j] != 0 for j in range(i, min(i + RUN, len(ends)))) for i in range(len(ends))]


def two_in_three(close: Sequence[bool], relative_to_mean: Sequence[int]) -> list[bool]:
    """Points close to a limit that are in a window of 3 consecutive points with at least 2
    close to a limit and all 3 on the same side of the mean."""
    n = len(close)
    out = [False] * n
    for start in range(n - 2):
        window = range(start, start + 3)
        sides = {relative_to_mean[j] for j in window}
        if sum(bool(close[j]) for j in window) >= 2 and len(sides) == 1 and 0 not in sides:
            for j in window:
                out[j] = out[j] or bool(close[j])
    return out


@dataclass(frozen=True)
class SpcPoint:
    x: Any
    y: float
    segment: int
    mean: float
    lpl: float  # lower process limit
    upl: float  # upper process limit
    outside_limits: bool
    close_to_limits: bool
    relative_to_mean: int
    rules: frozenset[str]  # outside_limits, trend, two_in_three, shift
    point_type: (
        str  # common_cause, special_cause_improvement/_concern, special_cause_neutral_high/_low
    )

    @property
    def special_cause(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class SpcResult:
    points: list[SpcPoint]
    improvement: str
    target: float | None
    variation: str  # common_cause, improvement_high/low, concern_high/low, neutral_high/low
    assurance: str | None  # consistent_pass, consistent_fail, inconsistent; None without target
    baseline: int | None
    rebase_at: tuple[int, ...] = field(default=())


def _limits(ys: Sequence[float], baseline: int | None, screen: bool) -> tuple[float, float]:
    base = list(ys[:baseline] if baseline else ys)
    if len(base) < 2:
        raise SpcError(f"a baseline needs at least 2 points, this segment has {len(base)}")
    mean = sum(base) / len(base)
    ranges = [abs(b - a) for a, b in zip(base, base[1:], strict=False)]
    amr = sum(ranges) / len(ranges)
    if screen:
        kept = [r for r in ranges if r < SCREEN * amr]
        amr = sum(kept) / len(kept) if kept else 0.0
    return mean, amr


def xmr(
    values: Sequence[float],
    *,
    x: Sequence[Any] | None = None,
    improvement: str = "neutral",
    target: float | None = None,
    baseline: int | None = None,
    rebase_at: Sequence[int] = (),
    screen_outliers: bool = True,
) -> SpcResult:
    """An XmR chart of ``values`` (in time order; ``x`` labels them, default 0, 1, ...).

    ``improvement``: "increase", "decrease" or "neutral". ``baseline``: freeze each segment's
    mean and limits on its first N points. ``rebase_at``: indices where a new segment starts.
    """
    if improvement not in DIRECTIONS:
        raise SpcError(f"improvement must be one of {', '.join(DIRECTIONS)}, not {improvement!r}")
    ys = [float(v) for v in values]
    if any(v != v for v in ys):
        raise SpcError("values must not contain NaN: fill or drop gaps first")
    if len(ys) < 2:
        raise SpcError(f"an XmR chart needs at least 2 values, got {len(ys)}")
    labels = list(x) if x is not None else list(range(len(ys)))
    if len(labels) != len(ys):
        raise SpcError(f"x has {len(labels)} labels for {len(ys)} values")
    if baseline is not None and baseline < 2:
        raise SpcError(f"baseline must be at least 2 points, not {baseline}")
    cuts = sorted(set(rebase_at))
    if any(not 0 < c < len(ys) for c in cuts):
        raise SpcError(f"rebase points must be between 1 and {len(ys) - 1}: {cuts}")
    bounds = [0, *cuts, len(ys)]
    direction = {"increase": 1, "decrease": -1, "neutral": 0}[improvement]

    points: list[SpcPoint] = []
    for seg, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
        seg_y = ys[lo:hi]
        try:
            mean, amr = _limits(seg_y, baseline, screen_outliers)
        except SpcError as exc:
            raise SpcError(f"segment {seg + 1} (points {lo + 1}-{hi}): {exc}") from None
        lpl, upl = mean - LIMIT * amr, mean + LIMIT * amr
        near_lo, near_hi = mean - CLOSE * amr, mean + CLOSE * amr
        last_limits = (mean, lpl, upl)
        outside = [v > upl or v < lpl for v in seg_y]
        close = [
            not o and (v < near_lo or v > near_hi) for v, o in zip(seg_y, outside, strict=True)
        ]
        rtm = [_sign(v - mean) for v in seg_y]
        trend = part_of_run(seven_point_trend(seg_y))
        shift = part_of_run(seven_point_one_side(rtm))
        two3 = two_in_three(close, rtm)
        for k, v in enumerate(seg_y):
            rules = frozenset(
                name
                for name, hit in (
                    ("outside_limits", outside[k]),
                    ("trend", trend[k]),
                    ("two_in_three", two3[k]),
                    ("shift", shift[k]),
                )
                if hit
            )
            if not rules:
                kind = "common_cause"
            elif direction == 0:
                kind = "special_cause_neutral_" + ("high" if rtm[k] > 0 else "low")
            elif rtm[k] == direction:
                kind = "special_cause_improvement"
            else:
                kind = "special_cause_concern"
            points.append(
                SpcPoint(
                    x=labels[lo + k],
                    y=v,
                    segment=seg,
                    mean=mean,
                    lpl=lpl,
                    upl=upl,
                    outside_limits=outside[k],
                    close_to_limits=close[k],
                    relative_to_mean=rtm[k],
                    rules=rules,
                    point_type=kind,
                )
            )
    return SpcResult(
        points=points,
        improvement=improvement,
        target=target,
        variation=_variation(points[-1], direction),
        assurance=_assurance(target, direction, last_limits),
        baseline=baseline,
        rebase_at=tuple(cuts),
    )


def _variation(last: SpcPoint, direction: int) -> str:
    if not last.special_cause:
        return "common_cause"
    side = "high" if last.relative_to_mean > 0 else "low"
    if direction == 0:
        return f"neutral_{side}"
    return ("improvement_" if last.relative_to_mean == direction else "concern_") + side


def _assurance(
    target: float | None, direction: int, limits: tuple[float, float, float]
) -> str | None:
    if target is None or direction == 0:
        return None
    _, lpl, upl = limits
    if target > upl:
        return "consistent_fail" if direction > 0 else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if direction > 0 else "consistent_fail"
    return "inconsistent"
