"""Geometry of the bar charts on the e-mail pages, computed on the server and drawn as inline SVG
by templates/mailservice/_chart.html: no script library (the Content-Security-Policy allows the
portal's own scripts only, and a chart must also print and read without script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# Canvas in SVG user units; the <svg> scales to the width of its panel (viewBox).
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 14, 34

OK = "#1c5d99"
BAD = "#c0392b"
EMPTY = "#d9e2ec"


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str
    label: str = ""       # under the bar
    value_text: str = ""  # above the bar
    label_x: float = 0.0

    @property
    def value_y(self) -> float:
        return round(self.y - 3, 1)


@dataclass
class Tick:
    y: float
    text: str


@dataclass
class Chart:
    width: int
    height: int
    title: str
    bars: list[Bar]
    ticks: list[Tick] = field(default_factory=list)
    line_y: float | None = None
    line_label: str = ""
    plot_left: int = LEFT
    plot_right: int = 0
    plot_bottom: int = 0
    empty_text: str = ""

    @property
    def tick_x(self) -> int:
        return self.plot_left - 4

    @property
    def label_y(self) -> int:
        return self.plot_bottom + 14

    @property
    def mid_x(self) -> float:
        return self.width / 2

    @property
    def mid_y(self) -> float:
        return (TOP + self.plot_bottom) / 2

    @property
    def line_text_y(self) -> float:
        return round((self.line_y or 0) - 4, 1)


def nice_max(value: float) -> float:
    """The top of the axis: the next 1, 2, 2.5 or 5 × 10ⁿ at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def _ticks(top: float, *, plot_top: int, plot_h: int, fmt: str = "{:g}") -> list[Tick]:
    return [Tick(y=plot_top + plot_h - plot_h * i / 4, text=fmt.format(top * i / 4)) for i in range(5)]


def histogram_chart(counts: Sequence[int], labels: Sequence[str], *, title: str,
                    bad_from: int | None = None, width: int = 560, height: int = 220) -> Chart:
    """One bar per latency bucket, its count on top; the buckets from `bad_from` on (over 1 hour)
    drawn red."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    top = nice_max(float(max(counts, default=0)))
    slot = plot_w / max(1, len(counts))
    bars = []
    for i, (n, label) in enumerate(zip(counts, labels, strict=False)):
        h = plot_h * n / top
        x = LEFT + i * slot + slot * 0.15
        bars.append(Bar(x=round(x, 1), y=round(TOP + plot_h - h, 1), width=round(slot * 0.7, 1),
                        height=round(h, 1), fill=BAD if bad_from is not None and i >= bad_from else OK,
                        title=f"{label}: {n}", label=str(label), value_text=str(n),
                        label_x=round(LEFT + i * slot + slot / 2, 1)))
    return Chart(width=width, height=height, title=title, bars=bars,
                 ticks=_ticks(top, plot_top=TOP, plot_h=plot_h), plot_right=width - RIGHT,
                 plot_bottom=TOP + plot_h)


@dataclass
class DayValue:
    day: int
    value: float | None  # None: nothing measured that day (no bar)
    title: str
    bad: bool = False


def daily_chart(days: Sequence[DayValue], *, title: str, line: float | None = None, line_label: str = "",
                width: int = 1200, height: int = 200, empty_text: str = "") -> Chart:
    """One bar per day of the month; a dashed line at the target (`line`, same unit as the
    values); bars over it, or flagged `bad`, drawn red."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    values = [d.value for d in days if d.value is not None]
    top = nice_max(max([*values, (line or 0) * 1.25, 0.0]))
    slot = plot_w / max(1, len(days))
    bars = []
    for i, d in enumerate(days):
        v = d.value if d.value is not None else 0.0
        h = plot_h * v / top
        over = d.bad or (line is not None and d.value is not None and d.value > line)
        bars.append(Bar(x=round(LEFT + i * slot + slot * 0.12, 1), y=round(TOP + plot_h - h, 1),
                        width=round(slot * 0.76, 1), height=round(h, 1),
                        fill=BAD if over else (OK if d.value is not None else EMPTY), title=d.title,
                        label=str(d.day), label_x=round(LEFT + i * slot + slot / 2, 1)))
    line_y = round(TOP + plot_h - plot_h * line / top, 1) if line is not None else None
    return Chart(width=width, height=height, title=title, bars=bars,
                 ticks=_ticks(top, plot_top=TOP, plot_h=plot_h), line_y=line_y, line_label=line_label,
                 plot_right=width - RIGHT, plot_bottom=TOP + plot_h,
                 empty_text=empty_text if not values else "")


def seconds(value: Decimal | float | int | None) -> float | None:
    return float(value) if value is not None else None
