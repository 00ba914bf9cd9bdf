"""Support desk: a simulated day of professional contacts through the real services.

A discrete-event simulation of one weekday, Wednesday 2026-12-09 from 08:00 to 20:00 Paris
time, run through the support desk's real services and a real database (a fresh one: SQLite
in a temporary data dir, or a PostgreSQL database created for the run and dropped after it when
DATABASE_URL is set). Practitioners ask for help (``services.ask_for_help``) along an intraday
curve (morning peak 9-11, afternoon bump 14-16): 70 % callbacks now, 20 % written requests, 10 %
chats. Simulated agents log in, take their break and log off with their shifts
(``services.set_presence``), accept what routing offers them after 2 to 8 s (``accept``; 3 %
declined, 2 % left to time out), talk (``end``) and file (``wrap_up``). Customers waiting for a
callback give up after an exponential patience of mean 10 minutes (``cancel_request``).

No task worker runs: the tasks the services enqueue (a routing pass when a contact's
requirements relax, an offer's countdown, a chat nobody answers) are caught by the
``task_enqueued`` signal as the database backend sends it, and the simulation calls the service
each task would call, at its ``run_after``; the worker's safety-net sweep (``services.sweep``)
runs every 30 s. The services take ``now=t``; what reads the clock itself (the routing pass
after a commit, ``auto_now_add`` fields, the task rows) reads it under
``time_machine.travel(..., tick=False)``, moved to each event's instant.

Figures (bench ``support_day``): contacts per channel (a chat turned into a written request
counts as a chat); ``service_level_20s``: callbacks answered (accepted by an agent) within 20 s
of asking, % of the callbacks asked; per channel the average speed of answer, its p90, the
share answered and the mean handle time (talk + wrap-up) in seconds; callbacks abandoned (%);
offers made, declined, timed out; occupancy (% of the agents' time at their desk spent on
contacts, wrap-up included); the service level per hour; the wall-clock time of the day and the
cost of the real services: ``ask_for_help`` and one ``dispatch.route`` pass (every pass, from
wherever it runs: a service's after-commit pass, a task, the sweep), mean and p95 in ms.

Usage: python bench/support_day.py [--contacts 1200] [--agents 60] [--customers 400] [--seed 7]
    [--keep]
"""

import heapq
import itertools
import math
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from _common import GP, _quantile, base_parser, django_setup, emit, log

BENCH = "support_day"
PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 9)  # a Wednesday, not today
OPENS, CLOSES = 8, 20
# Share of the day's contacts asked in each hour (Paris time): peak 9-11, bump 14-16.
HOURLY = {8: 5, 9: 12, 10: 13, 11: 10, 12: 6, 13: 6, 14: 10, 15: 10, 16: 8, 17: 8, 18: 7, 19: 5}
CHANNELS = {"call": 70, "email": 20, "chat": 10}
# The professional categories (support/categories.py): agenda first; a few who cannot consult.
CATEGORIES = {
    "agenda_settings": 24,
    "agenda_bug": 14,
    "video": 20,
    "practice": 15,
    "account_pro": 13,
    "billing": 11,
    "video_now": 3,
}
TEXTS = {
    "agenda_settings": "Bonjour, comment ouvrir mes créneaux du samedi matin en ligne ?",
    "agenda_bug": "Mes rendez-vous de demain n'apparaissent plus dans mon agenda.",
    "video": "Mes patients n'entendent pas le son pendant la téléconsultation.",
    "practice": "Comment donner à ma secrétaire l'accès aux documents des patients ?",
    "account_pro": "Je n'arrive plus à me connecter avec mon code de sécurité.",
    "billing": "Je ne trouve pas la facture de mon abonnement du mois dernier.",
    "video_now": "Ma téléconsultation de maintenant ne démarre pas, le patient attend.",
}
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# Talk time per channel: lognormal of this median (seconds) and sigma.
HANDLE_MEDIAN = {"call": 330, "chat": 480, "email": 240}
HANDLE_SIGMA = 0.5
WRAP_SECONDS = (30, 90)
REACTION_SECONDS = (2, 8)
DECLINE_SHARE, IGNORE_SHARE = 0.03, 0.02
DECLINE_SECONDS = (3, 10)
PATIENCE_MEAN = 600  # seconds a customer waits for a callback, on average
BACK_AFTER_TIMEOUT = (60, 180)  # seconds before an agent put on break by a timeout comes back
SWEEP_EVERY = timedelta(seconds=30)
THRESHOLD = 20  # seconds: the service level's answer time
# Shifts as the demo desk's (support_desk.py): 08:00-16:00 or 12:00-20:00 with a one-hour
# break; the breaks are staggered here, where the demo puts them all at 13:00 and 16:00.
EARLY, LATE = (time(8), time(16)), (time(12), time(20))
EARLY_BREAKS = (time(11, 30), time(12), time(12, 30), time(13))
LATE_BREAKS = (time(14, 30), time(15), time(15, 30), time(16))
PRODUCT_PATH = ("agenda", "video", "practice", "account", "billing")
FIRST = ("Camille", "Lucas", "Inès", "Hugo", "Sarah", "Yanis", "Léa", "Karim", "Emma", "Nabil")
LAST = ("Bernard", "Haddad", "Lefèvre", "Benali", "Moreau", "Garnier", "Roux", "Fontaine")


