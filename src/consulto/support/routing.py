"""Routing engine of the support desk: which waiting contact goes to which agent, and when.

Customers (practitioners, patients) open contacts: a call (to be called back now, or at a chosen
time: ``not_before``), a chat or a written request ("email"). Agents of in-house or outsourced
teams take them. This module decides who takes what, offers the times a callback may be booked
at, estimates the wait of a callback asked for now, and turns a weekly shift pattern into
intervals. It is pure (standard library only, no Django): the Django side loads the queue and
the agents, turns them into the value objects below and applies the decisions.

Each rule lives in one function:

* `is_due`: a contact whose ``not_before`` lies in the future is not routed yet.
* `queued_at`: a contact waits from ``waiting_since``, a scheduled callback from its time.
* `queue_order`: priority first (higher number first), then the longest waiting, then the id.
* `can_take`: the agent's side. Presence "available" or "busy" (never "wrap_up", "break",
  "offline"), ``now`` inside one of the shift intervals, and room for the channel (`rooms`):
  on a call, nothing else; with a chat or a written request in hand, no call; chats and written
  requests up to their capacities.
* `requirement`: what the contact asks of an agent after its wait. The required level drops one
  step after each wait of ``Policy.relax_level_after`` (never below 1: an agent without the
  product skill never gets it), the kind is waived after ``Policy.relax_kind_after``; the
  language and the product are never waived.
* `fits`: the contact and the agent match under a requirement: language, product skill level,
  kind, not declined by (or timed out on) that agent, and only the pinned agent when pinned. A
  pin restricts, it waives nothing: whoever pins a contact to an agent (a transfer, a callback
  the agent scheduled) gives it a level and a kind that agent has.
* `eligible` = `is_due` and `can_take` and `fits`.
* `_Desk.pick`: among the eligible agents, those of the provider furthest below its target
  share of the contacts assigned in the period (``Policy.provider_shares``), then the longest
  idle: an agent holding no contact before one holding some (fewer before more), then the
  earliest ``idle_since``, then the lowest id.
* `route_one` places the first contact in queue order that has an eligible agent; `route`
  places as many as it can, in queue order, each with the state the previous ones left
  (`take`: the agent's load grows; the provider's count grows).

Instants are aware datetimes. ``now`` is read in UTC, so shift bounds in a named zone (as
`shift_intervals` gives them) compare with it exactly; contacts' instants are best given in UTC
(as the database gives them): Python compares two datetimes of one named zone by their wall
times, which is wrong inside the hour repeated when clocks go back.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "CALL",
    "CHANNELS",
    "CHAT",
    "EMAIL",
    "IN_HOUSE",
    "KINDS",
    "PRESENCES",
    "PRODUCTS",
    "Agent",
    "Assignment",
    "Contact",
    "DayShift",
    "Policy",
    "Requirement",
    "callback_slots",
    "can_take",
    "eligible",
    "expected_wait",
    "fits",
    "has_room",
    "is_due",
    "on_shift",
    "queue_order",
    "queued_at",
    "relaxed_for",
    "requirement",
    "rooms",
    "route",
    "route_one",
    "shift_intervals",
    "take",
]

CALL, CHAT, EMAIL = "call", "chat", "email"
CHANNELS = (CALL, CHAT, EMAIL)
PRODUCTS = ("agenda", "video", "practice", "account", "billing")
KINDS = ("technical", "account_management")
PRESENCES = ("available", "busy", "wrap_up", "break", "offline")
IN_HOUSE = "in_house"
LOWEST_LEVEL = 1
# "busy" is an agent on contacts who may still have room (a second chat).
READY = frozenset({"available", "busy"})
# Who will be able to take a contact soon: the ready ones and those finishing a contact's notes.
SOON_READY = READY | {"wrap_up"}
_start = itemgetter(0)
_new_tuple = tuple.__new__


@dataclass(frozen=True, slots=True)
class Policy:
    """How the desk relaxes its requirements and splits contacts between providers."""

    # Waits (from `queued_at`) after which the required level drops one more step: increasing.
    relax_level_after: tuple[timedelta, ...] = ()
    # Wait (from `queued_at` too) after which an agent of the other kind may take the contact;
    # None: never. To waive the kind only once the level has dropped, make it the longest wait.
    relax_kind_after: timedelta | None = None
    # Target share of the period's contacts per provider ("in_house", "provider:12"...),
    # normalised to sum to 1; a provider absent has a target of 0. Empty: no split.
    provider_shares: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        waits = self.relax_level_after
        if any(wait < timedelta(0) for wait in waits) or list(waits) != sorted(waits):
            raise ValueError(f"relax_level_after must be increasing waits >= 0: {waits!r}")
        if self.relax_kind_after is not None and self.relax_kind_after < timedelta(0):
            raise ValueError(f"relax_kind_after must be >= 0: {self.relax_kind_after!r}")
        if any(share < 0 for share in self.provider_shares.values()):
            raise ValueError(f"provider shares must be >= 0: {self.provider_shares!r}")


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    provider: str  # IN_HOUSE or an outsourced provider's key, e.g. "provider:12"
    kind: str  # one of KINDS
    skills: Mapping[str, int]  # product -> level, 1 (beginner) .. 3 (expert); absent: none
    languages: frozenset[str]
    presence: str  # one of PRESENCES
    load: Mapping[str, int]  # channel -> contacts in hand
    capacity: Mapping[str, int]  # channel -> most contacts at once; absent: takes none
    idle_since: datetime  # last time the load dropped to zero or the agent became available
    # Half-open [start, end), breaks cut out, in order and not overlapping. In UTC, as
    # `shift_intervals` gives them: they are compared with ``now`` for every agent of every
    # decision, and comparing datetimes of two zones costs a utcoffset() each.
    shifts: tuple[tuple[datetime, datetime], ...]

    def __post_init__(self) -> None:
        previous_end = None
        for start, end in self.shifts:
            if end <= start or (previous_end is not None and start < previous_end):
                raise ValueError(f"shifts must be non-empty, in order, apart: {self.shifts!r}")
            previous_end = end


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    channel: str  # one of CHANNELS
    product: str  # one of PRODUCTS
    kind: str  # one of KINDS
    language: str
    priority: int  # higher first (a practitioner unable to consult right now)
    waiting_since: datetime
    level: int  # the skill level asked for, before any relaxation
    declined_by: frozenset[int] = frozenset()  # agents who declined it or let it time out
    pinned_agent: int | None = None  # only this agent may take it
    not_before: datetime | None = None  # a callback at a chosen time: not routed before


@dataclass(frozen=True, slots=True)
class Assignment:
    contact_id: int
    agent_id: int
    relaxed: tuple[str, ...]  # what this agent lacks that the contact asked for: "level", "kind"


class Requirement(NamedTuple):
    """What a contact asks of an agent after its wait (a tuple: built for every contact)."""

    level: int  # the lowest product skill level accepted, >= 1
    any_kind: bool  # an agent of either kind may take it


@dataclass(frozen=True, slots=True)
class DayShift:
    """One weekday of a weekly shift pattern, in wall-clock times of the desk's zone."""

    start: time
    end: time  # > start: a shift ends on the day it starts
    break_start: time | None = None
    break_length: timedelta = timedelta(0)


