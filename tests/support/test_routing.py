"""Tests of the support desk's routing engine (consulto.support.routing).

Example tests pin down each rule on a readable case; Hypothesis properties state the rules as
laws over random desks and compare the engine with a deliberately naive reference written here
from the rules (``ref_*``). No database is needed; the clock is a fixed Wednesday morning.
"""

from __future__ import annotations

import ast
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consulto.support import routing
from consulto.support.routing import (
    IN_HOUSE,
    Agent,
    Assignment,
    Contact,
    DayShift,
    Policy,
    callback_slots,
    eligible,
    expected_wait,
    requirement,
    route,
    route_one,
    shift_intervals,
    take,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 9, 9, 17, tzinfo=UTC)  # 10:17 in Paris, an ordinary Wednesday
P1, P2 = "provider:1", "provider:2"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


DAY_SHIFT = ((NOW - hours(3), NOW + hours(5)),)
NO_RELAXATION = Policy()
IDLE_FOR = timedelta(minutes=10)
WAITED = timedelta(minutes=1)


def agent(
    id: int = 1,
    *,
    provider: str = IN_HOUSE,
    kind: str = "technical",
    skills: dict[str, int] | None = None,
    languages: tuple[str, ...] = ("fr",),
    presence: str = "available",
    load: dict[str, int] | None = None,
    capacity: dict[str, int] | None = None,
    idle_for: timedelta = IDLE_FOR,
    shifts: tuple[tuple[datetime, datetime], ...] = DAY_SHIFT,
) -> Agent:
    return Agent(
        id=id,
        provider=provider,
        kind=kind,
        skills={"agenda": 2} if skills is None else skills,
        languages=frozenset(languages),
        presence=presence,
        load={} if load is None else load,
        capacity={"call": 1, "chat": 3, "email": 2} if capacity is None else capacity,
        idle_since=NOW - idle_for,
        shifts=shifts,
    )


def contact(
    id: int = 1,
    *,
    channel: str = "call",
    product: str = "agenda",
    kind: str = "technical",
    language: str = "fr",
    priority: int = 0,
    waited: timedelta = WAITED,
    level: int = 1,
    declined_by: tuple[int, ...] = (),
    pinned_agent: int | None = None,
    not_before: datetime | None = None,
) -> Contact:
    return Contact(
        id=id,
        channel=channel,
        product=product,
        kind=kind,
        language=language,
        priority=priority,
        waiting_since=NOW - waited,
        level=level,
        declined_by=frozenset(declined_by),
        pinned_agent=pinned_agent,
        not_before=not_before,
    )


def one(contacts, agents, *, policy=NO_RELAXATION, counts=None, now=NOW) -> Assignment | None:
    return route_one(contacts, agents, now=now, policy=policy, assigned_counts=counts)


def placed(contacts, agents, *, policy=NO_RELAXATION, counts=None) -> list[tuple[int, int]]:
    result = route(contacts, agents, now=NOW, policy=policy, assigned_counts=counts)
    return [(a.contact_id, a.agent_id) for a in result]


def who(contacts, agents, **kwargs) -> int | None:
    """The agent the next decision picks, or None."""
    found = one(contacts, agents, **kwargs)
    return None if found is None else found.agent_id


# --------------------------------------------------------------------------------------
# Example tests: the match
# --------------------------------------------------------------------------------------


def test_it_gives_a_waiting_call_to_an_available_agent_with_the_skill():
    assert one([contact()], [agent()]) == Assignment(contact_id=1, agent_id=1, relaxed=())


@pytest.mark.parametrize("presence", ["break", "offline", "wrap_up"])
def test_it_never_gives_a_call_to_an_agent_on_break_offline_or_wrapping_up(presence):
    assert one([contact()], [agent(presence=presence)]) is None
    assert one([contact(channel="chat")], [agent(presence=presence)]) is None


def test_a_busy_agent_with_room_for_another_chat_takes_one():
    busy = agent(presence="busy", load={"chat": 1})
    assert who([contact(channel="chat")], [busy]) == 1


@pytest.mark.parametrize(
    "shifts",
    [
        (),
        ((NOW + minutes(1), NOW + hours(8)),),  # not started yet
        ((NOW - hours(8), NOW),),  # ended right now: intervals are half-open
        ((NOW - hours(4), NOW - minutes(10)), (NOW + minutes(20), NOW + hours(4))),  # on break
    ],
    ids=["no_shift", "not_started", "just_ended", "on_break"],
)
def test_it_never_gives_anything_to_an_agent_out_of_shift(shifts):
    assert one([contact()], [agent(shifts=shifts)]) is None


def test_an_agent_whose_shift_starts_now_is_on_shift():
    assert who([contact()], [agent(shifts=((NOW, NOW + hours(8)),))]) == 1


def test_the_language_must_match_and_a_bilingual_agent_takes_either():
    english = contact(language="en")
    assert one([english], [agent(languages=("fr",))]) is None
    assert who([english], [agent(languages=("fr", "en"))]) == 1