def paris(day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=PARIS).astimezone(UTC)


# The database ------------------------------------------------------------------------------------


@contextmanager
def fresh_database(*, keep: bool):
    """A temporary data dir (SQLite's file, the key, attachments) and, when DATABASE_URL names
    a PostgreSQL server, a database of the run's own on it: both removed after unless ``keep``.
    Never someone's data: the database is created by this run, under a new name."""
    data_dir = Path(tempfile.mkdtemp(prefix="consulto-support-day-"))
    os.environ["CONSULTO_DATA_DIR"] = str(data_dir)
    url = os.environ.get("DATABASE_URL", "")
    admin_url = name = None
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise SystemExit(f"DATABASE_URL: PostgreSQL only, not {parts.scheme}")
        import psycopg
        from psycopg import sql

        name = f"support_day_{datetime.now():%Y%m%d_%H%M%S}_{os.getpid()}"
        admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        log(f"Database: PostgreSQL {name} on {parts.hostname} (created for this run)")
    else:
        log(f"Database: SQLite in {data_dir}")
    try:
        yield
    finally:
        if name is not None:
            _close_connections()
            if keep:
                log(f"Kept the database {name}")
            else:
                import psycopg
                from psycopg import sql

                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )
        if keep:
            log(f"Kept the data dir {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _close_connections() -> None:
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


# The desk and its customers ----------------------------------------------------------------------


@dataclass(eq=False)
class SimAgent:
    """An agent's day as the simulation plays it; ``row`` is the database's agent."""

    row: object
    start: datetime
    end: datetime
    break_at: datetime
    state: str = "out"  # out, in (at the desk), break, timeout (put on break), gone
    wants: str = ""  # "break" or "offline" as soon as their contacts are filed
    holding: set = field(default_factory=set)
    since: datetime | None = None
    at_desk: float = 0.0  # seconds logged in and not on a break

    def on_shift_at(self, moment: datetime) -> bool:
        on_break = self.break_at <= moment < self.break_at + timedelta(hours=1)
        return self.start <= moment < self.end and not on_break


def build_desk(rng: random.Random, count: int) -> list[SimAgent]:
    """An in-house team and two providers' (half, a quarter, a quarter), skills and kinds as
    the demo desk draws them, half on the early shift and half on the late one."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from consulto.directory.models import Organisation
    from consulto.support.models import Agent, RoutingPolicy, Shift, Skill, Team

    users = get_user_model().objects
    with transaction.atomic():
        lille = Organisation.objects.create(
            name="Relais Contact (Lille)", kind=Organisation.Kind.SUPPORT_PROVIDER
        )
        rabat = Organisation.objects.create(
            name="Atlas Support (Rabat)", kind=Organisation.Kind.SUPPORT_PROVIDER
        )
        paris_team = Team.objects.create(name="Consulto Paris")
        teams = (
            paris_team,
            paris_team,
            Team.objects.create(name="Relais Contact — Lille", provider=lille),
            Team.objects.create(name="Atlas Support — Rabat", provider=rabat),
        )
        RoutingPolicy.objects.create(
            relax_level_after=[60, 180],
            relax_kind_after=300,
            provider_shares={
                "in_house": 0.5,
                f"provider:{lille.pk}": 0.25,
                f"provider:{rabat.pk}": 0.25,
            },
            offer_seconds=20,
            chat_unanswered_minutes=5,
        )
        agents = []
        for index in range(count):
            user = users.create_user(
                email=f"agent{index + 1:03d}@support.bench.local",
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
            )
            row = Agent.objects.create(
                user=user,
                team=teams[index % len(teams)],
                kind="technical" if rng.random() < 0.45 else "account_management",
                languages="fr,en" if rng.random() < 0.3 else "fr",
                presence=Agent.Presence.OFFLINE,
            )
            # As in the demo: everyone starts on the agenda, then learns the next products.
            known = rng.randint(1, len(PRODUCT_PATH))
            Skill.objects.bulk_create(
                Skill(agent=row, product=product, level=rng.randint(1, 3))
                for product in PRODUCT_PATH[:known]
            )
            early = (index // len(teams)) % 2 == 0
            (start, end), breaks = (EARLY, EARLY_BREAKS) if early else (LATE, LATE_BREAKS)
            pause = breaks[(index // (2 * len(teams))) % len(breaks)]
            Shift.objects.bulk_create(
                Shift(
                    agent=row, weekday=d, start=start, end=end, break_start=pause, break_minutes=60
                )
                for d in range(5)
            )
            agents.append(
                SimAgent(
                    row=row,
                    start=paris(DAY, start),
                    end=paris(DAY, end),
                    break_at=paris(DAY, pause),
                )
            )
    rows = Agent.objects.select_related("user", "team").in_bulk([a.row.pk for a in agents])
    for agent in agents:
        agent.row = rows[agent.row.pk]
    return agents


def build_customers(rng: random.Random, count: int) -> list:
    """Practitioners with an account: each a member of a practice (two to a practice), with an
    agenda, its motives and its week's openings, so that the snapshot is a professional's."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from consulto.directory.models import Membership, Organisation, Practitioner, Site, Specialty
    from consulto.directory.rpps import luhn_check_digit
    from consulto.scheduling.models import Agenda, Motive, Opening

    users = get_user_model().objects
    specialties = list(Specialty.objects.order_by("code"))
    general = next(s for s in specialties if s.code == GP)
    customers = []
    with transaction.atomic():
        for index in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if index % 2 == 0:
                practice = Organisation.objects.create(name=f"Cabinet {last} {index // 2 + 1}")
                site = Site.objects.create(
                    organisation=practice,
                    name=practice.name,
                    address=f"{index + 1} rue des Lilas",
                    postcode="75011",
                    city="Paris",
                    latitude=48.85 + rng.random() / 50,
                    longitude=2.35 + rng.random() / 50,
                )
            user = users.create_user(
                email=f"dr{index + 1:04d}@cabinet.bench.local",
                first_name=first,
                last_name=last,
                phone=f"06{index:08d}",
            )
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
            first_ten = f"10{index:08d}"
            practitioner = Practitioner.objects.create(
                user=user,
                first_name=first,
                last_name=last,
                rpps=first_ten + luhn_check_digit(first_ten),
                specialty=general if rng.random() < 0.6 else rng.choice(specialties),
                video_enabled=rng.random() < 0.5,
            )
            Membership.objects.create(
                user=user, organisation=practice, role=Membership.Role.PRACTITIONER
            )
            agenda = Agenda.objects.create(
                organisation=practice, practitioner=practitioner, site=site, name=str(practitioner)
            )
            motives = Motive.objects.bulk_create(
                [
                    Motive(agenda=agenda, label="Consultation", duration_minutes=20),
                    Motive(agenda=agenda, label="Première consultation", duration_minutes=30),
                    Motive(
                        agenda=agenda, label="Téléconsultation", duration_minutes=15, mode="video"
                    ),
                ]
            )
            openings = Opening.objects.bulk_create(
                Opening(
                    agenda=agenda,
                    site=site,
                    weekday=weekday,
                    start_time=begin,
                    end_time=finish,
                    valid_from=DAY - timedelta(days=90),
                )
                for weekday in range(5)
                for begin, finish in ((time(9), time(12)), (time(14), time(18)))
            )
            Opening.motives.through.objects.bulk_create(
                Opening.motives.through(opening_id=opening.pk, motive_id=motive.pk)
                for opening in openings
                for motive in motives
            )
            customers.append(user)
    return customers


@dataclass(frozen=True)
class Arrival:
    at: datetime
    customer: int
    channel: str
    category: str


def draw_arrivals(rng: random.Random, count: int, customers: int) -> list[Arrival]:
    """``count`` requests along the intraday curve; the channels in their exact proportions."""
    channels = [
        channel
        for channel, share in CHANNELS.items()
        for _ in range(round(count * share / sum(CHANNELS.values())))
    ]
    channels = (channels + ["call"] * count)[:count]
    rng.shuffle(channels)
    hours, weights = list(HOURLY), list(HOURLY.values())
    arrivals = []
    for channel in channels:
        hour = rng.choices(hours, weights=weights)[0]
        at = paris(DAY, time(hour)) + timedelta(seconds=rng.uniform(0, 3600))
        category = rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()))[0]
        arrivals.append(Arrival(at, rng.randrange(customers), channel, category))
    arrivals.sort(key=lambda arrival: arrival.at)
    return arrivals


