"""The signaling protocol of a video room: what a browser may send over the WebSocket, checked
before anything else looks at it. Pure Python (no Django): plain dicts in, a typed message or an
error code out, so the rules are tested on their own (Hypothesis included).

Every message is a JSON object with a ``type``; anything else is refused, and so is a frame over
``MAX_FRAME_BYTES`` (an SDP with many candidates stays far below it).

| type      | who          | fields                                                        |
|-----------|--------------|---------------------------------------------------------------|
| offer     | either       | sdp (str), restart (bool, optional: an ICE restart)            |
| answer    | either       | sdp (str)                                                     |
| candidate | either       | candidate (str), sdpMid (str/null), sdpMLineIndex (int/null)  |
| chat      | either       | text (1 to 2,000 characters)                                  |
| stats     | either       | numbers >= 0, all optional: rtt_ms, jitter_ms, loss_percent,  |
|           |              | bitrate_kbps, freeze_seconds, frames_decoded, freeze_count    |
| admit     | practitioner | —                                                             |
| arm       | practitioner | sdp (str), id (int >= 0): an offer made ahead, to send with   |
|           |              | the admission the moment the patient joins ("on arrival")     |
| disarm    | practitioner | — (not on arrival any more)                                   |
| end       | practitioner | —                                                             |
| presence  | either       | — ("I am here": answers the other side's arrival)             |
| ping      | either       | —                                                             |

Each connection also has a budget (``Budget``): a few frames a second beyond what a call page
sends (ICE gathering comes in bursts), fewer for what reaches the database (stats, chat). A frame
over budget is refused with ``too_fast`` and goes nowhere; a connection that keeps flooding is
closed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

MAX_FRAME_BYTES = 64 * 1024
MAX_SDP = 32 * 1024
MAX_CANDIDATE = 1024
MAX_CHAT = 2000
PRACTITIONER_ONLY = frozenset({"admit", "arm", "disarm", "end"})
STAT_FLOATS = ("rtt_ms", "jitter_ms", "loss_percent", "bitrate_kbps", "freeze_seconds")
STAT_INTS = ("frames_decoded", "freeze_count")
STAT_LIMIT = 1e9


class Invalid(Exception):
    """A message the room refuses; ``code`` is sent back to the browser."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Message:
    type: str
    data: dict = field(default_factory=dict)


def parse(text: str | None, *, practitioner: bool) -> Message:
    """Check one frame; raise Invalid with a code saying what is wrong."""
    if text is None:
        raise Invalid("not_text")
    if len(text.encode("utf-8")) > MAX_FRAME_BYTES:
        raise Invalid("too_large")
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise Invalid("not_json") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise Invalid("no_type")
    kind = raw["type"]
    check = _CHECKS.get(kind)
    if check is None:
        raise Invalid("unknown_type")
    if kind in PRACTITIONER_ONLY and not practitioner:
        raise Invalid("forbidden")
    return Message(kind, check(raw))


def _text(raw: dict, key: str, limit: int, *, required: bool = True, empty: bool = False) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        raise Invalid(f"bad_{key}")
    return value


def _offer(raw: dict) -> dict:
    restart = raw.get("restart", False)
    if not isinstance(restart, bool):
        raise Invalid("bad_restart")
    return {"sdp": _text(raw, "sdp", MAX_SDP), "restart": restart}


def _answer(raw: dict) -> dict:
    return {"sdp": _text(raw, "sdp", MAX_SDP)}


def _arm(raw: dict) -> dict:
    offer_id = raw.get("id")
    if isinstance(offer_id, bool) or not isinstance(offer_id, int) or not 0 <= offer_id < 2**31:
        raise Invalid("bad_id")
    return {"sdp": _text(raw, "sdp", MAX_SDP), "id": offer_id}


def _candidate(raw: dict) -> dict:
    # An empty candidate string is the end-of-candidates signal of trickle ICE.
    candidate = _text(raw, "candidate", MAX_CANDIDATE, empty=True)
    mid = raw.get("sdpMid")
    index = raw.get("sdpMLineIndex")
    if mid is not None and (not isinstance(mid, str) or len(mid) > 64):
        raise Invalid("bad_sdpMid")
    if index is not None and (
        isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 64
    ):
        raise Invalid("bad_sdpMLineIndex")
    return {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}


def _chat(raw: dict) -> dict:
    text = _text(raw, "text", MAX_CHAT).strip()
    if not text:
        raise Invalid("bad_text")
    return {"text": text}


def _stats(raw: dict) -> dict:
    result: dict = {}
    for key in STAT_FLOATS:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"bad_{key}")
        if not math.isfinite(value) or not 0 <= value <= STAT_LIMIT:
            raise Invalid(f"bad_{key}")
        result[key] = float(value)
    for key in STAT_INTS:
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= STAT_LIMIT:
            raise Invalid(f"bad_{key}")
        result[key] = value
    if "loss_percent" in result and result["loss_percent"] > 100:
        raise Invalid("bad_loss_percent")
    return result


def _empty(raw: dict) -> dict:
    return {}


_CHECKS = {
    "offer": _offer,
    "answer": _answer,
    "candidate": _candidate,
    "chat": _chat,
    "stats": _stats,
    "admit": _empty,
    "arm": _arm,
    "disarm": _empty,
    "end": _empty,
    "presence": _empty,
    "ping": _empty,
}

# Quality thresholds above which a call is flagged (issue 6: jitter > 30 ms or loss > 1 %).
JITTER_FLAG_MS = 30.0
LOSS_FLAG_PERCENT = 1.0


def flagged(stats: dict) -> bool:
    return (stats.get("jitter_ms") or 0) > JITTER_FLAG_MS or (
        stats.get("loss_percent") or 0
    ) > LOSS_FLAG_PERCENT


# Budgets: (burst, refill per second). The call page sends stats every 5 s and a handful of
# candidates at a time; people type chat. Everything else only counts against "any".
RATES = {
    "any": (200.0, 50.0),
    "stats": (3.0, 0.5),
    "chat": (10.0, 1.0),
}
# A connection refused this many frames in a row is flooding: the consumer closes it.
REFUSALS_BEFORE_CLOSE = 200


class Budget:
    """Token buckets of one connection: ``allow(kind, now)`` says whether a frame of that kind
    may go through at ``now`` (seconds, monotonic) and takes its tokens if so. A frame refused
    by its kind's bucket takes nothing from the general one."""

    def __init__(self, rates: dict[str, tuple[float, float]] | None = None, now: float = 0.0):
        self.rates = rates or RATES
        self.tokens = {kind: burst for kind, (burst, _rate) in self.rates.items()}
        self.at = {kind: now for kind in self.rates}

    def _refill(self, kind: str, now: float) -> float:
        burst, rate = self.rates[kind]
        elapsed = max(0.0, now - self.at[kind])
        self.tokens[kind] = min(burst, self.tokens[kind] + elapsed * rate)
        self.at[kind] = max(self.at[kind], now)
        return self.tokens[kind]

    def allow(self, kind: str, now: float) -> bool:
        kinds = ["any"] + ([kind] if kind in self.rates and kind != "any" else [])
        if any(self._refill(k, now) < 1.0 for k in kinds):
            return False
        for k in kinds:
            self.tokens[k] -= 1.0
        return True