def test_the_product_skill_and_level_must_match():
    assert one([contact(product="billing")], [agent(skills={"agenda": 3})]) is None
    assert one([contact(level=3)], [agent(skills={"agenda": 2})]) is None
    assert who([contact(level=2)], [agent(skills={"agenda": 2})]) == 1


def test_the_kind_must_match():
    assert one([contact(kind="account_management")], [agent(kind="technical")]) is None


# Capacity and mixing ------------------------------------------------------------------------


def test_an_agent_on_a_call_takes_nothing_else():
    on_call = agent(presence="busy", load={"call": 1})
    for channel in ("call", "chat", "email"):
        assert one([contact(channel=channel)], [on_call]) is None


def test_an_agent_with_a_chat_or_a_written_request_takes_no_call():
    for load in ({"chat": 1}, {"email": 1}):
        busy = agent(presence="busy", load=load)
        assert one([contact(channel="call")], [busy]) is None
        assert who([contact(channel="chat")], [busy]) == 1


def test_chats_up_to_the_chat_capacity_and_written_requests_up_to_theirs():
    full_of_chats = agent(presence="busy", load={"chat": 3})
    assert one([contact(channel="chat")], [full_of_chats]) is None
    assert who([contact(channel="email")], [full_of_chats]) == 1
    full_of_mail = agent(presence="busy", load={"email": 2})
    assert one([contact(channel="email")], [full_of_mail]) is None
    assert who([contact(channel="chat")], [full_of_mail]) == 1


def test_a_channel_without_capacity_is_never_given():
    assert one([contact(channel="email")], [agent(capacity={"call": 1, "chat": 3})]) is None


# Order of the queue --------------------------------------------------------------------------


def test_the_higher_priority_goes_first_then_the_longest_waiting():
    contacts = [
        contact(1, waited=minutes(30)),
        contact(2, priority=1, waited=minutes(1)),  # a practitioner who cannot consult now
        contact(3, priority=1, waited=minutes(5)),
    ]
    assert one(contacts, [agent()]).contact_id == 3
    assert placed(contacts, [agent(1), agent(2), agent(3)]) == [(3, 1), (2, 2), (1, 3)]


def test_a_contact_that_no_agent_can_take_does_not_hold_up_the_queue():
    contacts = [contact(1, product="billing", waited=minutes(30)), contact(2)]
    assert one(contacts, [agent()]) == Assignment(2, 1, ())


# Choice among agents -------------------------------------------------------------------------


def test_the_longest_idle_agent_gets_the_contact():
    agents = [agent(1, idle_for=minutes(2)), agent(2, idle_for=minutes(9)), agent(3)]
    assert who([contact()], agents) == 3  # idle for 10 minutes


def test_an_agent_holding_no_contact_goes_before_one_holding_chats():
    chatting = agent(1, presence="busy", load={"chat": 1}, idle_for=hours(2))
    assert who([contact(channel="chat")], [chatting, agent(2, idle_for=minutes(1))]) == 2


def test_the_provider_furthest_below_its_share_gets_the_contact():
    policy = Policy(provider_shares={IN_HOUSE: 0.5, P1: 0.25, P2: 0.25})
    agents = [
        agent(1, provider=IN_HOUSE, idle_for=hours(1)),
        agent(2, provider=P1, idle_for=minutes(5)),
        agent(3, provider=P2, idle_for=minutes(20)),
        agent(4, provider=P2, idle_for=minutes(30)),
    ]
    # 60 % in-house (target 50 %), 30 % P1 (25 %), 10 % P2 (25 %): P2, its longest idle.
    counts = {IN_HOUSE: 6, P1: 3, P2: 1}
    assert who([contact()], agents, policy=policy, counts=counts) == 4
    # Nothing assigned yet: in-house is furthest below (50 % of nothing).
    assert who([contact()], agents, policy=policy, counts={}) == 1


def test_a_provider_without_an_eligible_agent_does_not_hold_up_the_contact():
    policy = Policy(provider_shares={IN_HOUSE: 0.5, P1: 0.5})
    agents = [agent(1, provider=IN_HOUSE), agent(2, provider=P1, presence="break")]
    assert who([contact()], agents, policy=policy, counts={IN_HOUSE: 10}) == 1


def test_route_keeps_the_split_as_it_assigns():
    policy = Policy(provider_shares={IN_HOUSE: 0.5, P1: 0.5})
    agents = [agent(i, provider=IN_HOUSE if i <= 4 else P1) for i in range(1, 9)]
    contacts = [contact(i, waited=minutes(20 - i)) for i in range(1, 7)]
    providers = [
        next(a.provider for a in agents if a.id == agent_id)
        for _, agent_id in placed(contacts, agents, policy=policy, counts={})
    ]
    assert providers == [IN_HOUSE, P1, IN_HOUSE, P1, IN_HOUSE, P1]