# The day -----------------------------------------------------------------------------------------


class Day:
    """The event queue, the simulated agents and customers, and what the services cost."""

    def __init__(self, agents: list[SimAgent], customers: list, rng: random.Random) -> None:
        from consulto.support import dispatch

        self.agents = agents
        self.by_id = {agent.row.pk: agent for agent in agents}
        self.customers = customers
        self.rng = rng
        self.heap: list = []
        self.order = itertools.count()
        self.enqueued: list[tuple[str, list, datetime | None]] = []
        self.offers: set[tuple[int, int, datetime]] = set()
        self.last_decline = 0
        self.counts: Counter = Counter()
        self.costs: dict[str, list[float]] = {
            "ask_for_help": [],
            "route": [],
            "route_with_queue": [],
            "agent": [],
        }
        self.handlers = {
            dispatch.ROUTE: self.task_route,
            dispatch.EXPIRE: self.task_expire,
            dispatch.CHAT_TIMEOUT: self.task_chat_timeout,
        }

    def at(self, moment: datetime, handler, *args) -> None:
        heapq.heappush(self.heap, (moment, next(self.order), handler, args))

    def run(self, traveller, arrivals: list[Arrival]) -> None:
        for arrival in arrivals:
            self.at(arrival.at, self.ask, arrival)
        for agent in self.agents:
            self.at(agent.start + timedelta(seconds=self.rng.uniform(0, 90)), self.login, agent)
            self.at(agent.break_at, self.go_on_break, agent)
            self.at(agent.end, self.log_off, agent)
        self.at(paris(DAY, time(OPENS)) - SWEEP_EVERY, self.sweep)
        for hour in range(OPENS + 1, CLOSES + 2):
            self.at(paris(DAY, time(hour)), self.progress, hour)
        while self.heap:
            moment, _order, handler, args = heapq.heappop(self.heap)
            traveller.move_to(moment)
            handler(moment, *args)
            self.collect(moment)

    def collect(self, now: datetime) -> None:
        """The tasks the step enqueued go on the event queue at their time; new offers reach
        their agents."""
        from consulto.support.models import Contact

        enqueued, self.enqueued = self.enqueued, []
        for path, args, run_after in enqueued:
            handler = self.handlers.get(path)
            if handler is None:
                self.counts[f"task not simulated: {path}"] += 1
                continue
            self.at(max(run_after or now, now), handler, *args)
        current = set(
            Contact.objects.filter(status=Contact.Status.OFFERED).values_list(
                "pk", "offered_to_id", "offer_expires_at"
            )
        )
        for offer in current - self.offers:
            contact_id, agent_id, _expires = offer
            agent = self.by_id[agent_id]
            self.counts["offers"] += 1
            draw = self.rng.random()
            if draw < DECLINE_SHARE:
                self.at(now + self.seconds(DECLINE_SECONDS), self.decline, agent, contact_id)
            elif draw < DECLINE_SHARE + IGNORE_SHARE:
                self.counts["offers_ignored"] += 1  # its countdown task will expire it
            else:
                self.at(now + self.seconds(REACTION_SECONDS), self.accept, agent, contact_id)
        self.offers = current

    def seconds(self, bounds: tuple[float, float]) -> timedelta:
        return timedelta(seconds=self.rng.uniform(*bounds))

    def timed(self, cost: str, call, **kwargs):
        t0 = perf_counter()
        try:
            return call(**kwargs)
        finally:
            self.costs[cost].append(perf_counter() - t0)

    # Customers ---------------------------------------------------------------------------------

    def ask(self, now: datetime, arrival: Arrival) -> None:
        from consulto.support import services

        user = self.customers[arrival.customer]
        text = TEXTS[arrival.category] if arrival.channel != "call" else ""
        contact = self.timed(
            "ask_for_help",
            services.ask_for_help,
            user=user,
            channel=arrival.channel,
            category=arrival.category,
            text=text,
            page="/pro/agenda/",
            user_agent=CHROME,
            now=now,
        )
        self.counts[f"asked_{arrival.channel}"] += 1
        if arrival.channel == "call":
            patience = timedelta(seconds=self.rng.expovariate(1 / PATIENCE_MEAN))
            self.at(now + patience, self.give_up, user, contact.pk)

    def give_up(self, now: datetime, user, contact_id: int) -> None:
        from consulto.support import services
        from consulto.support.models import Contact

        still_waiting = Contact.objects.filter(pk=contact_id, status__in=Contact.OPEN_STATUSES)
        if not still_waiting.exists():
            return  # answered: the customer is on the phone
        try:
            services.cancel_request(user=user, contact_id=contact_id, now=now)
            self.counts["abandoned"] += 1
        except services.Conflict:
            self.counts["abandon_too_late"] += 1

    # Agents ------------------------------------------------------------------------------------

    def presence(self, agent: SimAgent, presence: str, now: datetime) -> None:
        from consulto.support import services

        self.timed("agent", services.set_presence, agent=agent.row, presence=presence, now=now)

    def leave_desk(self, agent: SimAgent, now: datetime, state: str) -> None:
        if agent.state == "in":
            agent.at_desk += (now - agent.since).total_seconds()
        agent.state = state

    def login(self, now: datetime, agent: SimAgent) -> None:
        self.presence(agent, "available", now)
        agent.state, agent.since = "in", now

    def go_on_break(self, now: datetime, agent: SimAgent) -> None:
        if agent.state == "in" and agent.holding:
            agent.wants = "break"
        elif agent.state in ("in", "timeout"):
            if agent.state == "in":
                self.presence(agent, "break", now)
            self.leave_desk(agent, now, "break")
            self.at(now + timedelta(hours=1), self.back, agent, "break")

    def back(self, now: datetime, agent: SimAgent, state: str) -> None:
        if agent.state != state:
            return
        if now >= agent.end:
            self.presence(agent, "offline", now)
            agent.state = "gone"
        else:
            self.presence(agent, "available", now)
            agent.state, agent.since = "in", now

    def log_off(self, now: datetime, agent: SimAgent) -> None:
        if agent.state == "in" and agent.holding:
            agent.wants = "offline"
        elif agent.state != "gone":
            self.presence(agent, "offline", now)
            self.leave_desk(agent, now, "gone")

    def accept(self, now: datetime, agent: SimAgent, contact_id: int) -> None:
        from consulto.support import services

        try:
            contact = self.timed(
                "agent", services.accept, agent=agent.row, contact_id=contact_id, now=now
            )
        except services.Conflict:
            self.counts["offers_gone_before_accept"] += 1
            return
        agent.holding.add(contact_id)
        talk = self.rng.lognormvariate(math.log(HANDLE_MEDIAN[contact.channel]), HANDLE_SIGMA)
        self.at(now + timedelta(seconds=talk), self.end, agent, contact_id)

    def decline(self, now: datetime, agent: SimAgent, contact_id: int) -> None:
        from consulto.support import services

        try:
            self.timed("agent", services.decline, agent=agent.row, contact_id=contact_id, now=now)
            self.counts["offers_declined"] += 1
        except services.Conflict:
            self.counts["offers_gone_before_decline"] += 1

    def end(self, now: datetime, agent: SimAgent, contact_id: int) -> None:
        from consulto.support import services

        self.timed("agent", services.end, agent=agent.row, contact_id=contact_id, now=now)
        self.at(now + self.seconds(WRAP_SECONDS), self.wrap_up, agent, contact_id)

    def wrap_up(self, now: datetime, agent: SimAgent, contact_id: int) -> None:
        from consulto.support import services

        reason = self.rng.choice(("solved", "explained", "configured", "bug"))
        self.timed(
            "agent",
            services.wrap_up,
            agent=agent.row,
            contact_id=contact_id,
            reason=reason,
            now=now,
        )
        agent.holding.discard(contact_id)
        if agent.holding or not agent.wants:
            return
        wants, agent.wants = agent.wants, ""
        if wants == "break":
            self.presence(agent, "break", now)
            self.leave_desk(agent, now, "break")
            self.at(now + timedelta(hours=1), self.back, agent, "break")
        else:
            self.presence(agent, "offline", now)
            self.leave_desk(agent, now, "gone")

    def timeouts(self, now: datetime) -> None:
        """Agents whose offer timed out are put on break by the service: they come back."""
        from consulto.support.models import Agent, Decline

        found = list(
            Decline.objects.filter(pk__gt=self.last_decline, timed_out=True).values_list(
                "pk", "agent_id"
            )
        )
        for pk, agent_id in found:
            self.last_decline = max(self.last_decline, pk)
            self.counts["offers_timed_out"] += 1
            agent = self.by_id[agent_id]
            on_break = Agent.objects.filter(pk=agent_id, presence=Agent.Presence.BREAK).exists()
            if agent.state == "in" and on_break:
                self.leave_desk(agent, now, "timeout")
                self.at(now + self.seconds(BACK_AFTER_TIMEOUT), self.back, agent, "timeout")

    # What the task worker would run ------------------------------------------------------------

    def task_route(self, now: datetime) -> None:
        from consulto.support import dispatch

        dispatch.route(now=now)

    def task_expire(self, now: datetime, contact_id: int) -> None:
        from consulto.support import services

        services.expire_offer(contact_id=contact_id, now=now)
        self.timeouts(now)

    def task_chat_timeout(self, now: datetime, contact_id: int) -> None:
        from consulto.support import services

        if services.chat_unanswered(contact_id=contact_id, now=now):
            self.counts["chats_turned_written"] += 1

    def sweep(self, now: datetime) -> None:
        from consulto.support import services

        services.sweep(now=now)
        self.timeouts(now)
        if now < paris(DAY, time(CLOSES)) or any(a.state != "gone" for a in self.agents):
            self.at(now + SWEEP_EVERY, self.sweep)

    def progress(self, now: datetime, hour: int) -> None:
        from consulto.support.models import Contact

        waiting = Counter(
            Contact.objects.filter(status__in=Contact.OPEN_STATUSES).values_list(
                "channel", flat=True
            )
        )
        at_desk = sum(agent.state == "in" for agent in self.agents)
        busy = sum(bool(agent.holding) for agent in self.agents)
        asked = sum(v for k, v in self.counts.items() if k.startswith("asked_"))
        log(
            f"  {hour:02d}:00 asked {asked}, waiting {dict(waiting) or 0}, agents at their desk"
            f" {at_desk} ({busy} on contacts), abandoned {self.counts['abandoned']}, offers timed"
            f" out {self.counts['offers_timed_out']}"
        )


