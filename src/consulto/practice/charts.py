"""Server-drawn bar charts for the dashboard: plain geometry the template turns into inline SVG.

Bars are horizontal, one row a week, with the week on the left and the figure at the bar's end:
every number is written out, so the chart reads the same at 375 px as on a wide screen and
nothing depends on colour alone. The page's Content-Security-Policy forbids style attributes,
so the template uses SVG presentation attributes only (fill, stroke, x, y...).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from .stats import SAS_PAID_CEILING, Dashboard, Week

WIDTH = 360
LABEL_END = 62  # week labels are right-aligned on this x
BAR_X = 68
BAR_MAX = 240
ROW = 24
BAR_HEIGHT = 16
SEPARATOR = 26  # room for the "booked ahead" line

# Contrast on white: #0b5cad 6.5:1, #0f6b3a 6.9:1, #a4161a 7.9:1, #14213d 15:1 (WCAG 1.4.11).
INK = "#14213d"
COLOURS = {
    "appointments": "#0b5cad",
    "online": "#0f6b3a",
    "no_show": "#a4161a",
    "sas": "#5b2a86",  # 10.3:1 on white
}
AHEAD_FILL = "#ffffff"


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: float  # top of the bar
    text_y: float  # baseline of the row's text
    width: float
    value_x: float
    ahead: bool
    current: bool


@dataclass(frozen=True)
class BarChart:
    slug: str
    title: str
    description: str
    colour: str
    bars: list[Bar]
    height: float
    separator_y: float | None = None
    separator_label: str = ""
    separator_text_y: float | None = None
    # A limit drawn across the bars (the SAS's 20 paid consultations a week), and its label.
    ceiling_x: float | None = None
    ceiling_label: str = ""
    ceiling_text_y: float | None = None

    width: int = WIDTH
    label_end: int = LABEL_END
    bar_x: int = BAR_X
    bar_height: int = BAR_HEIGHT
    ink: str = INK
    ahead_fill: str = AHEAD_FILL


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return _("%(value)s%%") % {"value": number_format(round(value * 100))}


def week_label(week: Week) -> str:
    return date_format(week.start, "j M")


def dashboard_charts(board: Dashboard) -> list[BarChart]:
    past, ahead = board.past_weeks, board.ahead_weeks
    per_week = [w.appointments for w in past]
    shares = [w.online_share for w in past if w.online_share is not None]
    rates = [w for w in past if w.no_show_rate is not None]
    worst = max(rates, key=lambda w: w.no_show_rate, default=None)
    return [
        _bars(
            "appointments",
            _("Appointments per week"),
            _(
                "Last %(weeks)s weeks: %(total)s appointments, from %(low)s to %(high)s a week. "
                "Booked for the next %(ahead_weeks)s weeks: %(ahead)s. "
                "The figures are in the table below."
            )
            % {
                "weeks": len(past),
                "total": board.past_total,
                "low": min(per_week, default=0),
                "high": max(per_week, default=0),
                "ahead_weeks": len(ahead),
                "ahead": board.ahead_total,
            },
            [(w, w.appointments, str(w.appointments)) for w in board.weeks],
            scale=max([w.appointments for w in board.weeks] + [1]),
        ),
        _bars(
            "online",
            _("Share of appointments booked online"),
            _(
                "Over the last %(weeks)s weeks: %(share)s of appointments were booked online, "
                "from %(low)s to %(high)s depending on the week. "
                "The figures are in the table below."
            )
            % {
                "weeks": len(past),
                "share": percent(board.online_share),
                "low": percent(min(shares, default=None)),
                "high": percent(max(shares, default=None)),
            },
            [(w, w.online_share, percent(w.online_share)) for w in board.weeks],
            scale=1,
        ),
        _bars(
            "no_show",
            _("No-show rate"),
            (
                _(
                    "Over the last %(weeks)s weeks: %(rate)s of patients did not come; the "
                    "highest was %(high)s in the week of %(week)s. "
                    "The figures are in the table below."
                )
                % {
                    "weeks": len(past),
                    "rate": percent(board.no_show_rate),
                    "high": percent(worst.no_show_rate),
                    "week": date_format(worst.start, "j F"),
                }
                if worst
                else _("No appointment has been seen or missed in the last %(weeks)s weeks.")
                % {"weeks": len(past)}
            ),
            [(w, w.no_show_rate, percent(w.no_show_rate)) for w in past],
            scale=max([w.no_show_rate for w in rates] + [0.1]),
        ),
    ]


def _bars(slug, title, description, rows, *, scale: float) -> BarChart:
    bars, y, separator_y = [], 4.0, None
    for week, value, text in rows:
        if week.is_future and separator_y is None:
            separator_y = y + 4
            y += SEPARATOR
        width = round(BAR_MAX * (value or 0) / scale, 1) if scale else 0
        bars.append(
            Bar(
                label=week_label(week),
                value_text=text,
                y=y + (ROW - BAR_HEIGHT) / 2,
                text_y=y + ROW / 2 + 5,
                width=width,
                value_x=BAR_X + width + 6,
                ahead=week.is_future,
                current=week.is_current,
            )
        )
        y += ROW
    return BarChart(
        slug=slug,
        title=title,
        description=description,
        colour=COLOURS[slug],
        bars=bars,
        height=y + 4,
        separator_y=separator_y,
        separator_label=_("Booked ahead") if separator_y is not None else "",
        separator_text_y=separator_y + 16 if separator_y is not None else None,
    )


def sas_chart(board: Dashboard) -> BarChart:
    """Consultations taken through regulation per week, with the SAS's paid ceiling marked."""
    weeks = board.sas_weeks
    counts = [w.consultations for w in weeks]
    over = [w for w in weeks if w.consultations > SAS_PAID_CEILING]
    description = _(
        "Last %(weeks)s weeks: %(total)s consultations taken through regulation, from %(low)s "
        "to %(high)s a week; the SAS pays a supplement for up to %(ceiling)s a week (the "
        "dashed line). Weeks beyond it: %(over)s. The figures are in the table below."
    ) % {
        "weeks": len(weeks),
        "total": board.sas_total,
        "low": min(counts, default=0),
        "high": max(counts, default=0),
        "ceiling": SAS_PAID_CEILING,
        "over": len(over),
    }
    scale = max([*counts, SAS_PAID_CEILING]) * 1.1
    chart = _bars(
        "sas",
        _("Consultations through regulation (SAS) per week"),
        description,
        [(w, w.consultations, str(w.consultations)) for w in weeks],
        scale=scale,
    )
    ceiling_x = round(BAR_X + BAR_MAX * SAS_PAID_CEILING / scale, 1)
    bottom = chart.height
    return BarChart(
        slug=chart.slug,
        title=chart.title,
        description=chart.description,
        colour=chart.colour,
        bars=chart.bars,
        height=bottom + 20,
        ceiling_x=ceiling_x,
        ceiling_label=_("%(n)s paid") % {"n": SAS_PAID_CEILING},
        ceiling_text_y=bottom + 15,
    )


@dataclass(frozen=True)
class Row:
    week: Week
    online_share: str
    no_show_rate: str


def table_rows(board: Dashboard) -> list[Row]:
    return [Row(w, percent(w.online_share), percent(w.no_show_rate)) for w in board.weeks]