# Relaxation ---------------------------------------------------------------------------------


def test_the_required_level_drops_one_step_after_each_configured_wait():
    policy = Policy(relax_level_after=(minutes(2), minutes(5)))
    beginner = agent(skills={"agenda": 1})
    assert one([contact(level=3, waited=minutes(1))], [beginner], policy=policy) is None
    assert one([contact(level=3, waited=minutes(3))], [beginner], policy=policy) is None
    assert one([contact(level=3, waited=minutes(3))], [agent(skills={"agenda": 2})], policy=policy)
    found = one([contact(level=3, waited=minutes(5))], [beginner], policy=policy)
    assert found == Assignment(1, 1, ("level",))


def test_the_level_never_drops_below_one_and_an_agent_without_the_skill_never_gets_it():
    no_skill = agent(skills={"video": 3})
    for steps in (3, 4):  # three steps down from level 3 would ask for level 0, four for -1
        policy = Policy(relax_level_after=tuple(minutes(n) for n in range(1, steps + 1)))
        old = contact(level=3, waited=hours(5))
        assert requirement(old, now=NOW, policy=policy).level == 1
        assert one([old], [no_skill], policy=policy) is None


def test_the_kind_is_relaxed_after_its_wait_only():
    policy = Policy(relax_level_after=(minutes(2),), relax_kind_after=minutes(10))
    manager = agent(kind="account_management")
    assert one([contact(waited=minutes(9))], [manager], policy=policy) is None
    found = one([contact(level=2, waited=minutes(10))], [manager], policy=policy)
    assert found == Assignment(1, 1, ("kind",))


def test_the_language_is_never_relaxed():
    policy = Policy(relax_level_after=(minutes(1),), relax_kind_after=minutes(1))
    assert one([contact(language="en", waited=hours(8))], [agent()], policy=policy) is None


def test_the_assignment_says_what_the_agent_lacks():
    policy = Policy(relax_level_after=(minutes(1),), relax_kind_after=minutes(1))
    manager = agent(kind="account_management", skills={"agenda": 1})
    assert one([contact(level=2, waited=minutes(3))], [manager], policy=policy).relaxed == (
        "level",
        "kind",
    )


# Declines, pins, callbacks at a time ---------------------------------------------------------


def test_a_contact_declined_by_an_agent_is_not_offered_to_that_agent_again():
    declined = contact(declined_by=(1,))
    assert one([declined], [agent(1)]) is None
    assert who([declined], [agent(1, idle_for=hours(1)), agent(2)]) == 2


def test_a_pinned_contact_only_goes_to_its_agent_and_waits_for_them():
    pinned = contact(pinned_agent=2)
    assert who([pinned], [agent(1, idle_for=hours(1)), agent(2)]) == 2
    assert one([pinned], [agent(1), agent(2, presence="busy", load={"call": 1})]) is None
    assert one([pinned], [agent(1)]) is None


def test_a_callback_at_a_time_is_not_routed_before_its_time():
    later = contact(not_before=NOW + minutes(1), waited=hours(1))
    assert one([later], [agent()]) is None
    assert who([later], [agent()], now=NOW + minutes(1)) == 1


def test_a_scheduled_callback_waits_from_its_time():
    policy = Policy(relax_level_after=(minutes(5),))
    booked_early = contact(1, level=2, waited=hours(2), not_before=NOW - minutes(1))
    walk_in = contact(2, level=2, waited=minutes(3))
    # Queued one minute ago: behind the walk-in of three minutes ago, and not relaxed yet.
    assert one([booked_early, walk_in], [agent()], policy=policy).contact_id == 2
    assert one([booked_early], [agent(skills={"agenda": 1})], policy=policy) is None


# A whole pass ------------------------------------------------------------------------------


def test_route_fills_each_agent_up_to_capacity_and_no_further():
    chats = [contact(i, channel="chat", waited=minutes(10 - i)) for i in range(1, 6)]
    assert placed(chats, [agent(capacity={"chat": 3})]) == [(1, 1), (2, 1), (3, 1)]


def test_route_gives_one_call_per_agent_and_the_rest_wait():
    calls = [contact(i, waited=minutes(10 - i)) for i in range(1, 4)]
    assert placed(calls, [agent(1, idle_for=minutes(1)), agent(2)]) == [(1, 2), (2, 1)]


def test_route_with_nobody_to_take_anything_places_nothing():
    assert placed([contact()], []) == []
    assert placed([], [agent()]) == []


def test_eligible_states_the_rules_for_one_pair():
    assert eligible(contact(), agent(), now=NOW, policy=NO_RELAXATION)
    assert not eligible(contact(), agent(presence="break"), now=NOW, policy=NO_RELAXATION)
    assert not eligible(contact(level=3), agent(), now=NOW, policy=NO_RELAXATION)