# The contact's side -------------------------------------------------------------------------


def is_due(contact: Contact, now: datetime) -> bool:
    return contact.not_before is None or contact.not_before <= now


def queued_at(contact: Contact) -> datetime:
    """When the contact started waiting: a callback at a chosen time waits from that time, so
    that it neither jumps ahead of the contacts that came before its time nor relaxes early."""
    not_before = contact.not_before
    if not_before is not None and not_before > contact.waiting_since:
        return not_before
    return contact.waiting_since


def queue_order(contact: Contact) -> tuple[int, datetime, int]:
    """Sort key of the queue: the higher priority first, then the longest waiting."""
    return (-contact.priority, queued_at(contact), contact.id)


class _Relaxation:
    """`requirement` for one ``now``: the waits turned into instants once."""

    __slots__ = ("_kind_cutoff", "_level_cutoffs")

    def __init__(self, now: datetime, policy: Policy) -> None:
        # Increasing waits give decreasing cutoffs: a contact queued at or before the k-th
        # cutoff has waited the k-th wait.
        self._level_cutoffs = tuple(now - wait for wait in policy.relax_level_after)
        kind_wait = policy.relax_kind_after
        self._kind_cutoff = None if kind_wait is None else now - kind_wait

    def requirement(self, contact: Contact) -> Requirement:
        queued = contact.waiting_since if contact.not_before is None else queued_at(contact)
        level = contact.level
        for cutoff in self._level_cutoffs:
            if queued > cutoff:
                break
            level -= 1
        if level < LOWEST_LEVEL:
            level = LOWEST_LEVEL
        any_kind = self._kind_cutoff is not None and queued <= self._kind_cutoff
        # Requirement(level, any_kind) without NamedTuple's Python-level __new__: this runs for
        # most contacts of the queue on every decision.
        return _new_tuple(Requirement, (level, any_kind))


