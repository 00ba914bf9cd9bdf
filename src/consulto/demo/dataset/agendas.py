"""The agendas' content: each agenda's motives (``motives``), weekly openings (mornings,
afternoons, a Saturday morning, a fortnightly day, a lunchtime teleconsultation hour, new hours
from a coming date), absences, and appointments (``history``).

Each agenda draws from its own random stream (``consulto-demo:{seed}:agenda:{index}``), so its
content is the same whatever batch it is planned and written in. ``plan_batches`` plans the
agendas a batch at a time; ``insert_agendas_content`` writes a batch's motives, openings and
absences.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from consulto.directory.models import Organisation
from consulto.scheduling.models import Absence, Motive, Opening

from .history import HISTORY_DAYS, HORIZON_DAYS, local_midnight, plan_appointments
from .motives import (
    VACCINE_INSTRUCTIONS,
    VITALE,
    insert_motives,
    person_motives,
    plan_motive,
)
from .patients import PatientPools, give_demo_patient
from .plans import (
    ROWS_PER_INSERT,
    AbsencePlan,
    AgendaContent,
    AgendaPlan,
    DirectoryPlan,
    Ids,
    MotivePlan,
    OpeningPlan,
    PractitionerPlan,
)

AGENDAS_PER_BATCH = 250  # agendas planned and inserted per transaction
SAS_SHARE = 0.13  # GPs with an unscheduled-care ("snp") opening after each working day
PROFESSIONALS_SHARE = 0.08  # practitioners with a weekly hour kept for professionals
GP = "medecin-generaliste"

Kind = Organisation.Kind
Mode = Motive.Mode
SNP, PRO = Opening.Visibility.REGULATION.value, Opening.Visibility.PROFESSIONALS.value

MORNINGS = (("08:00", "12:00"), ("08:30", "12:30"), ("09:00", "12:00"), ("09:00", "12:30"))
AFTERNOONS = (("13:30", "18:00"), ("14:00", "18:00"), ("14:00", "19:00"), ("14:00", "19:30"))


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def plan_batches(
    plan: DirectoryPlan, *, seed: int, today: date, size: int = AGENDAS_PER_BATCH
) -> Iterator[list[tuple[int, AgendaContent]]]:
    """Yield the agendas' content in batches of ``size``: [(agenda index, content), ...]."""
    pools = PatientPools.of(plan.patients, today)
    zones: dict[str, ZoneInfo] = {}
    for first in range(0, len(plan.agendas), size):
        batch = []
        for index in range(first, min(first + size, len(plan.agendas))):
            agenda = plan.agendas[index]
            organisation = plan.organisations[agenda.organisation]
            timezone_name = organisation.sites[agenda.site].timezone
            zone = zones.get(timezone_name) or zones.setdefault(
                timezone_name, ZoneInfo(timezone_name)
            )
            practitioner = (
                None if agenda.practitioner is None else plan.practitioners[agenda.practitioner]
            )
            batch.append(
                (
                    index,
                    plan_agenda(
                        seed=seed, index=index, agenda=agenda, practitioner=practitioner,
                        organisation_kind=organisation.kind, zone=zone, today=today, pools=pools,
                        showcase=agenda.organisation in plan.showcase,
                    ),
                )
            )  # fmt: skip
        if first <= plan.demo_agenda < first + size:
            give_demo_patient(dict(batch), plan, today=today)
        yield batch


def _person_week(rng: random.Random, hospital: bool) -> list[tuple[int, str, str, bool, int]]:
    """A weekly timetable: (weekday, start, end, is_morning, every_weeks), no overlaps."""
    if hospital:
        morning, afternoon = ("08:30", "12:30"), ("13:30", "17:00")
        days = sorted(rng.sample(range(5), rng.randint(3, 5)))
    else:
        morning, afternoon = rng.choice(MORNINGS), rng.choice(AFTERNOONS)
        pattern = rng.random()
        if pattern < 0.55:
            days = [0, 1, 2, 3, 4]
        elif pattern < 0.85:
            days = sorted(rng.sample(range(5), 4))
        else:
            days = sorted(rng.sample(range(5), 3))
    fortnightly_day = rng.choice(days) if rng.random() < 0.1 and len(days) > 3 else None
    week = []
    for day in days:
        every = 2 if day == fortnightly_day else 1
        week.append((day, *morning, True, every))
        if rng.random() >= 0.12:  # otherwise a half day
            week.append((day, *afternoon, False, every))
    if not hospital and rng.random() < 0.35:
        week.append((5, "09:00", "12:00", True, 1 if rng.random() < 0.55 else 2))
    return week