def test_naive_now_and_invalid_policies_are_refused():
    with pytest.raises(ValueError):
        one([contact()], [agent()], now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError):
        Policy(relax_level_after=(minutes(5), minutes(2)))
    with pytest.raises(ValueError):
        Policy(provider_shares={IN_HOUSE: -1})
    with pytest.raises(ValueError):
        agent(shifts=((NOW, NOW - hours(1)),))
    with pytest.raises(ValueError):
        agent(shifts=((NOW, NOW + hours(4)), (NOW + hours(1), NOW + hours(5))))


def test_the_engine_imports_the_standard_library_only():
    tree = ast.parse(Path(routing.__file__).read_text())
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


# --------------------------------------------------------------------------------------
# Example tests: callbacks at a time, the wait of a callback now
# --------------------------------------------------------------------------------------

MORNING = datetime(2026, 12, 10, 8, 0, tzinfo=PARIS)  # Thursday 08:00 in Paris


def paris_clocks(slots: list[datetime]) -> list[str]:
    return [slot.astimezone(PARIS).strftime("%H:%M") for slot in slots]


def slots_for(agents, **kwargs) -> list[str]:
    params = {
        "product": "agenda",
        "kind": "technical",
        "language": "fr",
        "start": MORNING,
        "end": MORNING + hours(3),
        "step": minutes(30),
    }
    params.update(kwargs)
    return paris_clocks(callback_slots(agents, **params))


def test_callback_slots_are_offered_only_while_a_skilled_agent_is_on_shift_for_the_whole_slot():
    shift = ((MORNING + minutes(45), MORNING + hours(2)),)  # 08:45-10:00
    assert slots_for([agent(shifts=shift)]) == ["09:00", "09:30"]


def test_callback_slots_ignore_agents_without_the_language_skill_or_kind():
    shift = ((MORNING, MORNING + hours(3)),)
    assert slots_for([agent(languages=("en",), shifts=shift)]) == []
    assert slots_for([agent(skills={"video": 3}, shifts=shift)]) == []
    assert slots_for([agent(skills={"agenda": 1}, shifts=shift)], level=2) == []
    assert slots_for([agent(kind="account_management", shifts=shift)]) == []
    assert len(slots_for([agent(kind="account_management", shifts=shift)], kind=None)) == 6


def test_callback_slots_consider_later_shifts_not_the_presence_now():
    shift = ((MORNING, MORNING + hours(1)),)
    assert slots_for([agent(presence="offline", shifts=shift)]) == ["08:00", "08:30"]


def test_a_callback_slot_is_full_when_as_many_are_booked_as_agents_on_shift():
    shift = ((MORNING, MORNING + hours(1)),)
    agents = [agent(1, shifts=shift), agent(2, shifts=shift)]
    booked = {MORNING: 2, (MORNING + minutes(30)).astimezone(UTC): 1}
    assert slots_for(agents, booked=booked) == ["08:30"]


def test_callback_slots_run_across_touching_shifts():
    shifts = ((MORNING, MORNING + minutes(45)), (MORNING + minutes(45), MORNING + hours(1)))
    assert slots_for([agent(shifts=shifts)]) == ["08:00", "08:30"]


def test_expected_wait_is_none_when_nobody_who_could_take_it_is_on_shift():
    new = contact(waited=timedelta(0))
    wait = expected_wait(
        new, [], [agent(presence="break")], now=NOW, policy=NO_RELAXATION, handle_time=minutes(6)
    )
    assert wait is None


def test_expected_wait_is_zero_when_an_agent_is_free():
    new = contact(waited=timedelta(0))
    wait = expected_wait(new, [], [agent()], now=NOW, policy=NO_RELAXATION, handle_time=minutes(6))
    assert wait == timedelta(0)


def test_expected_wait_counts_the_contacts_ahead_that_the_same_agents_could_take():
    new = contact(100, priority=1, waited=timedelta(0))
    ahead = [contact(i, priority=1, waited=minutes(i)) for i in range(1, 5)]  # the agents take
    others = [
        contact(9, waited=hours(1)),  # a lower priority: behind it
        contact(10, language="en"),  # no serving agent speaks English
        contact(11, channel="chat"),  # another channel
        contact(12, not_before=NOW + hours(1)),  # not due yet
    ]
    agents = [
        agent(1),  # free now
        agent(2, presence="busy", load={"call": 1}),
        agent(3, presence="wrap_up"),
        agent(4, presence="break"),  # not counted
    ]
    wait = expected_wait(
        new, ahead + others, agents, now=NOW, policy=NO_RELAXATION, handle_time=minutes(6)
    )
    # (4 ahead + itself - 1 free now) contacts served by 3 agents, 6 minutes each.
    assert wait == minutes(6) * 4 / 3


# --------------------------------------------------------------------------------------
# Example tests: shifts from a weekly pattern
# --------------------------------------------------------------------------------------

EIGHT_TO_FOUR = DayShift(time(8), time(16), break_start=time(12), break_length=minutes(45))
EVERY_DAY = dict.fromkeys(range(7), EIGHT_TO_FOUR)