def requirement(contact: Contact, *, now: datetime, policy: Policy) -> Requirement:
    return _Relaxation(_utc(now), policy).requirement(contact)


# The agent's side ---------------------------------------------------------------------------


def on_shift(agent: Agent, now: datetime) -> bool:
    shifts = agent.shifts
    index = bisect_right(shifts, now, key=_start) - 1
    return index >= 0 and now < shifts[index][1]


def rooms(agent: Agent) -> tuple[str, ...]:
    """The channels the agent has room for. Capacity and mixing: on a call an agent takes
    nothing else, with a chat or a written request no call; chats and written requests each up
    to their capacity."""
    load, capacity = agent.load, agent.capacity
    if load.get(CALL, 0) > 0:
        return ()
    chats, mails = load.get(CHAT, 0), load.get(EMAIL, 0)
    found = []
    if chats == 0 and mails == 0 and capacity.get(CALL, 0) > 0:
        found.append(CALL)
    if chats < capacity.get(CHAT, 0):
        found.append(CHAT)
    if mails < capacity.get(EMAIL, 0):
        found.append(EMAIL)
    return tuple(found)


def has_room(agent: Agent, channel: str) -> bool:
    return channel in rooms(agent)


def can_take(agent: Agent, channel: str, now: datetime) -> bool:
    return agent.presence in READY and on_shift(agent, now) and has_room(agent, channel)


def take(agent: Agent, channel: str) -> Agent:
    """The agent after taking a contact of that channel (``idle_since`` stays: it is the last
    time the load dropped to zero)."""
    load = dict(agent.load)
    load[channel] = load.get(channel, 0) + 1
    return replace(agent, load=load, presence="busy")


# The match ----------------------------------------------------------------------------------


def fits(agent: Agent, contact: Contact, need: Requirement) -> bool:
    return (
        contact.language in agent.languages
        and agent.skills.get(contact.product, 0) >= need.level
        and (need.any_kind or agent.kind == contact.kind)
        and agent.id not in contact.declined_by
        and (contact.pinned_agent is None or contact.pinned_agent == agent.id)
    )


def eligible(contact: Contact, agent: Agent, *, now: datetime, policy: Policy) -> bool:
    """Whether the agent may take the contact now (every rule but the choice between agents)."""
    now = _utc(now)
    return (
        is_due(contact, now)
        and can_take(agent, contact.channel, now)
        and fits(agent, contact, _Relaxation(now, policy).requirement(contact))
    )


def relaxed_for(contact: Contact, agent: Agent) -> tuple[str, ...]:
    """What the agent lacks that the contact asked for, for the console."""
    waived = []
    if agent.skills.get(contact.product, 0) < contact.level:
        waived.append("level")
    if agent.kind != contact.kind:
        waived.append("kind")
    return tuple(waived)


# Routing ------------------------------------------------------------------------------------

_Bucket = tuple[str, str, str]  # (channel, product, language)
_MemoKey = tuple[str, str, str, int, str | None]  # the bucket, the level, the kind (None: any)


