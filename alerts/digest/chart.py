"""Geometry of the digest's inline SVG chart: daily stories per topic over 14 days. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from alerts.delivery.render import one_line
from alerts.models import Digest, DigestTopic

WIDTH, HEIGHT = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 34, 20, 12, 48  # margins: room for tick labels and axis titles
# Okabe-Ito colours (told apart with colour-blindness) and dash patterns (told apart without).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6B6B6B")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 2 4 6", "1 2", "10 2")


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    label: str  # tooltip: `Troop deployment, Dec 18: 2 stories`


@dataclass(frozen=True, slots=True)
class Series:
    title: str
    colour: str
    dash: str
    points: str  # the polyline's `points` attribute: exactly one `x,y` pair per day
    dots: list[Dot]


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Everything the template needs to draw the chart; coordinates are in viewBox units."""

    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    title: str
    description: str
    x_title: str
    series: list[Series]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def chart_for(d: Digest) -> Chart:
    """One line per topic, one point per desk-local day, y from 0 to the busiest day."""
    days = [p.date for p in d.volume] or [d.date]
    peak = max([1, *(p.stories for t in d.topics for p in t.volume)])
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    step = (right - LEFT) / max(len(days) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + index * step, 1)

    def y(value: int) -> float:
        return round(bottom - value / peak * (bottom - TOP), 1)

    series = [_series(i, t, x, y) for i, t in enumerate(d.topics)]
    labelled = range(len(days) - 1, -1, -2)  # every other day, ending with the digest day
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=right,
        top=TOP,
        bottom=bottom,
        title=f"Stories per day by topic, {len(days)} days to {d.date.isoformat()}",
        description=_description(d),
        x_title=f"desk-local day ({one_line(d.timezone)})",
        series=series,
        x_ticks=[Tick(x(i), _day_label(days[i])) for i in sorted(labelled)],
        y_ticks=[Tick(y(v), str(v)) for v in _y_values(peak)],
    )


def _series(
    index: int, topic: DigestTopic, x: Callable[[int], float], y: Callable[[int], float]
) -> Series:
    name = one_line(topic.title, 80)
    coords = [(x(i), y(p.stories)) for i, p in enumerate(topic.volume)]
    dots = [
        Dot(cx, cy, f"{name}, {_day_label(p.date)}: {p.stories}")
        for (cx, cy), p in zip(coords, topic.volume, strict=True)
    ]
    return Series(
        title=name,
        colour=COLOURS[index % len(COLOURS)],
        dash=DASHES[index % len(DASHES)],
        points=" ".join(f"{cx:g},{cy:g}" for cx, cy in coords),
        dots=dots,
    )


def _y_values(peak: int) -> list[int]:
    """0, the middle (when it is a whole number of stories) and the peak."""
    middle = peak // 2
    return [0, middle, peak] if 0 < middle < peak and peak % 2 == 0 else [0, peak]


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _description(d: Digest) -> str:
    """The chart's numbers in words, for screen readers and clients that hide SVG."""
    parts = [
        f"{one_line(t.title, 80)}: {', '.join(str(p.stories) for p in t.volume)}" for t in d.topics
    ]
    return "Stories per day, oldest first. " + "; ".join(parts) + "."
