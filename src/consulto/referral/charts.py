"""The centre's figures as server-drawn horizontal bar charts (the dashboard's approach,
``practice/charts.py``): plain geometry the template turns into inline SVG, every figure written
at its bar's end, no style attribute (the Content-Security-Policy forbids them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import RegulationCase
from .selectors import Figures

WIDTH = 360
LABEL_END = 112
BAR_X = 118
BAR_MAX = 200
ROW = 24
BAR_HEIGHT = 16
INK = "#14213d"
# Contrast on white >= 6.5:1 (WCAG 1.4.11).
COLOURS = {"cases": "#0b5cad", "outcomes": "#0f6b3a"}


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: float
    text_y: float
    width: float
    value_x: float


@dataclass(frozen=True)
class BarChart:
    slug: str
    title: str
    description: str
    colour: str
    bars: list[Bar]
    height: float
    width: int = WIDTH
    label_end: int = LABEL_END
    bar_x: int = BAR_X
    bar_height: int = BAR_HEIGHT
    ink: str = INK


def _chart(slug: str, title: str, description: str, rows: list[tuple[str, int]]) -> BarChart:
    top = max((value for _label, value in rows), default=0)
    # Room for the longest label at 14 px (about 8 px a character), never cut at the left edge.
    label_end = max(LABEL_END, 8 * max((len(label) for label, _value in rows), default=0))
    bar_x = label_end + BAR_X - LABEL_END
    bars, y = [], 4.0
    for label, value in rows:
        width = round(BAR_MAX * value / top, 1) if top else 0
        bars.append(
            Bar(
                label=label,
                value_text=str(value),
                y=y + (ROW - BAR_HEIGHT) / 2,
                text_y=y + ROW / 2 + 5,
                width=width,
                value_x=bar_x + width + 6,
            )
        )
        y += ROW
    return BarChart(
        slug,
        title,
        description,
        COLOURS[slug],
        bars,
        height=y + 4,
        width=bar_x + BAR_MAX + 42,
        label_end=label_end,
        bar_x=bar_x,
    )


def charts(figures: Figures) -> list[BarChart]:
    days = [(date_format(d.day, "D j M"), d.cases) for d in figures.days]
    # Short words on the chart; the table under it gives each outcome in full.
    short = {
        RegulationCase.Outcome.OPEN: _("In progress"),
        RegulationCase.Outcome.BOOKED: _("Appointment"),
        RegulationCase.Outcome.EXTRA: _("Extra patient"),
        RegulationCase.Outcome.EMERGENCY: _("Emergency"),
        RegulationCase.Outcome.ADVICE: _("Advice"),
    }
    outcomes = [
        (str(short.get(value, label)), figures.outcomes.get(value, 0))
        for value, label in RegulationCase.Outcome.choices
    ]
    return [
        _chart(
            "cases",
            _("Cases per day"),
            _("Number of cases opened each day, from %(first)s to %(last)s.")
            % {"first": days[0][0], "last": days[-1][0]},
            days,
        ),
        _chart(
            "outcomes",
            _("Outcomes"),
            _("Number of cases of each outcome over the period."),
            outcomes,
        ),
    ]
