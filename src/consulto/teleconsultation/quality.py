"""Call quality: each side's samples summed up when the call ends, and the figures per user.

Counters that only grow during a call (frames decoded, freezes) keep their last value; the others
are summarised by what matters to people: the median round trip and bitrate, the jitter that 5 %
of the call was worse than, the worst loss. A side is flagged when its jitter passes 30 ms or its
loss 1 % (``protocol.flagged``) at any point of the call.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from . import protocol
from .models import CallSummary, QualitySample, VideoRoom


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(room: VideoRoom) -> list[CallSummary]:
    """(Re)compute the room's summaries, one per side that sent figures."""
    summaries = []
    for side in QualitySample.Side.values:
        samples = list(room.samples.filter(side=side).order_by("at", "id"))
        if not samples:
            continue
        columns = {
            name: [getattr(s, name) for s in samples if getattr(s, name) is not None]
            for name in (*protocol.STAT_FLOATS, *protocol.STAT_INTS)
        }

        def values(name: str, columns=columns) -> list[float]:
            return columns[name]

        last = samples[-1]
        figures = {
            "user_id": last.user_id,
            "samples": len(samples),
            "rtt_ms_median": statistics.median(values("rtt_ms")) if values("rtt_ms") else None,
            "jitter_ms_p95": _percentile(values("jitter_ms"), 0.95),
            "loss_percent_max": max(values("loss_percent"), default=None),
            "bitrate_kbps_median": (
                statistics.median(values("bitrate_kbps")) if values("bitrate_kbps") else None
            ),
            "frames_decoded": max(values("frames_decoded"), default=None),
            "freeze_count": max(values("freeze_count"), default=None),
            "freeze_seconds": max(values("freeze_seconds"), default=None),
            "flagged": any(
                protocol.flagged({"jitter_ms": s.jitter_ms, "loss_percent": s.loss_percent})
                for s in samples
            ),
        }
        summary, _created = CallSummary.objects.update_or_create(
            room=room, side=side, defaults=figures
        )
        summaries.append(summary)
    return summaries


def summaries_of_user(user, *, since: datetime | None = None):
    """A user's calls, newest first: what a support agent looks at when they call about video."""
    qs = CallSummary.objects.filter(user=user).select_related("room__appointment")
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.order_by("-created_at")
