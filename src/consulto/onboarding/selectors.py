"""Read queries of the onboarding: the journey of a user, the checklist, the funnel figures."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from consulto.directory.models import Practitioner
from consulto.scheduling.models import Motive, Opening

from .models import STEP_ORDER, Journey, Step, StepRecord

STEP_URLS = {
    Step.ACCOUNT: "onboarding:join",
    Step.SECURITY: "onboarding:security",
    Step.IDENTITY: "onboarding:identity",
    Step.SCHEDULE: "onboarding:schedule",
    Step.VIDEO: "onboarding:video",
    Step.PUBLISH: "onboarding:publish",
}


def journey_of(user) -> Journey | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Journey.objects.filter(user=user)
        .select_related("practitioner__specialty", "agenda__site", "invitation")
        .first()
    )


def step_url(step: str) -> str:
    return reverse(STEP_URLS[step])


def finished_steps(journey: Journey) -> set[str]:
    return set(
        StepRecord.objects.filter(journey=journey, finished_at__isnull=False).values_list(
            "step", flat=True
        )
    )


def may_open(journey: Journey, step: str, finished: set[str]) -> bool:
    """A screen opens once every screen before it is finished (going back is always fine)."""
    index = STEP_ORDER.index(step)
    return all(s in finished for s in STEP_ORDER[:index])


@dataclass
class ChecklistItem:
    label: str
    done: bool
    url: str = ""
    waiting: bool = False  # not the practitioner's to do: support is on it


@dataclass
class Checklist:
    items: list[ChecklistItem]
    published: bool

    @property
    def left(self) -> int:
        return sum(1 for item in self.items if not item.done)

    @property
    def progress(self) -> int:
        return round(100 * (len(self.items) - self.left) / len(self.items)) if self.items else 100


def checklist(user) -> Checklist | None:
    """What is left before (and just after) the practitioner is bookable; None when nothing."""
    journey = journey_of(user)
    if journey is None:
        return None
    finished = finished_steps(journey)
    practitioner = journey.practitioner
    agenda = journey.agenda
    has_hours = agenda is not None and Opening.objects.filter(agenda=agenda).exists()
    has_motives = (
        agenda is not None and Motive.objects.filter(agenda=agenda, is_active=True).exists()
    )
    check = journey.device_check or {}
    verified = practitioner is not None and practitioner.rpps_status != (
        Practitioner.RppsStatus.TO_VERIFY
    )
    items = [
        ChecklistItem(_("E-mail confirmed and account protected"), Step.SECURITY in finished),
        ChecklistItem(
            _("Identity and practice address"),
            Step.IDENTITY in finished,
            step_url(Step.IDENTITY),
        ),
        ChecklistItem(
            _("Opening hours and motives"),
            has_hours and has_motives and Step.SCHEDULE in finished,
            step_url(Step.SCHEDULE),
        ),
        ChecklistItem(
            _("Camera and microphone tested"),
            bool(check.get("camera") and check.get("microphone")),
            step_url(Step.VIDEO),
        ),
        ChecklistItem(
            _("RPPS number checked"),
            verified,
            waiting=practitioner is not None and not verified,
        ),
        ChecklistItem(
            _("Profile published: patients can book"), journey.done, step_url(Step.PUBLISH)
        ),
    ]
    published = journey.done
    if published and all(item.done for item in items):
        return None
    return Checklist(items=items, published=published)


# The funnel -------------------------------------------------------------------------------------


@dataclass
class FunnelStep:
    step: str
    label: str
    reached: int
    finished: int
    median_seconds: float | None
    stopped_here: int  # reached this screen, never finished it
    conversion: float | None = None  # finished / reached
    from_start: float | None = None  # reached / journeys started


@dataclass
class Funnel:
    started: int
    published: int
    steps: list[FunnelStep] = field(default_factory=list)

    @property
    def worst(self) -> FunnelStep | None:
        """The screen where most people stop."""
        candidates = [s for s in self.steps if s.stopped_here]
        return max(candidates, key=lambda s: s.stopped_here) if candidates else None


def funnel(*, since: datetime | None = None, kind: str | None = None) -> Funnel:
    """Per screen: how many reached it, finished it, the median time spent, and who stopped."""
    journeys = Journey.objects.all()
    if since is not None:
        journeys = journeys.filter(created_at__gte=since)
    if kind:
        journeys = journeys.filter(kind=kind)
    records = StepRecord.objects.filter(journey__in=journeys)
    counts = {
        row["step"]: row
        for row in records.values("step").annotate(
            reached=Count("id"), finished=Count("finished_at")
        )
    }
    durations: dict[str, list[float]] = {step: [] for step in STEP_ORDER}
    for step, reached_at, finished_at in records.filter(finished_at__isnull=False).values_list(
        "step", "reached_at", "finished_at"
    ):
        durations[step].append((finished_at - reached_at).total_seconds())
    started = journeys.count()
    result = Funnel(started=started, published=journeys.filter(published_at__isnull=False).count())
    labels = dict(Step.choices)
    for step in STEP_ORDER:
        row = counts.get(step, {"reached": 0, "finished": 0})
        reached, finished = row["reached"], row["finished"]
        result.steps.append(
            FunnelStep(
                step=step,
                label=str(labels[step]),
                reached=reached,
                finished=finished,
                median_seconds=statistics.median(durations[step]) if durations[step] else None,
                stopped_here=reached - finished,
                conversion=finished / reached if reached else None,
                from_start=reached / started if started else None,
            )
        )
    return result
