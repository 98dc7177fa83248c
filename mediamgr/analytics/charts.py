"""Charts drawn on the server as SVG: the geometry here, the markup in templates/analytics/_chart.html.
Every chart has a title and a description for screen readers, each bar or point its own title, and the
page shows the same numbers as a table; axis labels are spaced so they never overlap."""
import math
from dataclasses import dataclass, field

import humanize

WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 8, 12, 36  # room for the value axis on the left, labels below
MAX_TICKS = 5
MAX_LABELS = 6  # category labels on the x axis; with more bars only every n-th is written


def axis_size(value):
    """A size on an axis, as short as it can be: "0", "500 MB", "1.5 GB"."""
    return "0" if not value else humanize.naturalsize(value, format="%.4g")


def axis_count(value):
    return f"{int(value):,}"


def nice_step(maximum, ticks=MAX_TICKS):
    """A step of 1, 2 or 5 times a power of ten that divides 0..maximum into at most `ticks` parts."""
    if maximum <= 0:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * power >= raw:
            return multiple * power
    return 10 * power


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what the bar shows, in words (its title, and its row in the table)
    href: str | None = None


@dataclass
class Tick:
    y: float
    text: str


@dataclass
class XLabel:
    x: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    title: str
    description: str
    bars: list = field(default_factory=list)
    ticks: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    points: str = ""  # a line chart's polyline
    empty: bool = False  # nothing but zeros: the page says so instead of drawing empty axes
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_bottom: int = HEIGHT - BOTTOM
    plot_right: int = WIDTH - RIGHT


def _scale(values, formatter):
    formatter = axis_size if formatter is SIZE else axis_count
    top = max(values, default=0)
    step = nice_step(top)
    axis_max = max(step, math.ceil(top / step) * step) if top else 1
    plot_height = HEIGHT - TOP - BOTTOM
    ticks = [Tick(HEIGHT - BOTTOM - plot_height * value / axis_max, formatter(value))
             for value in _range(0, axis_max, step)]
    return axis_max, plot_height, ticks


def _range(start, stop, step):
    value, found = start, []
    while value <= stop + step / 1000:
        found.append(value)
        value += step
    return found


def _labels(texts, slot_width):
    every = max(1, math.ceil(len(texts) / MAX_LABELS))
    labels = [XLabel(LEFT + slot_width * (index + 0.5), text) for index, text in enumerate(texts) if index % every == 0]
    if labels and slot_width < 40:  # narrow slots: the outermost labels end at the plot's edges, not past them
        labels[0].x, labels[0].anchor = LEFT, "start"
        if len(labels) > 1 and labels[-1].x > WIDTH - RIGHT - 30:
            labels[-1].x, labels[-1].anchor = WIDTH - RIGHT, "end"
    return labels


SIZE, COUNT = "size", "count"


def bar_chart(title, description, items, unit):
    """items: (label, value, href or None, short label for the axis); `unit` SIZE or COUNT."""
    values = [value for _label, value, _href, _short in items]
    axis_max, plot_height, ticks = _scale(values, unit)
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(items))
    bars = []
    for index, (label, value, href, _short) in enumerate(items):
        height = plot_height * value / axis_max
        bars.append(Bar(x=LEFT + slot * index + slot * 0.15, y=HEIGHT - BOTTOM - height, width=slot * 0.7,
                        height=max(height, 1 if value else 0), label=label, href=href))
    return Chart(title, description, bars=bars, ticks=ticks, labels=_labels([short for *_rest, short in items], slot),
                 empty=not any(values))


def line_chart(title, description, items, unit):
    """items: (label, value, short label for the axis); the points joined by a line."""
    values = [value for _label, value, _short in items]
    axis_max, plot_height, ticks = _scale(values, unit)
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(items))
    coordinates = [(LEFT + slot * (index + 0.5), HEIGHT - BOTTOM - plot_height * value / axis_max)
                   for index, value in enumerate(values)]
    bars = [Bar(x=x, y=y, width=0, height=0, label=label) for (x, y), (label, _value, _short) in zip(coordinates, items)]
    return Chart(title, description, bars=bars, ticks=ticks, labels=_labels([short for *_rest, short in items], slot),
                 points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates), empty=not any(values))
