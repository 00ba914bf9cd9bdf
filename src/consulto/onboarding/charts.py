"""The funnel as a server-drawn SVG chart: one bar per screen, as long as the people who reached it.

Each row writes its figures out (reached, share of the start, stopped there), so the chart reads
without colour and at 375 px; the page's CSP forbids style attributes, so the template uses SVG
presentation attributes only, as the practice dashboard does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from consulto.practice.charts import percent

from .selectors import Funnel

WIDTH = 640
BAR_MAX = 480
ROW = 64
BAR_HEIGHT = 18
INK = "#14213d"
BAR = "#0b5cad"  # 6.5:1 on white
STOP = "#a4161a"  # 7.9:1 on white


@dataclass(frozen=True)
class FunnelBar:
    label: str
    count: str
    extra: str
    label_y: float
    bar_y: float
    width: float
    count_x: float
    count_y: float
    extra_y: float


@dataclass(frozen=True)
class FunnelChart:
    title: str
    description: str
    bars: list[FunnelBar]
    height: float
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT
    ink: str = INK
    colour: str = BAR
    stop: str = STOP


def funnel_chart(figures: Funnel, *, visits: int | None = None) -> FunnelChart:
    rows: list[tuple[str, int, str]] = []
    if visits is not None:
        rows.append((_("Visited the sign-up page"), visits, ""))
    for step in figures.steps:
        extra = (
            _("%(share)s of sign-ups, %(stopped)s stopped here")
            % {"share": percent(step.from_start), "stopped": step.stopped_here}
            if step.reached
            else ""
        )
        rows.append((step.label, step.reached, extra))
    scale = max([count for _label, count, _extra in rows] + [1])
    bars, y = [], 4.0
    for label, count, extra in rows:
        width = round(BAR_MAX * count / scale, 1)
        bars.append(
            FunnelBar(
                label=label,
                count=str(count),
                extra=extra,
                label_y=y + 14,
                bar_y=y + 20,
                width=max(width, 1 if count else 0),
                count_x=width + 6,
                count_y=y + 20 + BAR_HEIGHT - 4,
                extra_y=y + 20 + BAR_HEIGHT + 16,
            )
        )
        y += ROW
    worst = figures.worst
    description = _(
        "%(started)s sign-ups, %(published)s published (%(share)s). %(worst)s"
        " The figures are in the table below."
    ) % {
        "started": figures.started,
        "published": figures.published,
        "share": percent(figures.published / figures.started if figures.started else None),
        "worst": (
            _("Most people stop at “%(step)s” (%(count)s).")
            % {"step": worst.label, "count": worst.stopped_here}
            if worst
            else ""
        ),
    }
    return FunnelChart(
        title=_("Onboarding funnel"), description=description, bars=bars, height=y + 4
    )