def plan_agenda(
    *,
    seed: int,
    index: int,
    agenda: AgendaPlan,
    practitioner: PractitionerPlan | None,
    organisation_kind: str,
    zone: ZoneInfo,
    today: date,
    pools: PatientPools,
    showcase: bool = False,
) -> AgendaContent:
    """Motives, openings, absences and appointments of one agenda, from its own random stream.

    Then the openings offered beyond the public's (``_plan_sas_openings``), from a stream of
    their own: they change nothing else of the agenda, and nothing is booked in them yet.
    """
    rng = random.Random(f"consulto-demo:{seed}:agenda:{index}")
    valid_from = today - timedelta(days=rng.randint(30, 180))
    valid_from -= timedelta(days=valid_from.weekday())

    openings: list[OpeningPlan] = []
    if practitioner is not None:
        motives, mornings = person_motives(rng, practitioner)
        video = [i for i, m in enumerate(motives) if m.mode == Mode.VIDEO]
        in_person = [i for i, m in enumerate(motives) if m.mode != Mode.VIDEO]
        week = _person_week(rng, organisation_kind == Kind.HOSPITAL)
        afternoons = sorted({day for day, _, _, is_morning, _ in week if not is_morning})
        video_days = set(rng.sample(afternoons, min(len(afternoons), rng.randint(1, 2))))
        for day, start, end, is_morning, every in week:
            allowed = [i for i in in_person if is_morning or not mornings[i]]
            if video and day in video_days and not is_morning:
                allowed += video
            openings.append(
                OpeningPlan(day, _hm(start), _hm(end), tuple(allowed), valid_from, None, every)
            )
        if video and rng.random() < 0.3:
            # A lunchtime teleconsultation hour where the lunch break is long enough.
            mornings_by_day = {o.weekday: o for o in openings if o.start < time(13)}
            for day in sorted(mornings_by_day):
                lunch_start = _minutes(mornings_by_day[day].end)
                later = [o for o in openings if o.weekday == day and o.start > time(12)]
                if not later or _minutes(later[0].start) - lunch_start >= 90:
                    openings.append(
                        OpeningPlan(
                            day, _clock(lunch_start), _clock(lunch_start + 60), tuple(video),
                            valid_from, None, 1,
                        )
                    )  # fmt: skip
                    break
        if rng.random() < 0.05:
            # New hours from a date in the next two weeks: the old opening ends, a shorter one
            # takes over the next day.
            afternoon = [o for o in openings if o.start >= time(13)]
            if afternoon:
                old = rng.choice(afternoon)
                old.valid_until = today + timedelta(days=rng.randint(2, 12))
                openings.append(
                    OpeningPlan(
                        old.weekday, old.start, _clock(_minutes(old.end) - 60), old.motives,
                        old.valid_until + timedelta(days=1), None, old.every_weeks,
                    )
                )  # fmt: skip
    elif agenda.resource == "covid":
        motives = [
            plan_motive("Consultation COVID-19", 15, rng, instructions=VITALE, weight=2.0),
            plan_motive("Test antigénique COVID-19", 10, rng, instructions=VITALE),
        ]
        for day in range(7):  # every day; the afternoons are kept for regulation
            openings.append(OpeningPlan(day, time(9), time(13), (0, 1), valid_from, None, 1))
            openings.append(OpeningPlan(day, time(14), time(18), (0, 1), valid_from, None, 1, SNP))
    elif agenda.resource == "vaccination":
        motives = [
            plan_motive(
                "Vaccination grippe", 10, rng, instructions=VACCINE_INSTRUCTIONS, weight=2.0
            ),
            plan_motive("Vaccination Covid-19", 10, rng, instructions=VACCINE_INSTRUCTIONS),
        ]
        for day in range(6):
            openings.append(OpeningPlan(day, time(9), time(13), (0, 1), valid_from, None, 1))
            if day < 5:
                openings.append(OpeningPlan(day, time(14), time(18), (0, 1), valid_from, None, 1))
    else:
        motives = [plan_motive("Dépistage", 10, rng, instructions=VITALE)]
        for day in range(5):
            openings.append(OpeningPlan(day, time(8), time(12), (0,), valid_from, None, 1))
            openings.append(OpeningPlan(day, time(13), time(17), (0,), valid_from, None, 1))

    absences = _plan_absences(rng, zone, today) if practitioner is not None else []
    clientele = pools.for_specialty(practitioner.specialty if practitioner else "")
    appointments = plan_appointments(
        rng, motives, openings, absences, agenda.capacity, zone, today, clientele
    )
    if practitioner is not None:
        openings += _plan_sas_openings(
            random.Random(f"consulto-demo:{seed}:sas:{index}"),
            openings,
            motives,
            gp=practitioner.specialty == GP,
            showcase=showcase,
        )
    return AgendaContent(motives, openings, absences, appointments)