class _Desk:
    """The agents as one routing pass sees them, indexed by what they can take now.

    Agents who can take something are listed under every (channel, product, language) they have
    room, a skill and the language for; a contact only looks through its own list. A pass
    assumes agents only lose room (no one finishes a contact during it), so a requirement no
    agent meets stays unmet for the rest of the pass (``_dead``).
    """

    __slots__ = (
        "_best",
        "_dead",
        "_deficits",
        "_providers",
        "_relaxation",
        "_targets",
        "buckets",
        "counts",
        "now",
    )

    def __init__(
        self,
        agents: Iterable[Agent],
        *,
        now: datetime,
        policy: Policy,
        assigned_counts: Mapping[str, int] | None,
    ) -> None:
        self.now = now
        self._relaxation = _Relaxation(now, policy)
        self._targets = _targets(policy.provider_shares)
        self.counts: dict[str, int] = dict(assigned_counts or {})
        self.buckets: dict[_Bucket, list[Agent]] = {}
        self._dead: set[_MemoKey] = set()
        self._best: dict[_MemoKey, Agent] = {}
        self._providers: set[str] = set()
        for agent in agents:
            if agent.presence not in READY or not on_shift(agent, now):
                continue
            channels = rooms(agent)
            if not channels:
                continue
            self._providers.add(agent.provider)
            for key in _buckets_of(agent, channels):
                bucket = self.buckets.get(key)
                if bucket is None:
                    self.buckets[key] = [agent]
                else:
                    bucket.append(agent)
        self._deficits = self._compute_deficits()

    def _compute_deficits(self) -> dict[str, float]:
        """How far each provider is below its target share of the period's contacts."""
        total = sum(self.counts.values())
        return {
            provider: self._targets.get(provider, 0.0)
            - (self.counts.get(provider, 0) / total if total else 0.0)
            for provider in self._providers
        }

    def place(self, contact: Contact) -> Agent | None:
        """The agent the contact goes to now, if any."""
        if contact.not_before is not None and not is_due(contact, self.now):
            return None
        need = self._relaxation.requirement(contact)
        kind = None if need.any_kind else contact.kind
        memo = (contact.channel, contact.product, contact.language, need.level, kind)
        if memo in self._dead:
            return None
        plain = not contact.declined_by and contact.pinned_agent is None
        if plain:
            cached = self._best.get(memo)
            if cached is not None:
                return cached
        agent = self.pick(contact, need)
        if plain:
            if agent is None:
                self._dead.add(memo)
            else:
                self._best[memo] = agent
        return agent

    def pick(self, contact: Contact, need: Requirement) -> Agent | None:
        """The eligible agent of the provider furthest below its share, then the longest idle."""
        deficits = self._deficits
        chosen: Agent | None = None
        chosen_rank: tuple[float, tuple[int, datetime, int]] | None = None
        for agent in self.buckets.get((contact.channel, contact.product, contact.language), ()):
            if not fits(agent, contact, need):
                continue
            rank = (-deficits[agent.provider], _idle_rank(agent))
            if chosen_rank is None or rank < chosen_rank:
                chosen, chosen_rank = agent, rank
        return chosen

    def first_placement(self, contacts: Iterable[Contact]) -> tuple[Contact, Agent] | None:
        """The first contact in queue order that has an agent, and that agent, in one pass
        over the contacts in any order (sorting a thousand contacts costs more than this)."""
        buckets = self.buckets
        found: tuple[Contact, Agent] | None = None
        found_order: tuple[int, datetime, int] | None = None
        # The priority of the contact found: one of a lower priority comes after it in queue
        # order, and an integer comparison costs less than `queue_order`.
        floor: float = -math.inf
        for contact in contacts:
            if contact.priority < floor:
                continue
            if (contact.channel, contact.product, contact.language) not in buckets:
                continue
            if found_order is not None and queue_order(contact) >= found_order:
                continue
            agent = self.place(contact)
            if agent is not None:
                found, found_order, floor = (contact, agent), queue_order(contact), contact.priority
        return found

    def assign(self, contact: Contact, agent: Agent) -> Assignment:
        taken = take(agent, contact.channel)
        still = rooms(taken)
        for key in _buckets_of(agent, rooms(agent)):
            bucket = self.buckets[key]
            index = next(i for i, listed in enumerate(bucket) if listed is agent)
            if key[0] in still:
                bucket[index] = taken
            elif len(bucket) > 1:
                del bucket[index]
            else:
                del self.buckets[key]
        self.counts[agent.provider] = self.counts.get(agent.provider, 0) + 1
        self._deficits = self._compute_deficits()
        self._best.clear()
        return Assignment(contact.id, agent.id, relaxed_for(contact, agent))


def _buckets_of(agent: Agent, channels: tuple[str, ...]) -> list[_Bucket]:
    return [
        (channel, product, language)
        for product, level in agent.skills.items()
        if level >= LOWEST_LEVEL
        for language in agent.languages
        for channel in channels
    ]


def _idle_rank(agent: Agent) -> tuple[int, datetime, int]:
    """The longest idle first: no contact in hand before some, then the earliest idle."""
    return (sum(agent.load.values()), agent.idle_since, agent.id)