def wall(intervals) -> list[tuple[str, str]]:
    return [
        (a.astimezone(PARIS).strftime("%m-%d %H:%M"), b.astimezone(PARIS).strftime("%H:%M"))
        for a, b in intervals
    ]


@pytest.mark.parametrize("change", [date(2026, 3, 29), date(2026, 10, 25)])
def test_a_shift_keeps_its_wall_clock_times_across_a_dst_change(change):
    before, after = change - timedelta(days=1), change + timedelta(days=1)
    intervals = shift_intervals(EVERY_DAY, start_date=before, end_date=after, zone="Europe/Paris")
    assert wall(intervals) == [
        (f"{day:%m-%d} 08:00", "12:00") if half == 0 else (f"{day:%m-%d} 12:45", "16:00")
        for day in (before, change, after)
        for half in (0, 1)
    ]
    offsets = {a.astimezone(PARIS).utcoffset() for a, _ in intervals}
    assert offsets == {hours(1), hours(2)}  # both sides of the change
    assert all(a.tzinfo is UTC for a, _ in intervals)


def test_a_wall_time_in_the_spring_gap_lands_as_much_later_as_the_clocks_jumped():
    night = {6: DayShift(time(1), time(6), break_start=time(2, 30), break_length=minutes(15))}
    spring = date(2026, 3, 29)  # a Sunday: 02:00 -> 03:00
    intervals = shift_intervals(night, start_date=spring, end_date=spring, zone=PARIS)
    assert wall(intervals) == [("03-29 01:00", "03:30"), ("03-29 03:45", "06:00")]
    assert intervals[0][1] - intervals[0][0] == minutes(90)


def test_an_ambiguous_wall_time_in_autumn_is_its_first_occurrence():
    night = {6: DayShift(time(0), time(6), break_start=time(2, 30), break_length=minutes(30))}
    autumn = date(2026, 10, 25)  # a Sunday: 03:00 -> 02:00
    (first, break_start), (break_end, end) = shift_intervals(
        night, start_date=autumn, end_date=autumn, zone=PARIS
    )
    assert break_start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    assert break_end == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)  # 03:00 winter time
    assert end - first == hours(7)  # a six-hour night is seven hours long on that day


def test_a_weekday_absent_from_the_pattern_is_not_worked():
    weekdays = dict.fromkeys(range(5), EIGHT_TO_FOUR)
    monday = date(2026, 12, 7)
    intervals = shift_intervals(
        weekdays, start_date=monday, end_date=monday + timedelta(6), zone=PARIS
    )
    assert len(intervals) == 10
    assert {a.astimezone(PARIS).weekday() for a, _ in intervals} == set(range(5))


def test_a_pattern_with_a_break_outside_the_shift_is_refused():
    bad = {0: DayShift(time(8), time(12), break_start=time(11, 30), break_length=hours(1))}
    with pytest.raises(ValueError):
        shift_intervals(bad, start_date=date(2026, 12, 7), end_date=date(2026, 12, 7), zone=PARIS)
    with pytest.raises(ValueError):
        shift_intervals(
            {0: DayShift(time(22), time(6))},
            start_date=date(2026, 12, 7),
            end_date=date(2026, 12, 7),
            zone=PARIS,
        )


# --------------------------------------------------------------------------------------
# Properties: the reference, written from the rules as naively as possible
# --------------------------------------------------------------------------------------


def ref_queued(c: Contact) -> datetime:
    return max(c.waiting_since, c.not_before) if c.not_before else c.waiting_since


def ref_order(c: Contact) -> tuple:
    return (-c.priority, ref_queued(c), c.id)


def ref_requirement(c: Contact, policy: Policy) -> tuple[int, bool]:
    wait = NOW - ref_queued(c)
    level = max(1, c.level - sum(1 for after in policy.relax_level_after if wait >= after))
    kind_waived = policy.relax_kind_after is not None and wait >= policy.relax_kind_after
    return level, kind_waived


def ref_within_capacity(a: Agent) -> bool:
    calls, chats, mails = (a.load.get(channel, 0) for channel in ("call", "chat", "email"))
    capacity = a.capacity
    return (
        calls <= capacity.get("call", 0)
        and chats <= capacity.get("chat", 0)
        and mails <= capacity.get("email", 0)
        and not (calls and (chats or mails))
    )


def ref_on_duty(a: Agent) -> bool:
    return a.presence in ("available", "busy") and any(s <= NOW < e for s, e in a.shifts)


def ref_eligible(c: Contact, a: Agent, policy: Policy) -> bool:
    if c.not_before is not None and c.not_before > NOW:
        return False
    if not ref_on_duty(a) or not ref_within_capacity(take(a, c.channel)):
        return False
    level, kind_waived = ref_requirement(c, policy)
    return (
        c.language in a.languages
        and a.skills.get(c.product, 0) >= level
        and (kind_waived or a.kind == c.kind)
        and a.id not in c.declined_by
        and c.pinned_agent in (None, a.id)
    )