def _plan_sas_openings(
    rng: random.Random,
    openings: list[OpeningPlan],
    motives: list[MotivePlan],
    *,
    gp: bool,
    showcase: bool,
) -> list[OpeningPlan]:
    """Openings that regulation sees and the public does not.

    About one GP in eight takes part in the SAS: an hour and a half of unscheduled care
    ("snp", regulation only) after each working day. The GPs of the showcase (the demo staff's
    centre and the organisations around SAMU 75, ``showcase``) do so every day of the week,
    weekends included, so that a regulator finds them within 48 hours whatever the day. About
    one practitioner in twelve keeps an hour a week for other professionals ("pro": referrals
    and regulators); every specialist of the showcase does.
    """
    if not openings:
        return []
    in_person = tuple(i for i, m in enumerate(motives) if m.mode != Mode.VIDEO)
    valid_from = min(o.valid_from for o in openings)
    every_day = showcase and gp
    snp = every_day or (gp and rng.random() < SAS_SHARE)
    pro = rng.random() < PROFESSIONALS_SHARE or (showcase and not gp)
    if not (snp or pro):
        return []

    def after(day: int, minutes: int, visibility: str) -> OpeningPlan:
        ends = [_minutes(o.end) for o in openings + added if o.weekday == day]
        start = max(max(ends, default=0), 14 * 60)
        if not ends and day >= 5:
            start = 10 * 60  # a weekend morning's duty
        return OpeningPlan(
            day, _clock(start), _clock(start + minutes), in_person, valid_from, None, 1, visibility
        )

    added: list[OpeningPlan] = []
    working = sorted({o.weekday for o in openings})
    if snp:
        for day in range(7) if every_day else [d for d in working if d < 5]:
            added.append(after(day, 90, SNP))
    if pro:
        added.append(after(rng.choice(working), 60, PRO))
    return added


def _plan_absences(rng: random.Random, zone: ZoneInfo, today: date) -> list[AbsencePlan]:
    absences = []
    roll = rng.random()
    if roll < 0.10:
        first = today + timedelta(days=rng.randrange(HORIZON_DAYS))
        length = 1 if rng.random() < 0.5 else 7
        absences.append(
            AbsencePlan(
                local_midnight(first, zone),
                local_midnight(first + timedelta(days=length), zone),
                "Congés",
            )
        )
    elif roll < 0.15:
        day = today + timedelta(days=rng.randrange(HORIZON_DAYS))
        absences.append(
            AbsencePlan(
                datetime.combine(day, time(13), tzinfo=zone).astimezone(UTC),
                datetime.combine(day, time(20), tzinfo=zone).astimezone(UTC),
                "Formation",
            )
        )
    if rng.random() < 0.05:
        day = today - timedelta(days=rng.randint(1, HISTORY_DAYS))
        absences.append(
            AbsencePlan(
                local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone), "Congés"
            )
        )
    return absences


def insert_agendas_content(
    batch: list[tuple[int, AgendaContent]], ids: Ids, plan: DirectoryPlan, counts: dict[str, int]
) -> dict[int, list[int]]:
    """Write the batch's motives, openings (at the agenda's site) and absences; the motives' ids
    by agenda index, for the appointments."""
    motive_ids = insert_motives(batch, ids, plan, counts)
    openings: list[Opening] = []
    opening_motives: list[tuple[int, ...]] = []
    absences: list[Absence] = []
    for index, content in batch:
        agenda = plan.agendas[index]
        agenda_id = ids.agendas[index]
        site_id = ids.sites[agenda.organisation][agenda.site]
        own = motive_ids[index]
        for o in content.openings:
            openings.append(
                Opening(
                    agenda_id=agenda_id,
                    site_id=site_id,
                    weekday=o.weekday,
                    start_time=o.start,
                    end_time=o.end,
                    valid_from=o.valid_from,
                    valid_until=o.valid_until,
                    every_weeks=o.every_weeks,
                    visibility=o.visibility,
                )
            )
            opening_motives.append(tuple(own[i] for i in o.motives))
        absences.extend(
            Absence(agenda_id=agenda_id, start=a.start, end=a.end, reason=a.reason)
            for a in content.absences
        )
    Opening.objects.bulk_create(openings, batch_size=ROWS_PER_INSERT)
    through = Opening.motives.through
    Opening.motives.through.objects.bulk_create(
        [
            through(opening_id=opening.pk, motive_id=motive_id)
            for opening, allowed in zip(openings, opening_motives, strict=True)
            for motive_id in allowed
        ],
        batch_size=ROWS_PER_INSERT,
    )
    Absence.objects.bulk_create(absences, batch_size=ROWS_PER_INSERT)
    counts["openings"] = counts.get("openings", 0) + len(openings)
    counts["absences"] = counts.get("absences", 0) + len(absences)
    return motive_ids