def _targets(shares: Mapping[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    return {provider: share / total for provider, share in shares.items()} if total else {}


def route_one(
    contacts: Iterable[Contact],
    agents: Iterable[Agent],
    *,
    now: datetime,
    policy: Policy,
    assigned_counts: Mapping[str, int] | None = None,
) -> Assignment | None:
    """One routing decision: the first contact in queue order that an agent can take now, and
    the agent it goes to; None when no waiting contact can be placed.

    ``assigned_counts`` are the contacts assigned to each provider so far in the period.
    """
    desk = _Desk(agents, now=_utc(now), policy=policy, assigned_counts=assigned_counts)
    found = desk.first_placement(contacts)
    if found is None:
        return None
    contact, agent = found
    return Assignment(contact.id, agent.id, relaxed_for(contact, agent))


def route(
    contacts: Iterable[Contact],
    agents: Iterable[Agent],
    *,
    now: datetime,
    policy: Policy,
    assigned_counts: Mapping[str, int] | None = None,
) -> list[Assignment]:
    """Place as many waiting contacts as possible, in queue order, each decision seeing the
    loads and counts the previous ones left: the same as calling `route_one` again after
    applying each assignment (`take`, the provider's count + 1), until it returns None.

    One pass in queue order is enough: agents only lose room during it, so a contact that has
    no agent when its turn comes has none later either.
    """
    desk = _Desk(agents, now=_utc(now), policy=policy, assigned_counts=assigned_counts)
    buckets = desk.buckets
    candidates = sorted(
        (c for c in contacts if (c.channel, c.product, c.language) in buckets), key=queue_order
    )
    assignments = []
    for contact in candidates:
        agent = desk.place(contact)
        if agent is not None:
            assignments.append(desk.assign(contact, agent))
    return assignments


# Callbacks at a chosen time, and the wait of one asked for now -----------------------------


def callback_slots(
    agents: Iterable[Agent],
    *,
    product: str,
    kind: str | None,
    language: str,
    start: datetime,
    end: datetime,
    step: timedelta,
    level: int = LOWEST_LEVEL,
    booked: Mapping[datetime, int] | None = None,
) -> list[datetime]:
    """Starts of the slots [t, t + step) between ``start`` and ``end`` at which a callback may be
    booked: at least one agent who takes calls, speaks the language and has the product skill
    at ``level`` or above (and the kind, unless None) is on shift for the whole slot, and fewer
    callbacks are already ``booked`` at that start than such agents.

    Slots follow a grid of real durations from ``start`` and are given in ``start``'s zone.
    Presence is not considered: it is about later.
    """
    if step <= timedelta(0):
        raise ValueError(f"step must be positive: {step!r}")
    start_utc, end_utc = _utc(start), _utc(end)
    covering = [
        _merged_shifts(agent.shifts)
        for agent in agents
        if agent.capacity.get(CALL, 0) > 0
        and language in agent.languages
        and agent.skills.get(product, 0) >= max(level, LOWEST_LEVEL)
        and (kind is None or agent.kind == kind)
    ]
    taken = {_utc(moment): count for moment, count in (booked or {}).items()}
    slots = []
    slot = start_utc
    while slot + step <= end_utc:
        on_duty = sum(_covers(shifts, slot, slot + step) for shifts in covering)
        if on_duty > taken.get(slot, 0):
            slots.append(slot.astimezone(start.tzinfo))
        slot += step
    return slots


def _merged_shifts(shifts: Iterable[tuple[datetime, datetime]]) -> tuple[list, list]:
    """(starts, ends) in UTC of the shifts, sorted, touching or overlapping ones joined."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    for begin, finish in sorted((_utc(a), _utc(b)) for a, b in shifts):
        if finish <= begin:
            continue
        if ends and begin <= ends[-1]:
            ends[-1] = max(ends[-1], finish)
        else:
            starts.append(begin)
            ends.append(finish)
    return starts, ends


def _covers(shifts: tuple[list, list], begin: datetime, finish: datetime) -> bool:
    starts, ends = shifts
    index = bisect_right(starts, begin) - 1
    return index >= 0 and ends[index] >= finish


def expected_wait(
    contact: Contact,
    waiting: Iterable[Contact],
    agents: Iterable[Agent],
    *,
    now: datetime,
    policy: Policy,
    handle_time: timedelta,
) -> timedelta | None:
    """A rough estimate of how long ``contact`` (typically a call asked for now, not queued yet)
    will wait; None when no agent who could take it is on shift now.

    The serving agents are those on shift now, not on break or offline (available, busy, or
    wrapping up: soon free), with the contact's channel, language, product level and kind as
    its requirement stands now. The contacts ahead are the waiting ones of the same channel,
    due, before it in queue order, that one of the serving agents could take. The agents free
    now take the first ones at once; the others come as the serving agents finish, each one
    contact per ``handle_time``:

        wait = handle_time * max(0, ahead + 1 - free now) / serving agents

    Each agent is counted as one contact at a time: exact for calls, pessimistic for chats.
    """
    now = _utc(now)
    relaxation = _Relaxation(now, policy)
    need = relaxation.requirement(contact)
    channel = contact.channel
    serving = [
        agent
        for agent in agents
        if agent.presence in SOON_READY
        and on_shift(agent, now)
        and agent.capacity.get(channel, 0) > 0
        and fits(agent, contact, need)
    ]
    if not serving:
        return None
    free_now = sum(1 for agent in serving if can_take(agent, channel, now))
    mine = queue_order(contact)
    ahead = 0
    for other in waiting:
        if (
            other.id != contact.id
            and other.channel == channel
            and is_due(other, now)
            and queue_order(other) < mine
        ):
            other_need = relaxation.requirement(other)
            ahead += any(fits(agent, other, other_need) for agent in serving)
    return handle_time * max(0, ahead + 1 - free_now) / len(serving)


# Shifts ------------------------------------------------------------------------------------


def shift_intervals(
    pattern: Mapping[int, DayShift],
    *,
    start_date: date,
    end_date: date,
    zone: str | ZoneInfo,
) -> tuple[tuple[datetime, datetime], ...]:
    """The intervals worked from ``start_date`` to ``end_date`` (both included) under a weekly
    ``pattern`` (weekday 0 = Monday .. 6 = Sunday; a weekday absent is not worked), the break
    cut out, in order, as UTC datetimes: what `Agent.shifts` compares fastest with ``now``.

    Times are wall-clock times: 08:00-16:00 is 08:00-16:00 on both sides of a DST change. A
    wall time that does not exist (in the hour skipped in spring) is read with the offset
    before the change (zoneinfo's fold=0), so it lands as much later as the clocks jumped:
    02:30 becomes 03:30 summer time; a time that occurs twice (in autumn) is the first one.
    """
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    for weekday, day_shift in pattern.items():
        _check_day_shift(weekday, day_shift)
    intervals: list[tuple[datetime, datetime]] = []
    day = start_date
    while day <= end_date:
        day_shift = pattern.get(day.weekday())
        if day_shift is not None:
            for begin, finish in _wall_periods(day_shift):
                first, last = _wall_instant(day, begin, tz), _wall_instant(day, finish, tz)
                if first < last:
                    intervals.append((first, last))
        day += timedelta(days=1)
    return tuple(intervals)


def _check_day_shift(weekday: int, shift: DayShift) -> None:
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday): {weekday!r}")
    if shift.end <= shift.start:
        raise ValueError(f"a shift must end after it starts, the same day: {shift!r}")
    if shift.break_start is not None:
        if shift.break_length <= timedelta(0):
            raise ValueError(f"a break must last: {shift!r}")
        break_end = _wall_after(shift.break_start, shift.break_length)
        if not shift.start <= shift.break_start < break_end <= shift.end:
            raise ValueError(f"the break must lie inside the shift: {shift!r}")


def _wall_periods(shift: DayShift) -> list[tuple[time, time]]:
    if shift.break_start is None:
        return [(shift.start, shift.end)]
    break_end = _wall_after(shift.break_start, shift.break_length)
    return [(shift.start, shift.break_start), (break_end, shift.end)]


def _wall_after(wall: time, length: timedelta) -> time:
    """The wall-clock time ``length`` after ``wall`` (the same day, or time.max if past it)."""
    later = datetime.combine(date.min, wall) + length
    return later.time() if later.date() == date.min else time.max


def _wall_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall.replace(fold=0), tzinfo=zone).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got {moment!r}")
    return moment.astimezone(UTC)
