"""Support desk routing: one routing decision, and a whole routing pass, over a busy queue.

Figures (milliseconds, in this process, the pure engine ``consulto.support.routing``: no
Django, no database):

* ``support_routing.route_one``: one decision (``route_one``) over 1,000 waiting contacts and
  300 agents, states drawn from the seed in turn (``--scenarios``). Goal: p99 <= 2 ms.
* ``support_routing.route_one_stalled``: the same queues while the free agents can take none of
  them (every agent a beginner, every contact asking for level 2 or 3, no relaxation): every
  contact is looked at and none placed.
* ``support_routing.route``: a whole pass (``route``) over the same states: as many contacts
  placed as the free agents have room for; ``assignments`` is the mean number placed.

The states: products weighted agenda 45 %, video 25 %, practice 15 %, account 10 %, billing
5 %; contacts 50 % calls (5 % of them callbacks at a chosen time, some still to come), 30 %
chats, 20 % written requests; 90 % in French; priority 1 for 12 %, 2 for 3 %; levels 1-3;
5 % declined by an agent or two, 2 % pinned to one. Agents: in-house 50 %, two providers 25 %
each; 75 % technical; French, 18 % also English, 2 % English only; two to four products at
levels 1-3; shifts of 8 hours with a break, starting from 07:00 to 12:00 Paris time (some not
started yet or on their break at ``now``); 15 % available, 55 % busy (on a call, or with chats
and written requests in hand), 10 % wrapping up, 12 % on a break, 8 % offline.

Usage: python bench/support_routing.py [--runs 3000] [--route-runs 200] [--contacts 1000]
    [--agents 300] [--scenarios 20] [--seed 7]
"""

import random
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from _common import ROOT, base_parser, emit, log, measure, report

sys.path.insert(0, str(ROOT / "src"))

from consulto.support.routing import (
    IN_HOUSE,
    Agent,
    Contact,
    DayShift,
    Policy,
    route,
    route_one,
    shift_intervals,
)

BENCH = "support_routing"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 9, 10, 17, tzinfo=PARIS).astimezone(UTC)  # an ordinary Wednesday
PRODUCTS = {"agenda": 45, "video": 25, "practice": 15, "account": 10, "billing": 5}
PROVIDERS = {IN_HOUSE: 50, "provider:1": 25, "provider:2": 25}
POLICY = Policy(
    relax_level_after=(timedelta(minutes=2), timedelta(minutes=5)),
    relax_kind_after=timedelta(minutes=10),
    provider_shares={IN_HOUSE: 0.5, "provider:1": 0.25, "provider:2": 0.25},
)
ASSIGNED = {IN_HOUSE: 180, "provider:1": 95, "provider:2": 80}


def pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_agents(rng: random.Random, count: int) -> list[Agent]:
    agents = []
    for agent_id in range(1, count + 1):
        wanted = rng.randint(2, 4)
        products: list[str] = []  # a list, not a set: its order is the same from run to run
        while len(products) < wanted:
            product = pick(rng, PRODUCTS)
            if product not in products:
                products.append(product)
        languages = pick(rng, {"fr": 80, "fr,en": 18, "en": 2})
        presence = pick(
            rng, {"available": 15, "busy": 55, "wrap_up": 10, "break": 12, "offline": 8}
        )
        capacity = {"call": 1, "chat": 3, "email": 2}
        load: dict[str, int] = {}
        if presence == "busy":
            if rng.random() < 0.6:
                load = {"call": 1}
            else:
                load = {"chat": rng.randint(0, 3), "email": rng.randint(0, 2)}
        begin = rng.choice((7, 8, 9, 10, 11, 12))
        pattern = {
            weekday: DayShift(time(begin), time(begin + 8), time(begin + 4), timedelta(hours=1))
            for weekday in range(5)
        }
        agents.append(
            Agent(
                id=agent_id,
                provider=pick(rng, PROVIDERS),
                kind="technical" if rng.random() < 0.75 else "account_management",
                skills={product: pick(rng, {1: 30, 2: 45, 3: 25}) for product in products},
                languages=frozenset(languages.split(",")),
                presence=presence,
                load=load,
                capacity=capacity,
                idle_since=NOW - timedelta(seconds=rng.randint(0, 1800)),
                shifts=shift_intervals(
                    pattern,
                    start_date=NOW.date() - timedelta(days=2),
                    end_date=NOW.date() + timedelta(days=2),
                    zone=PARIS,
                ),
            )
        )
    return agents