def ref_deficit(provider: str, policy: Policy, counts: dict[str, int]) -> float:
    shares = policy.provider_shares
    target = shares.get(provider, 0.0) / sum(shares.values()) if sum(shares.values()) else 0.0
    total = sum(counts.values())
    return target - (counts.get(provider, 0) / total if total else 0.0)


def ref_idle(a: Agent) -> tuple:
    return (sum(a.load.values()), a.idle_since, a.id)


def ref_route_one(contacts, agents, policy, counts) -> Assignment | None:
    for c in sorted(contacts, key=ref_order):
        able = [a for a in agents if ref_eligible(c, a, policy)]
        if able:
            best = min(able, key=lambda a: (-ref_deficit(a.provider, policy, counts), ref_idle(a)))
            return Assignment(c.id, best.id, routing.relaxed_for(c, best))
    return None


def after(assignment: Assignment, contacts, agents, counts):
    """The desk once the assignment is applied: the contact gone, the agent's load and the
    provider's count one higher."""
    c = next(c for c in contacts if c.id == assignment.contact_id)
    a = next(a for a in agents if a.id == assignment.agent_id)
    return (
        [other for other in contacts if other.id != c.id],
        [take(a, c.channel) if other.id == a.id else other for other in agents],
        {**counts, a.provider: counts.get(a.provider, 0) + 1},
    )


def replay(world):
    """Each assignment of `route` with the desk as it was just before it."""
    contacts, agents, policy, counts = world
    for assignment in route(contacts, agents, now=NOW, policy=policy, assigned_counts=counts):
        c = next(c for c in contacts if c.id == assignment.contact_id)
        a = next(a for a in agents if a.id == assignment.agent_id)
        yield assignment, c, a, contacts, agents, counts
        contacts, agents, counts = after(assignment, contacts, agents, counts)


# Strategies ---------------------------------------------------------------------------------

SMALL_PRODUCTS = ("agenda", "video", "billing")
ON_SHIFT = ((NOW - hours(4), NOW + hours(4)),)
SHIFT_CASES = (
    ON_SHIFT,
    ON_SHIFT,
    ON_SHIFT,
    ON_SHIFT,
    (),
    ((NOW - hours(8), NOW - hours(1)),),  # ended
    ((NOW + hours(1), NOW + hours(8)),),  # not started
    ((NOW - hours(4), NOW - minutes(10)), (NOW + minutes(20), NOW + hours(4))),  # on break
    ((NOW - hours(4), NOW),),  # ended right now
    ((NOW, NOW + hours(4)),),  # started right now
)
PRESENCES = st.sampled_from(
    ("available", "available", "available", "busy", "busy", "wrap_up", "break", "offline")
)
KINDS = st.sampled_from(("technical", "technical", "technical", "account_management"))


def sometimes(draw, strategy, one_in: int = 4):
    """A value drawn from the strategy one time in ``one_in``, else None."""
    return draw(strategy) if draw(st.integers(1, one_in)) == 1 else None


@st.composite
def agents_st(draw, agent_id: int) -> Agent:
    capacity = {
        "call": draw(st.sampled_from((1, 1, 1, 0))),
        "chat": draw(st.integers(0, 3)),
        "email": draw(st.integers(0, 2)),
    }
    holding = draw(st.sampled_from(("nothing", "nothing", "call", "written")))
    load: dict[str, int] = {}
    if holding == "call" and capacity["call"]:
        load = {"call": 1}
    elif holding == "written":
        load = {
            "chat": draw(st.integers(0, capacity["chat"])),
            "email": draw(st.integers(0, capacity["email"])),
        }
    languages = draw(st.sampled_from((("fr",), ("fr",), ("fr", "en"), ("en",))))
    return Agent(
        id=agent_id,
        provider=draw(st.sampled_from((IN_HOUSE, P1, P2))),
        kind=draw(KINDS),
        skills=draw(
            st.dictionaries(st.sampled_from(SMALL_PRODUCTS), st.integers(1, 3), min_size=1)
        ),
        languages=frozenset(languages),
        presence=draw(PRESENCES),
        load=load,
        capacity=capacity,
        idle_since=NOW - minutes(draw(st.integers(0, 6)) * 5),
        shifts=draw(st.sampled_from(SHIFT_CASES)),
    )


@st.composite
def contacts_st(draw, contact_id: int, agent_ids: list[int]) -> Contact:
    other_ids = st.integers(1, max(agent_ids, default=0) + 1)
    return Contact(
        id=contact_id,
        channel=draw(st.sampled_from(("call", "chat", "email"))),
        product=draw(st.sampled_from(("agenda", *SMALL_PRODUCTS))),
        kind=draw(KINDS),
        language=draw(st.sampled_from(("fr", "fr", "fr", "en"))),
        priority=draw(st.integers(0, 2)),
        waiting_since=NOW - minutes(draw(st.integers(0, 12)) * 2),
        level=draw(st.integers(1, 3)),
        declined_by=frozenset(sometimes(draw, st.sets(other_ids, max_size=2)) or ()),
        pinned_agent=sometimes(draw, other_ids, 6),
        not_before=sometimes(draw, st.integers(-10, 10).map(lambda n: NOW + minutes(2 * n))),
    )


