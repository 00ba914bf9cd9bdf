"""The demo's directory: organisations of every kind (health centres, practices, hospitals,
vaccination and screening centres, a regulation centre, a support provider), their sites in real
French cities (``directory/data/places.csv``), practitioners with valid RPPS numbers, and their
agendas (one per practitioner, one per line of a vaccination or screening centre).

One random stream (``consulto-demo:{seed}:directory``) and one Faker ``fr_FR`` seeded from the seed
draw it all in a fixed order, then the patient pool (``patients.plan_patients``) from the same
streams. The demo staff's health centre is the first organisation, in Paris, and Paris gets the
first practitioners whatever the size, so that a newcomer searching Paris finds many.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cache

from faker import Faker

from consulto.directory.models import (
    Department,
    Organisation,
    Practitioner,
    Site,
    Specialty,
)
from consulto.directory.places import load_places
from consulto.directory.rpps import luhn_check_digit
from consulto.directory.specialties import SPECIALTIES
from consulto.scheduling.models import Agenda

from .patients import MAX_PATIENTS, PATIENTS_PER_PRACTITIONER, plan_patients
from .plans import (
    ROWS_PER_INSERT,
    AgendaPlan,
    DemoError,
    DirectoryPlan,
    OrganisationPlan,
    PractitionerPlan,
    SitePlan,
    fiction_phone,
)
from .showcase import plan_showcase

Kind = Organisation.Kind


@dataclass(frozen=True, slots=True)
class City:
    name: str
    postcode: str
    lat: float
    lon: float
    timezone: str


@cache
def load_cities() -> tuple[City, ...]:
    """The real French places the demo puts its sites in (``directory/data/places.csv``)."""
    return tuple(City(p.name, p.postcode, p.lat, p.lon, p.timezone) for p in load_places())


DEMO_CITY = next(c for c in load_cities() if c.postcode == "75011")  # the demo staff's centre
# Practitioners put in Paris first, whatever the dataset's size: a newcomer who searches Paris
# finds many of them, with free slots (the others go to cities drawn at random).
PARIS_SHOWCASE = 24


# Professions whose members are not addressed as "Dr".
NOT_DOCTORS = frozenset(
    {
        "kinesitherapeute", "infirmier", "sage-femme", "psychologue", "orthophoniste",
        "orthoptiste", "osteopathe", "podologue", "dieteticien",
    }
)  # fmt: skip
# Professions outside the health-insurance convention: no sector.
NO_SECTOR = frozenset({"psychologue", "osteopathe", "dieteticien"})
# Professions that do not take hospital consultations in this demo.
NOT_IN_HOSPITALS = frozenset(
    {
        "medecin-generaliste", "chirurgien-dentiste", "kinesitherapeute", "infirmier",
        "orthophoniste", "osteopathe", "podologue", "dieteticien", "orthoptiste",
    }
)  # fmt: skip


PLACE_NAMES = (
    "des Tilleuls", "du Parc", "de la Gare", "Pasteur", "Saint-Exupéry", "des Lilas", "du Centre",
    "Victor Hugo", "Jean Jaurès", "de la Mairie", "des Arcades", "du Marché", "des Acacias",
    "Simone Veil", "Marie Curie", "du Port", "des Remparts", "de l'Église", "du Château",
    "Voltaire", "des Écoles", "du Canal", "Jules Ferry", "de la République",
)  # fmt: skip
SAINTS = ("Saint-Joseph", "Saint-Martin", "Sainte-Anne", "Saint-Louis", "Sainte-Marie")
HOSPITAL_SITES = (
    "Hôpital Nord", "Hôpital Sud", "Site Pasteur", "Site Laennec", "Hôpital de jour",
    "Pôle mère-enfant", "Centre de consultations externes",
)  # fmt: skip
ACCESS_DETAILS = (
    "Accès PMR, ascenseur.",
    "Bâtiment B, 2e étage, porte gauche.",
    "Rez-de-chaussée, entrée par la cour.",
    "Parking gratuit devant le bâtiment.",
    "Interphone au nom du cabinet.",
    "Arrêt de bus à 100 m.",
)
BIOS = (
    "{name} vous reçoit au sein de {place}, à {city}.",
    "{name} exerce à {city} et consulte sur rendez-vous. Merci de prévenir en cas d'empêchement.",
    "{name} vous accueille à {place}. Consultations en français{languages}.",
)
LANGUAGE_NAMES = {
    "en": "anglais", "ar": "arabe", "es": "espagnol", "de": "allemand", "it": "italien",
    "pt": "portugais",
}  # fmt: skip


def _departement(postcode: str) -> str:
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode < "20200" else "2B"
    return postcode[:2]


def _finess(rng: random.Random, postcode: str) -> str:
    department = _departement(postcode)
    body = department + "".join(str(rng.randrange(10)) for _ in range(8 - len(department)))
    return body + luhn_check_digit(("00" + body.replace("A", "0").replace("B", "0"))[-10:])


def _jitter(rng: random.Random, city: City) -> tuple[float, float]:
    return (
        round(city.lat + rng.uniform(-0.012, 0.012), 6),
        round(city.lon + rng.uniform(-0.018, 0.018), 6),
    )


class _DirectoryPlanner:
    def __init__(self, *, seed: int, practitioners: int, today: date) -> None:
        self.seed = seed
        self.n = practitioners
        self.today = today
        self.rng = random.Random(f"consulto-demo:{seed}:directory")
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.cities = load_cities()
        people = [s for s in SPECIALTIES if not s.is_resource]
        self.codes = [s.code for s in people]
        self.weights = [s.weight for s in people]
        self.hospital_codes = [c for c in self.codes if c not in NOT_IN_HOSPITALS]
        self.hospital_weights = [
            w for c, w in zip(self.codes, self.weights, strict=True) if c not in NOT_IN_HOSPITALS
        ]
        # An affine map with a multiplier prime to 10 is a bijection on 8 digits: RPPS numbers
        # that look random and can never collide within the dataset.
        multiplier = self.rng.randrange(10**6, 10**8) | 1
        while multiplier % 5 == 0:
            multiplier += 2
        self.rpps_multiplier = multiplier
        self.rpps_offset = self.rng.randrange(10**8)
        self.organisations: list[OrganisationPlan] = []
        self.practitioners: list[PractitionerPlan] = []
        self.agendas: list[AgendaPlan] = []
        self.paris = [c for c in self.cities if c.name == "Paris" and c != DEMO_CITY]
        self.paris_turn = 0
        self.in_paris = 0

    # -- pieces

    def site(self, name: str, city: City) -> SitePlan:
        rng = self.rng
        lat, lon = _jitter(rng, city)
        return SitePlan(
            name=name,
            address=self.fake.street_address(),
            postcode=city.postcode,
            city=city.name,
            latitude=lat,
            longitude=lon,
            timezone=city.timezone,
            phone=fiction_phone(rng, "01 99 00"),
            access_details=rng.choice(ACCESS_DETAILS) if rng.random() < 0.5 else "",
        )

    def practitioner(self, specialty: str, place: str, city: City) -> PractitionerPlan:
        rng, fake = self.rng, self.fake
        female = rng.random() < 0.55
        first_name = fake.first_name_female() if female else fake.first_name_male()
        last_name = fake.last_name()
        index = len(self.practitioners)
        first_ten = f"10{(self.rpps_multiplier * index + self.rpps_offset) % 10**8:08d}"
        title = "" if specialty in NOT_DOCTORS else "Dr"
        roll = rng.random()
        if roll < 0.75:
            languages = "fr"
        else:
            languages = rng.choice(("fr,en", "fr,en", "fr,en", "fr,ar", "fr,es", "fr,de", "fr,it",
                                    "fr,pt", "fr,en,es"))  # fmt: skip
        if specialty in NO_SECTOR:
            sector = ""
        elif specialty == "medecin-generaliste" or title == "":
            sector = rng.choices(("1", "2", "3"), (90, 9, 1))[0]
        else:
            sector = rng.choices(("1", "2", "3"), (60, 35, 5))[0]
        name = " ".join(p for p in (title, first_name, last_name) if p)
        bio = ""
        if rng.random() < 0.6:
            spoken = [LANGUAGE_NAMES[c] for c in languages.split(",")[1:]]
            bio = rng.choice(BIOS).format(
                name=name,
                place=place,
                city=city.name,
                languages=(" et en " + " et en ".join(spoken)) if spoken else "",
            )
        plan = PractitionerPlan(
            title=title,
            first_name=first_name,
            last_name=last_name,
            rpps=first_ten + luhn_check_digit(first_ten),
            specialty=specialty,
            languages=languages,
            sector=sector,
            accepts_new_patients=rng.random() < 0.8,
            video_enabled=rng.random() < 0.35,
            bio=bio,
        )
        self.practitioners.append(plan)
        return plan

    def staffed(self, organisation: OrganisationPlan, city: City, specialties: list[str]) -> None:
        """Add an organisation with one practitioner and one agenda per specialty given."""
        org_index = len(self.organisations)
        self.organisations.append(organisation)
        for specialty in specialties:
            site_index = self.rng.randrange(len(organisation.sites))
            plan = self.practitioner(specialty, organisation.name, city)
            self.agendas.append(
                AgendaPlan(
                    organisation=org_index,
                    site=site_index,
                    practitioner=len(self.practitioners) - 1,
                    name=" ".join(p for p in (plan.title, plan.first_name, plan.last_name) if p),
                    capacity=1,
                )
            )

    def draw(self, count: int, *, hospital: bool = False) -> list[str]:
        if hospital:
            return self.rng.choices(self.hospital_codes, self.hospital_weights, k=count)
        return self.rng.choices(self.codes, self.weights, k=count)

    # -- organisations

    def city(self, size: int) -> City:
        """Where the next organisation of ``size`` practitioners is: a random city, or, until
        Paris holds ``PARIS_SHOWCASE`` practitioners, the next arrondissement of Paris (the
        random draw is still made, so the rest of the dataset is as it would be)."""
        drawn = self.rng.choice(self.cities)
        if self.in_paris >= min(PARIS_SHOWCASE, self.n):
            return drawn
        self.in_paris += size
        city = self.paris[self.paris_turn % len(self.paris)]
        self.paris_turn += 1
        return city

    def health_centre(self, size: int, *, city: City | None = None) -> None:
        rng = self.rng
        city = city or self.city(size)
        name = rng.choice(
            (
                f"Centre de santé {rng.choice(PLACE_NAMES)}",
                f"Centre médical {rng.choice(PLACE_NAMES)}",
                f"Centre de santé municipal de {city.name}",
                f"Maison de santé {rng.choice(PLACE_NAMES)}",
            )
        )
        org = OrganisationPlan(name, Kind.HEALTH_CENTRE, _finess(rng, city.postcode), [])
        org.sites.append(self.site(name, city))
        # Health centres always have general practitioners; the first one is one.
        self.staffed(org, city, ["medecin-generaliste", *self.draw(size - 1)])

    def practice(self, size: int) -> None:
        rng = self.rng
        city = self.city(size)
        first = self.draw(1)[0]
        specialties = [first] + [
            first if rng.random() < 0.6 else self.draw(1)[0] for _ in range(size - 1)
        ]
        place = rng.choice(PLACE_NAMES)
        if first == "chirurgien-dentiste":
            name = f"Cabinet dentaire {place}"
        elif first == "kinesitherapeute":
            name = f"Cabinet de kinésithérapie {place}"
        elif first in NOT_DOCTORS:
            name = f"Cabinet paramédical {place}"
        else:
            name = f"Cabinet médical {place}"
        org = OrganisationPlan(name, Kind.PRACTICE, "", [])
        org.sites.append(self.site(name, city))
        self.staffed(org, city, specialties)

    def hospital(self, size: int) -> None:
        rng = self.rng
        city = rng.choice(self.cities)
        name = rng.choice(
            (
                f"Centre hospitalier de {city.name}",
                f"CHU de {city.name}",
                f"Hôpital privé {rng.choice(SAINTS)}",
            )
        )
        org = OrganisationPlan(name, Kind.HOSPITAL, _finess(rng, city.postcode), [])
        for site_name in rng.sample(HOSPITAL_SITES, rng.randint(2, 4)):
            org.sites.append(self.site(f"{name} – {site_name}", city))
        self.staffed(org, city, self.draw(size, hospital=True))

    def resource_centre(self, kind: str) -> None:
        rng = self.rng
        city = rng.choice(self.cities)
        if kind == Kind.VACCINATION_CENTRE:
            name, lines, label, capacity, resource = (
                f"Centre de vaccination de {city.name}", rng.randint(2, 4),
                "Ligne de vaccination", 6, "vaccination",
            )  # fmt: skip
        else:
            name, lines, label, capacity, resource = (
                f"Centre de dépistage de {city.name}", rng.randint(1, 3),
                "Cabine de dépistage", 1, "screening",
            )  # fmt: skip
        org = OrganisationPlan(name, kind, _finess(rng, city.postcode), [self.site(name, city)])
        org_index = len(self.organisations)
        self.organisations.append(org)
        for line in range(1, lines + 1):
            self.agendas.append(
                AgendaPlan(org_index, 0, None, f"{label} {line}", capacity, resource)
            )

    def unstaffed(self, kind: str) -> None:
        rng = self.rng
        city = rng.choice(self.cities)
        territory = ""
        if kind == Kind.REGULATION_CENTRE:
            name = f"SAMU – Centre 15 de {city.name}"
            finess = _finess(rng, city.postcode)
            territory = _departement(city.postcode)
        else:
            name = "Relation Patients Services"
            finess = ""
        self.organisations.append(
            OrganisationPlan(name, kind, finess, [self.site(name, city)], territory=territory)
        )

    # -- the whole

    def build(self) -> DirectoryPlan:
        rng, n = self.rng, self.n
        # The demo staff work in the first organisation: a health centre led by a GP.
        first_centre = min(n, rng.randint(5, 15)) if n else 0
        hospital_count = 2 + n // 2500
        hospital_people = round(n * 0.10) if n > first_centre else 0
        centre_people = max(0, round(n * 0.22) - first_centre)
        rest = n - first_centre
        hospital_people = min(hospital_people, rest)
        centre_people = min(centre_people, rest - hospital_people)
        practice_people = rest - hospital_people - centre_people

        jobs: list[tuple[str, int]] = []
        base, extra = divmod(hospital_people, hospital_count)
        jobs += [(Kind.HOSPITAL, base + (i < extra)) for i in range(hospital_count)]
        while centre_people > 0:
            size = min(centre_people, rng.randint(5, 15))
            jobs.append((Kind.HEALTH_CENTRE, size))
            centre_people -= size
        while practice_people > 0:
            size = min(practice_people, rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0])
            jobs.append((Kind.PRACTICE, size))
            practice_people -= size
        for _ in range(1 + n // 3000):
            jobs.append((Kind.VACCINATION_CENTRE, 0))
            jobs.append((Kind.SCREENING_CENTRE, 0))
        jobs += [(Kind.REGULATION_CENTRE, 0), (Kind.SUPPORT_PROVIDER, 0)]
        rng.shuffle(jobs)

        if first_centre:
            # The demo staff's centre is in Paris, where a newcomer is likely to search first.
            self.rng.choice(self.cities)
            self.in_paris += first_centre
            self.health_centre(first_centre, city=DEMO_CITY)
        for kind, size in jobs:
            if kind == Kind.HEALTH_CENTRE:
                self.health_centre(size)
            elif kind == Kind.PRACTICE:
                self.practice(size)
            elif kind == Kind.HOSPITAL:
                self.hospital(size)
            elif kind in (Kind.VACCINATION_CENTRE, Kind.SCREENING_CENTRE):
                self.resource_centre(kind)
            else:
                self.unstaffed(kind)
        patients = plan_patients(
            rng, self.fake, min(MAX_PATIENTS, max(50, n * PATIENTS_PER_PRACTITIONER))
        )
        showcase = plan_showcase(self, self.seed)  # last, from streams of its own
        return DirectoryPlan(
            organisations=self.organisations,
            practitioners=self.practitioners,
            agendas=self.agendas,
            patients=patients,
            demo_organisation=0,
            demo_agenda=0,
            showcase=frozenset(showcase | {0}),
        )


def plan_directory(*, seed: int, practitioners: int, today: date) -> DirectoryPlan:
    """Organisations, sites, practitioners, agendas and the patient pool for that seed."""
    return _DirectoryPlanner(seed=seed, practitioners=practitioners, today=today).build()


def insert_directory(
    plan: DirectoryPlan,
) -> tuple[list[Organisation], list[list[int]], list[Practitioner], list[Agenda]]:
    """Write the organisations, their sites, the practitioners and the agendas; the rows, and
    each organisation's site ids in plan order."""
    specialty_ids = dict(Specialty.objects.values_list("code", "id"))
    missing = {p.specialty for p in plan.practitioners} - specialty_ids.keys()
    if missing:
        raise DemoError(f"Specialties missing from the database (run migrate): {sorted(missing)}")

    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                name=o.name, kind=o.kind, finess=o.finess, territory=o.territory, phone=o.phone
            )
            for o in plan.organisations
        ],
        batch_size=ROWS_PER_INSERT,
    )
    department_rows = Department.objects.bulk_create(
        [
            Department(
                organisation_id=org.pk,
                name=d.name,
                specialty_id=specialty_ids.get(d.specialty),
                description=d.description,
                phone=d.phone,
                position=position,
            )
            for org, o in zip(organisations, plan.organisations, strict=True)
            for position, d in enumerate(o.departments)
        ]
    )
    departments: list[list[int]] = []
    rows_of_departments = iter(department_rows)
    for o in plan.organisations:
        departments.append([next(rows_of_departments).pk for _ in o.departments])
    site_rows = [
        Site(organisation_id=org.pk, **_site_fields(site))
        for org, o in zip(organisations, plan.organisations, strict=True)
        for site in o.sites
    ]
    Site.objects.bulk_create(site_rows, batch_size=ROWS_PER_INSERT)
    sites: list[list[int]] = []
    rows = iter(site_rows)
    for o in plan.organisations:
        sites.append([next(rows).pk for _ in o.sites])

    practitioners = Practitioner.objects.bulk_create(
        [
            Practitioner(
                title=p.title,
                first_name=p.first_name,
                last_name=p.last_name,
                rpps=p.rpps,
                rpps_status=Practitioner.RppsStatus.VALID,
                specialty_id=specialty_ids[p.specialty],
                languages=p.languages,
                convention_sector=p.sector,
                accepts_new_patients=p.accepts_new_patients,
                video_enabled=p.video_enabled,
                bio=p.bio,
                takes_extra_patients=p.takes_extra_patients,
                regulation_phone=p.regulation_phone,
                extra_patients_weekly_cap=p.extra_patients_weekly_cap,
            )
            for p in plan.practitioners
        ],
        batch_size=ROWS_PER_INSERT,
    )
    agendas = Agenda.objects.bulk_create(
        [
            Agenda(
                organisation_id=organisations[a.organisation].pk,
                practitioner_id=None
                if a.practitioner is None
                else practitioners[a.practitioner].pk,
                site_id=sites[a.organisation][a.site],
                department_id=None
                if a.department is None
                else departments[a.organisation][a.department],
                name=a.name,
                capacity=a.capacity,
            )
            for a in plan.agendas
        ],
        batch_size=ROWS_PER_INSERT,
    )
    return organisations, sites, practitioners, agendas


def _site_fields(site: SitePlan) -> dict:
    return {
        "name": site.name,
        "address": site.address,
        "postcode": site.postcode,
        "city": site.city,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "timezone": site.timezone,
        "phone": site.phone,
        "access_details": site.access_details,
    }