def make_contacts(rng: random.Random, count: int, agents: int) -> list[Contact]:
    contacts = []
    for contact_id in range(1, count + 1):
        channel = pick(rng, {"call": 50, "chat": 30, "email": 20})
        longest = {"call": 45, "chat": 30, "email": 480}[channel]
        not_before = None
        if channel == "call" and rng.random() < 0.05:
            not_before = NOW + timedelta(minutes=rng.randint(-30, 180))
        declined = frozenset()
        if rng.random() < 0.05:
            declined = frozenset(rng.sample(range(1, agents + 1), rng.randint(1, 2)))
        contacts.append(
            Contact(
                id=contact_id,
                channel=channel,
                product=pick(rng, PRODUCTS),
                kind="technical" if rng.random() < 0.75 else "account_management",
                language="fr" if rng.random() < 0.9 else "en",
                priority=pick(rng, {0: 85, 1: 12, 2: 3}),
                waiting_since=NOW - timedelta(seconds=rng.randint(0, longest * 60)),
                level=pick(rng, {1: 40, 2: 40, 3: 20}),
                declined_by=declined,
                pinned_agent=rng.randint(1, agents) if rng.random() < 0.02 else None,
                not_before=not_before,
            )
        )
    rng.shuffle(contacts)  # as the queue comes: in no particular order
    return contacts


def stalled(contacts: list[Contact], agents: list[Agent]) -> tuple[list, list]:
    """The same queue and agents, every agent a beginner, every contact asking for more."""
    return (
        [replace(contact, level=max(contact.level, 2)) for contact in contacts],
        [replace(agent, skills=dict.fromkeys(agent.skills, 1)) for agent in agents],
    )


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)  # --practitioners is accepted for run_all.py, and unused
    parser.add_argument("--runs", type=int, default=3000, help="timed decisions (3000)")
    parser.add_argument("--route-runs", type=int, default=200, help="timed passes (200)")
    parser.add_argument("--contacts", type=int, default=1000, help="waiting contacts (1000)")
    parser.add_argument("--agents", type=int, default=300, help="agents (300)")
    parser.add_argument("--scenarios", type=int, default=20, help="states taken in turn (20)")
    options = parser.parse_args(argv)

    rng = random.Random(options.seed)
    states = []
    for _ in range(options.scenarios):
        agents = make_agents(rng, options.agents)
        states.append((make_contacts(rng, options.contacts, options.agents), agents))
    presence = Counter(agent.presence for _, agents in states for agent in agents)
    log(f"{options.scenarios} states of {options.contacts} contacts and {options.agents} agents;")
    log(f"  presences over all states: {dict(presence)}")
    size = f"{options.contacts} contacts x {options.agents} agents"
    no_relaxation = Policy(provider_shares=POLICY.provider_shares)

    def decide(i: int):
        contacts, agents = states[i % len(states)]
        return route_one(contacts, agents, now=NOW, policy=POLICY, assigned_counts=ASSIGNED)

    placed = sum(decide(i) is not None for i in range(len(states)))
    log(f"  route_one placed a contact in {placed} states of {len(states)}")
    samples = measure(decide, options.runs)
    report(BENCH, "route_one", samples, size, goal_ms=2, goal_at="p99", show=("p50", "p95", "p99"))

    stalled_states = [stalled(contacts, agents) for contacts, agents in states]

    def decide_stalled(i: int):
        contacts, agents = stalled_states[i % len(stalled_states)]
        return route_one(contacts, agents, now=NOW, policy=no_relaxation, assigned_counts=ASSIGNED)

    if any(decide_stalled(i) is not None for i in range(len(stalled_states))):
        raise SystemExit("The stalled states place a contact: the bench's data is wrong.")
    samples = measure(decide_stalled, options.runs)
    report(BENCH, "route_one_stalled", samples, size, show=("p50", "p95", "p99"))

    def whole(i: int):
        contacts, agents = states[i % len(states)]
        return route(contacts, agents, now=NOW, policy=POLICY, assigned_counts=ASSIGNED)

    placed_counts = [len(whole(i)) for i in range(len(states))]
    samples = measure(whole, options.route_runs)
    report(BENCH, "route", samples, size, show=("p50", "p95", "p99"))
    mean = sum(placed_counts) / len(placed_counts)
    emit(BENCH, "assignments", mean, "count", size)
    log(f"  route placed {min(placed_counts)} to {max(placed_counts)} contacts (mean {mean:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
