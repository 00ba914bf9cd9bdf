"""The regulation showcase: SAMU 75 and the Paris organisations its regulators book with.

Added to every dataset, whatever its size, after the rest of the directory and from random
streams of its own (``consulto-demo:{seed}:showcase``), so that the rest of the dataset is as it
would be without it: the regulation centre SAMU 75 (its regulating doctor, operator and admin
log in), a hospital with departments (Cardiologie, Pédiatrie, Radiologie, two or three agendas
each, one department admin), a screening centre and a COVID consultation centre (capacity lines),
a multi-professional health centre (MSP) whose GPs take extra patients sent by regulation, and
a CPTS. The GPs of these organisations (and of the demo staff's centre) keep regulation-only
openings every day of the week (``agendas._plan_sas_openings``); their specialists an hour a
week for professionals.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from faker import Faker

from consulto.core.crypto import encrypt_text
from consulto.directory.models import Organisation, Practitioner
from consulto.referral.models import RegulationCase
from consulto.scheduling.models import Agenda, Appointment, Motive, PatientProfile, Referral

from .logins import DEMO_LOGINS
from .plans import AgendaPlan, DepartmentPlan, OrganisationPlan, fiction_phone

if TYPE_CHECKING:
    from .directory import _DirectoryPlanner

Kind = Organisation.Kind
Outcome = RegulationCase.Outcome
Status = Appointment.Status
GP = "medecin-generaliste"
OUTCOMES = (Outcome.BOOKED, Outcome.EXTRA, Outcome.EMERGENCY, Outcome.ADVICE)
OTHER_NEEDS = (RegulationCase.Need.GP_48H, RegulationCase.Need.COVID, RegulationCase.Need.VIDEO)
REGULATION_EMAILS = ("regulateur@consulto.local", "operateur@consulto.local")
PARIS_POSTCODES = ("75010", "75011", "75012", "75018", "75019", "75020")

SAMU_NAME = "SAMU 75"
HOSPITAL_NAME = "Hôpital Saint-Vincent de Paris"
DEPARTMENTS = (
    ("Cardiologie", "cardiologue", 3, "Consultations de cardiologie, ECG et échographies."),
    ("Pédiatrie", "pediatre", 3, "Consultations pédiatriques du nourrisson à l'adolescent."),
    ("Radiologie", "radiologue", 2, "Radiographies et échographies sur rendez-vous."),
)
# Paris arrondissements of the showcase's sites.
PLACES = {
    "samu": "75015",
    "hospital": "75010",
    "screening": "75012",
    "covid": "75020",
    "msp": "75019",
    "cpts": "75011",
}


def plan_showcase(planner: _DirectoryPlanner, seed: int) -> set[int]:
    """Append the showcase's organisations, practitioners and agendas to the planner's lists;
    the indices of its organisations."""
    planner.rng = rng = random.Random(f"consulto-demo:{seed}:showcase")
    planner.fake = Faker("fr_FR")
    planner.fake.seed_instance(f"consulto-demo:{seed}:showcase")
    paris = {c.postcode: c for c in planner.cities if c.name == "Paris"}
    first = len(planner.organisations)

    def organisation(plan: OrganisationPlan) -> int:
        planner.organisations.append(plan)
        return len(planner.organisations) - 1

    def person_agenda(org: int, specialty: str, department: int | None = None) -> None:
        city = paris[PLACES["hospital"] if department is not None else PLACES["msp"]]
        plan = planner.practitioner(specialty, planner.organisations[org].name, city)
        name = " ".join(p for p in (plan.title, plan.first_name, plan.last_name) if p)
        planner.agendas.append(
            AgendaPlan(org, 0, len(planner.practitioners) - 1, name, 1, department=department)
        )

    # The regulation centre: a site, a phone, a territory; no agenda.
    city = paris[PLACES["samu"]]
    organisation(
        OrganisationPlan(
            SAMU_NAME,
            Kind.REGULATION_CENTRE,
            "",
            [planner.site("SAMU de Paris – Centre 15", city)],
            territory="75",
            phone=fiction_phone(rng, "01 99 00"),
        )
    )

    city = paris[PLACES["hospital"]]
    hospital = organisation(
        OrganisationPlan(
            HOSPITAL_NAME,
            Kind.HOSPITAL,
            "",
            [planner.site(f"{HOSPITAL_NAME} – Consultations externes", city)],
            phone=fiction_phone(rng, "01 99 00"),
            departments=[
                DepartmentPlan(name, specialty, description, fiction_phone(rng, "01 99 00"))
                for name, specialty, _count, description in DEPARTMENTS
            ],
        )
    )
    for department, (_name, specialty, count, _description) in enumerate(DEPARTMENTS):
        for _ in range(count):
            person_agenda(hospital, specialty, department)

    for key, kind, name, label, capacity, resource in (
        ("screening", Kind.SCREENING_CENTRE, "Centre de dépistage Paris-Bercy",
         "Ligne de dépistage", 4, "screening"),
        ("covid", Kind.COVID_CENTRE, "Centre de consultation COVID-19 Paris 20e",
         "Ligne de consultation COVID", 3, "covid"),
    ):  # fmt: skip
        city = paris[PLACES[key]]
        org = organisation(
            OrganisationPlan(name, kind, "", [planner.site(name, city)], territory="75")
        )
        for line in (1, 2):
            planner.agendas.append(AgendaPlan(org, 0, None, f"{label} {line}", capacity, resource))

    city = paris[PLACES["msp"]]
    name = "Maison de santé pluriprofessionnelle Belleville"
    msp = organisation(OrganisationPlan(name, Kind.MSP, "", [planner.site(name, city)]))
    for specialty in ("medecin-generaliste",) * 3 + ("infirmier", "kinesitherapeute"):
        person_agenda(msp, specialty)
    # Two of its GPs take extra patients sent by regulation, each with a weekly cap.
    for practitioner, cap in zip(planner.practitioners[-5:-3], (5, 3), strict=True):
        practitioner.takes_extra_patients = True
        practitioner.regulation_phone = fiction_phone(rng, "06 39 98")
        practitioner.extra_patients_weekly_cap = cap

    city = paris[PLACES["cpts"]]
    name = "CPTS Paris 11"
    organisation(OrganisationPlan(name, Kind.CPTS, "", [planner.site(name, city)], territory="75"))
    return set(range(first, len(planner.organisations)))


REASONS = (
    "Fièvre à 39 °C depuis deux jours, toux",
    "Douleur abdominale modérée depuis hier soir",
    "Otalgie de l'enfant, pas de fièvre",
    "Lombalgie aiguë après un effort, marche possible",
    "Infection urinaire probable, sans fièvre",
    "Éruption cutanée étendue, pas de gêne respiratoire",
    "Entorse de cheville, appui possible",
    "Renouvellement de traitement, médecin traitant absent",
    "Conjonctivite, gêne visuelle légère",
    "Angine, difficultés à avaler",
)
NIGHT_EXTRAS = (("00:10", 1), ("00:50", 1), ("01:30", 1), ("02:20", 0))  # (time, MSP GP)


def insert_regulation_cases(*, seed: int, today: date, showcase_ids: list[int]) -> int:
    """SAMU 75's cases of the last two weeks and of last night: booked (with the appointment's
    referral, "adressé par SAMU 75"), extra patients accepted by phone (some this week, one GP
    at his weekly cap), sent to the emergency department, advice only. Returns their number."""
    user_model = get_user_model()
    samu = Organisation.objects.get(kind=Kind.REGULATION_CENTRE, name=SAMU_NAME, territory="75")
    users = {u.email: u for u in user_model.objects.filter(email__in=REGULATION_EMAILS)}
    regulator, operator = users[REGULATION_EMAILS[0]], users[REGULATION_EMAILS[1]]
    rng = random.Random(f"consulto-demo:{seed}:cases")
    zone = ZoneInfo("Europe/Paris")
    extras = list(
        Practitioner.objects.filter(
            takes_extra_patients=True, agendas__organisation_id__in=showcase_ids
        )
        .distinct()
        .order_by("pk")
    )
    gp_appointments = list(
        Appointment.objects.filter(
            agenda__organisation_id__in=showcase_ids,
            agenda__practitioner__specialty__code=GP,
            patient__owner__isnull=True,
            motive__mode=Motive.Mode.IN_PERSON,
            status__in=(Status.SEEN, Status.NO_SHOW, Status.BOOKED),
            start__gte=_local(today - timedelta(days=14), "00:00", zone),
            start__lt=_local(today + timedelta(days=3), "00:00", zone),
        )
        .select_related("patient")
        .order_by("start", "pk")
    )
    pool = list(
        PatientProfile.objects.filter(owner__isnull=True)
        .order_by("pk")[:500]
        .values("pk", "first_name", "last_name", "birth_date", "phone")
    )
    used: set[int] = set()
    cases: list[RegulationCase] = []
    referrals: list[Referral] = []
    booked: list[Appointment] = []

    def case(opened_at: datetime, outcome: str, **fields) -> RegulationCase:
        by = regulator if len(cases) % 3 else operator
        reason = rng.choice(REASONS)
        if "first_name" not in fields:
            person = rng.choice(pool)
            fields.update(
                first_name=person["first_name"], last_name=person["last_name"],
                birth_date=person["birth_date"], phone=person["phone"] or "06 39 98 00 00",
            )  # fmt: skip
        made = RegulationCase(
            centre=samu,
            opened_by=by,
            opened_at=opened_at,
            caller=rng.choice(RegulationCase.Caller.values[:3]),
            postcode=rng.choice(PARIS_POSTCODES),
            need=fields.pop("need", RegulationCase.Need.GP_48H),
            reason=encrypt_text(reason),
            outcome=outcome,
            closed_at=None if outcome == Outcome.OPEN else opened_at + timedelta(minutes=6),
            closed_by=None if outcome == Outcome.OPEN else by,
            **fields,
        )
        made.plain_reason = reason
        cases.append(made)
        return made

    def book(opened_at: datetime, appointment: Appointment) -> None:
        made = case(
            opened_at,
            Outcome.BOOKED,
            first_name=appointment.patient.first_name,
            last_name=appointment.patient.last_name,
            birth_date=appointment.patient.birth_date,
            phone=appointment.patient.phone or "06 39 98 00 00",
            patient=appointment.patient,
            appointment=appointment,
        )
        used.add(appointment.pk)
        appointment.booked_by = made.opened_by
        appointment.channel = Appointment.Channel.REGULATOR
        appointment.created_at = opened_at + timedelta(minutes=rng.randint(3, 9))
        made.closed_at = appointment.created_at + timedelta(minutes=1)
        booked.append(appointment)
        referrals.append(
            Referral(
                appointment=appointment,
                kind=Referral.Kind.REGULATION,
                from_organisation=samu,
                referrer_label=SAMU_NAME,
                referred_by=made.opened_by,
                reason=encrypt_text(made.plain_reason),
                urgency=Referral.Urgency.TWO_DAYS,
            )
        )

    for back in range(14, 0, -1):
        day = today - timedelta(days=back)
        for _ in range(rng.randint(3, 6)):
            opened_at = _local(day, f"{rng.randint(7, 22):02d}:{rng.randrange(60):02d}", zone)
            outcome = rng.choices(OUTCOMES, (60, 10, 15, 15))[0]
            if outcome == Outcome.BOOKED:
                late = rng.random() < 0.15  # a few found only after 48 hours
                low, high = (48, 72) if late else (1, 48)
                fitting = [
                    a
                    for a in gp_appointments
                    if a.pk not in used
                    and opened_at + timedelta(hours=low)
                    <= a.start
                    < opened_at + timedelta(hours=high)
                ]
                if fitting:
                    book(opened_at, rng.choice(fitting))
                    continue
                outcome = Outcome.ADVICE
            if outcome == Outcome.EXTRA and extras:
                case(
                    opened_at,
                    outcome,
                    extra_practitioner=rng.choice(extras),
                    extra_at=opened_at + timedelta(hours=rng.randint(2, 6)),
                )
            elif outcome == Outcome.EMERGENCY:
                case(opened_at, outcome)
            else:
                case(opened_at, Outcome.ADVICE, need=rng.choice(OTHER_NEEDS))
    # Last night: extra patients taken this week (one GP at his cap), a booking coming up at
    # the demo GP's, and a call still open.
    for hour, which in NIGHT_EXTRAS:
        if len(extras) > which:
            opened_at = _local(today, hour, zone)
            case(
                opened_at,
                Outcome.EXTRA,
                extra_practitioner=extras[which],
                extra_at=_local(today, "09:30", zone),
            )
    demo_gp = [a for a in gp_appointments if a.agenda_id == _demo_agenda_id()]
    coming = [a for a in demo_gp if a.pk not in used and a.start >= _local(today, "12:00", zone)]
    if coming:
        book(_local(today, "03:10", zone), coming[0])
    case(_local(today, "03:40", zone), Outcome.OPEN)

    RegulationCase.objects.bulk_create(cases)
    Appointment.objects.bulk_update(booked, ["booked_by", "channel", "created_at"])
    Referral.objects.bulk_create(referrals)
    return len(cases)


def _demo_agenda_id() -> int | None:
    return (
        Agenda.objects.filter(practitioner__user__email=DEMO_LOGINS[1].email)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _local(day: date, clock: str, zone: ZoneInfo) -> datetime:
    hours, minutes = clock.split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=zone)