def time_routing_passes(costs: dict[str, list[float]]) -> None:
    """Time every routing pass, wherever it runs from (a service's after-commit pass, a task,
    the sweep): they all call ``dispatch.route`` through the module. A pass that finds no
    contact waiting returns after one query: those that find some are also counted apart."""
    from consulto.support import dispatch
    from consulto.support.models import Contact

    route = dispatch.route
    waiting = Contact.objects.filter(status=Contact.Status.WAITING)

    def timed_route(**kwargs):
        queue = waiting.exists()  # not timed
        t0 = perf_counter()
        try:
            return route(**kwargs)
        finally:
            elapsed = perf_counter() - t0
            costs["route"].append(elapsed)
            if queue:
                costs["route_with_queue"].append(elapsed)

    dispatch.route = timed_route


# Figures -----------------------------------------------------------------------------------------


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else math.nan


def quantile(values, q: float) -> float:
    ordered = sorted(values)
    return _quantile(ordered, q) if ordered else math.nan


def busy_seconds(intervals: list[tuple[datetime, datetime]]) -> float:
    """The length of the union of the intervals (an agent's chats overlap)."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += (end - start).total_seconds()
            reach = end
        elif end > reach:
            total += (end - reach).total_seconds()
            reach = end
    return total


def report_day(day: Day, size: str, wall: float) -> None:
    from consulto.support.models import Contact

    rows = list(
        Contact.objects.values_list(
            "channel",
            "converted_from_chat",
            "status",
            "requested_at",
            "accepted_at",
            "wrapped_at",
            "talk_seconds",
            "wrap_seconds",
            "agent_id",
        )
    )
    by_channel: dict[str, list] = {"call": [], "email": [], "chat": []}
    for row in rows:
        by_channel["chat" if row[1] else row[0]].append(row)
    for channel, contacts in by_channel.items():
        emit(BENCH, f"contacts_{channel}", len(contacts), "count", size)
    for channel, contacts in by_channel.items():
        waits = [(r[4] - r[3]).total_seconds() for r in contacts if r[4] is not None]
        handled = [r[6] + r[7] for r in contacts if r[2] == Contact.Status.DONE]
        answered = 100 * len(waits) / len(contacts) if contacts else math.nan
        emit(BENCH, f"answered_{channel}", answered, "%", size)
        emit(BENCH, f"asa_{channel}", mean(waits), "s", size)
        emit(BENCH, f"wait_p90_{channel}", quantile(waits, 0.9), "s", size)
        emit(BENCH, f"handle_{channel}", mean(handled), "s", size)
    calls = by_channel["call"]
    within = [r for r in calls if r[4] is not None and (r[4] - r[3]).total_seconds() <= THRESHOLD]
    abandoned = [r for r in calls if r[2] == Contact.Status.ABANDONED]
    emit(BENCH, "service_level_20s", 100 * len(within) / max(1, len(calls)), "%", size)
    emit(BENCH, "abandoned_calls", 100 * len(abandoned) / max(1, len(calls)), "%", size)
    emit(BENCH, "chats_turned_written", day.counts["chats_turned_written"], "count", size)
    left = sum(r[2] in Contact.OPEN_STATUSES for r in by_channel["email"] + by_channel["chat"])
    emit(BENCH, "written_waiting_at_close", left, "count", size)
    for name in ("offers", "offers_declined", "offers_timed_out"):
        emit(BENCH, name, day.counts[name], "count", size)
    intervals: dict[int, list] = {}
    for row in rows:
        if row[4] is not None and row[5] is not None:
            intervals.setdefault(row[8], []).append((row[4], row[5]))
    busy = sum(busy_seconds(spans) for spans in intervals.values())
    at_desk = sum(agent.at_desk for agent in day.agents)
    emit(BENCH, "occupancy", 100 * busy / at_desk if at_desk else math.nan, "%", size)
    per_hour(day, calls, by_channel["email"], size)
    split = Counter(
        Contact.objects.filter(accepted_at__isnull=False).values_list("team__name", flat=True)
    )
    taken = sum(split.values())
    log("  taken per team: " + ", ".join(f"{k} {100 * v / taken:.1f} %" for k, v in split.items()))
    emit(BENCH, "wall_clock", wall, "s", size)
    for name, samples in day.costs.items():
        emit(BENCH, f"{name}_mean", 1000 * mean(samples), "ms", size)
        emit(BENCH, f"{name}_p95", 1000 * quantile(samples, 0.95), "ms", size)
        emit(BENCH, f"{name}_calls", len(samples), "count", size)
    log(f"  counts: {dict(sorted(day.counts.items()))}")


def per_hour(day: Day, calls: list, written: list, size: str) -> None:
    """Callbacks asked, agents on shift (planned, breaks out) and the service level, per hour."""
    log("  hour  calls  agents on shift  answered <= 20 s  abandoned  mean wait (s)  written (s)")
    for hour in HOURLY:
        start = paris(DAY, time(hour))
        mine = [r for r in calls if start <= r[3] < start + timedelta(hours=1)]
        within = sum(r[4] is not None and (r[4] - r[3]).total_seconds() <= THRESHOLD for r in mine)
        abandoned = sum(r[2] == "abandoned" for r in mine)
        waits = [(r[4] - r[3]).total_seconds() for r in mine if r[4] is not None]
        staffed = sum(
            agent.on_shift_at(start + timedelta(minutes=minute))
            for agent in day.agents
            for minute in (15, 45)
        )
        written_waits = [
            (r[4] - r[3]).total_seconds()
            for r in written
            if r[4] is not None and start <= r[3] < start + timedelta(hours=1)
        ]
        level = 100 * within / len(mine) if mine else math.nan
        emit(BENCH, f"service_level_20s_{hour:02d}h", level, "%", size)
        log(
            f"  {hour:02d}h  {len(mine):5d}  {staffed / 2:15.1f}  {level:15.1f} %"
            f"  {abandoned:9d}  {mean(waits):13.1f}  {mean(written_waits):11.1f}"
        )


# Main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__)  # --practitioners is accepted for run_all.py, and unused
    parser.add_argument("--contacts", type=int, default=1200, help="requests in the day (1200)")
    parser.add_argument("--agents", type=int, default=60, help="agents (60)")
    parser.add_argument("--customers", type=int, default=400, help="practitioners asking (400)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the data dir (and PostgreSQL database)"
    )
    options = parser.parse_args(argv)
    size = f"{options.contacts} contacts x {options.agents} agents"

    with fresh_database(keep=options.keep):
        django_setup()
        import time_machine
        from django.core.management import call_command
        from django.utils import translation
        from django_tasks_db.compat import task_enqueued

        t0 = perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        log(f"migrate: {perf_counter() - t0:.1f} s")
        # Separate streams: the same seed gives the same customers and requests whatever the
        # number of agents.
        start = paris(DAY, time(7))
        with time_machine.travel(start, tick=False) as traveller, translation.override("fr"):
            t0 = perf_counter()
            agents = build_desk(random.Random(options.seed * 1000 + 1), options.agents)
            customers = build_customers(random.Random(options.seed * 1000 + 2), options.customers)
            arrivals = draw_arrivals(
                random.Random(options.seed * 1000 + 3), options.contacts, len(customers)
            )
            log(
                f"desk of {len(agents)} agents, {len(customers)} practitioners,"
                f" {len(arrivals)} requests: {perf_counter() - t0:.1f} s"
            )
            day = Day(agents, customers, random.Random(options.seed * 1000 + 4))
            time_routing_passes(day.costs)

            def enqueued(sender, task_result, **kwargs) -> None:
                task = task_result.task
                day.enqueued.append((task.module_path, list(task_result.args), task.run_after))

            task_enqueued.connect(enqueued, weak=False)
            log(f"The day of {DAY:%A %Y-%m-%d}, Paris time:")
            t0 = perf_counter()
            day.run(traveller, arrivals)
            wall = perf_counter() - t0
            log(f"simulated in {wall:.1f} s")
            report_day(day, size, wall)
        _close_connections()
    return 0


if __name__ == "__main__":
    sys.exit(main())