@st.composite
def policies(draw) -> Policy:
    waits = sorted(draw(st.lists(st.integers(0, 20), max_size=3)))
    kind_wait = draw(st.none() | st.integers(0, 25))
    shares = draw(
        st.none()
        | st.fixed_dictionaries(
            {IN_HOUSE: st.integers(0, 4), P1: st.integers(0, 2), P2: st.integers(0, 2)}
        )
    )
    return Policy(
        relax_level_after=tuple(minutes(w) for w in waits),
        relax_kind_after=None if kind_wait is None else minutes(kind_wait),
        provider_shares={k: float(v) for k, v in (shares or {}).items() if v},
    )


@st.composite
def worlds(draw):
    agents = [draw(agents_st(i)) for i in range(1, draw(st.integers(1, 8)) + 1)]
    ids = [a.id for a in agents]
    contacts = [draw(contacts_st(i, ids)) for i in range(1, draw(st.integers(1, 12)) + 1)]
    counts = draw(st.fixed_dictionaries({IN_HOUSE: st.integers(0, 9), P1: st.integers(0, 5)}))
    return draw(st.permutations(contacts)), agents, draw(policies()), counts


# Laws ---------------------------------------------------------------------------------------


@given(worlds())
def test_law_route_one_is_the_reference_decision(world):
    contacts, agents, policy, counts = world
    found = route_one(contacts, agents, now=NOW, policy=policy, assigned_counts=counts)
    assert found == ref_route_one(contacts, agents, policy, counts)


@given(worlds())
def test_law_route_is_route_one_again_and_again(world):
    contacts, agents, policy, counts = world
    expected = []
    while found := route_one(contacts, agents, now=NOW, policy=policy, assigned_counts=counts):
        expected.append(found)
        contacts, agents, counts = after(found, contacts, agents, counts)
    assert route(world[0], world[1], now=NOW, policy=policy, assigned_counts=world[3]) == expected


@given(worlds())
def test_law_nobody_ends_over_capacity_and_each_contact_is_placed_once(world):
    contacts, agents, policy, counts = world
    assignments = route(contacts, agents, now=NOW, policy=policy, assigned_counts=counts)
    assert len({a.contact_id for a in assignments}) == len(assignments)
    for assignment in assignments:
        contacts, agents, counts = after(assignment, contacts, agents, counts)
    assert all(ref_within_capacity(a) for a in agents)


@given(worlds())
def test_law_nobody_off_duty_gets_anything(world):
    """Nobody on break, offline, wrapping up or out of shift gets a contact."""
    for _, _, a, *_ in replay(world):
        assert a.presence in ("available", "busy")
        assert any(start <= NOW < end for start, end in a.shifts)


@given(worlds())
def test_law_the_language_always_matches_and_the_product_skill_always_exists(world):
    for _, c, a, *_ in replay(world):
        assert c.language in a.languages
        assert a.skills.get(c.product, 0) >= 1


@given(worlds())
def test_law_the_level_meets_the_requirement_relaxed_for_the_wait(world):
    policy = world[2]
    for _, c, a, *_ in replay(world):
        level, _ = ref_requirement(c, policy)
        assert a.skills[c.product] >= level
        assert requirement(c, now=NOW, policy=policy) == (level, ref_requirement(c, policy)[1])


@given(worlds())
def test_law_the_kind_matches_unless_the_policy_relaxed_it(world):
    policy = world[2]
    for assignment, c, a, *_ in replay(world):
        _, kind_waived = ref_requirement(c, policy)
        assert a.kind == c.kind or kind_waived
        assert ("kind" in assignment.relaxed) == (a.kind != c.kind)


@given(worlds())
def test_law_declines_pins_and_callback_times_are_respected(world):
    for _, c, a, *_ in replay(world):
        assert a.id not in c.declined_by
        assert c.pinned_agent in (None, a.id)
        assert c.not_before is None or c.not_before <= NOW


@given(worlds())
def test_law_priority_then_wait_order(world):
    """No waiting contact that comes first (higher priority, or as high and older) was left
    while a later one was placed with an agent who could have taken it."""
    policy = world[2]
    for _, c, _, contacts, agents, _ in replay(world):
        for earlier in (u for u in contacts if ref_order(u) < ref_order(c)):
            assert not any(ref_eligible(earlier, a, policy) for a in agents)


@given(worlds())
def test_law_the_provider_furthest_below_its_share_then_its_longest_idle_agent(world):
    policy = world[2]
    for _, c, chosen, _, agents, counts in replay(world):
        able = [a for a in agents if ref_eligible(c, a, policy)]
        assert chosen in able
        deficit = ref_deficit(chosen.provider, policy, counts)
        assert all(ref_deficit(a.provider, policy, counts) <= deficit for a in able)
        same_provider = [a for a in able if a.provider == chosen.provider]
        assert ref_idle(chosen) == min(ref_idle(a) for a in same_provider)


@given(worlds(), st.data())
def test_law_eligible_is_the_reference(world, data):
    contacts, agents, policy, _ = world
    if contacts and agents:
        c, a = data.draw(st.sampled_from(contacts)), data.draw(st.sampled_from(agents))
        assert eligible(c, a, now=NOW, policy=policy) == ref_eligible(c, a, policy)


# Callback slots ------------------------------------------------------------------------------

DAY_START = datetime(2026, 12, 10, 6, 0, tzinfo=PARIS)


@st.composite
def five_minute_shifts(draw) -> tuple[tuple[datetime, datetime], ...]:
    bounds = sorted(draw(st.sets(st.integers(0, 14 * 12), max_size=6)))
    pairs = zip(bounds[::2], bounds[1::2], strict=False)
    return tuple((DAY_START + minutes(5 * a), DAY_START + minutes(5 * b)) for a, b in pairs)


@st.composite
def slot_agents(draw, agent_id: int) -> Agent:
    return agent(
        agent_id,
        kind=draw(st.sampled_from(("technical", "account_management"))),
        skills=draw(st.dictionaries(st.sampled_from(("agenda", "video")), st.integers(1, 3))),
        languages=tuple(draw(st.sets(st.sampled_from(("fr", "en")), min_size=1))),
        presence=draw(PRESENCES),
        capacity={"call": draw(st.integers(0, 1))},
        shifts=draw(five_minute_shifts()),
    )


def ref_covering(agents, begin, finish, *, kind, level) -> int:
    """Agents able to take the callback whose shifts cover every 5 minutes of [begin, finish)."""
    points = []
    point = begin
    while point < finish:
        points.append(point)
        point += minutes(5)
    return sum(
        1
        for a in agents
        if a.capacity.get("call", 0) > 0
        and "fr" in a.languages
        and a.skills.get("agenda", 0) >= level
        and (kind is None or a.kind == kind)
        and all(any(s <= p < e for s, e in a.shifts) for p in points)
    )


@given(
    st.integers(0, 4).flatmap(lambda n: st.tuples(*(slot_agents(i) for i in range(1, n + 1)))),
    st.sampled_from((15, 30)),
    st.sampled_from(("technical", None)),
    st.integers(1, 3),
    st.dictionaries(st.integers(0, 14 * 4), st.integers(0, 2), max_size=10),
)
def test_law_callback_slots_are_those_an_eligible_agent_covers_and_not_yet_full(
    agents, step, kind, level, booked_quarters
):
    booked = {DAY_START + minutes(15 * q): n for q, n in booked_quarters.items()}
    end = DAY_START + hours(14)
    offered = callback_slots(
        agents,
        product="agenda",
        kind=kind,
        language="fr",
        start=DAY_START,
        end=end,
        step=minutes(step),
        level=level,
        booked=booked,
    )
    expected = []
    slot = DAY_START
    while slot + minutes(step) <= end:
        covering = ref_covering(agents, slot, slot + minutes(step), kind=kind, level=level)
        if covering > booked.get(slot, 0):
            expected.append(slot)
        slot += minutes(step)
    assert offered == expected


# Shift intervals -----------------------------------------------------------------------------


@given(
    st.integers(0, 20).filter(lambda h: h != 2),
    st.integers(1, 3),
    st.sampled_from((date(2026, 3, 29), date(2026, 10, 25))),
)
def test_law_shift_intervals_keep_wall_clock_times_on_dst_days(start_hour, length, change):
    end_hour = min(start_hour + length, 23)
    if end_hour == 2:
        end_hour = 1 if start_hour < 1 else 3
    pattern = dict.fromkeys(range(7), DayShift(time(start_hour), time(end_hour)))
    days = [change - timedelta(days=1), change, change + timedelta(days=1)]
    intervals = shift_intervals(pattern, start_date=days[0], end_date=days[-1], zone=PARIS)
    if end_hour <= start_hour:
        return
    assert [(a.astimezone(PARIS), b.astimezone(PARIS)) for a, b in intervals] == [
        (
            datetime.combine(day, time(start_hour), tzinfo=PARIS),
            datetime.combine(day, time(end_hour), tzinfo=PARIS),
        )
        for day in days
    ]
    for (a, b), day in zip(intervals, days, strict=True):
        real = b - a
        shift = hours(end_hour - start_hour)
        crosses = a.astimezone(PARIS).utcoffset() != b.astimezone(PARIS).utcoffset()
        assert real == shift if not crosses else abs(real - shift) == hours(1), day
