"""What the agendas can be booked for: each practitioner's first and follow-up consultations,
a teleconsultation when they consult by video, and one or two motives of their specialty, each
with its notice, horizon, cancellation deadline, colour and price."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from consulto.scheduling.models import Motive

from .plans import (
    ROWS_PER_INSERT,
    AgendaContent,
    DirectoryPlan,
    Ids,
    MotivePlan,
    PractitionerPlan,
)

Mode = Motive.Mode


@dataclass(frozen=True, slots=True)
class MotiveSpec:
    label: str
    duration: int
    instructions: str = ""
    new_patients: bool = True
    mornings_only: bool = False


VITALE = "Munissez-vous de votre carte Vitale et de vos derniers comptes rendus ou ordonnances."
FASTING = "Venez à jeun depuis la veille au soir (eau autorisée)."
# Specialty-specific motives; each practitioner offers one or two of their specialty's list.
EXTRA_MOTIVES: dict[str, tuple[MotiveSpec, ...]] = {
    "medecin-generaliste": (
        MotiveSpec("Certificat médical de sport", 15),
        MotiveSpec("Consultation pour un enfant", 20, "Apportez le carnet de santé de l'enfant."),
        MotiveSpec("Renouvellement d'ordonnance", 15, new_patients=False),
    ),
    "pediatre": (
        MotiveSpec("Vaccination", 15, "Apportez le carnet de santé de l'enfant."),
        MotiveSpec("Consultation du nourrisson", 30, "Apportez le carnet de santé de l'enfant."),
    ),
    "chirurgien-dentiste": (
        MotiveSpec("Détartrage", 30),
        MotiveSpec("Urgence dentaire", 20, mornings_only=True),
        MotiveSpec("Soins dentaires", 30, new_patients=False),
    ),
    "kinesitherapeute": (
        MotiveSpec(
            "Séance de rééducation", 30, "Munissez-vous de votre ordonnance et d'une serviette."
        ),
        MotiveSpec("Bilan kinésithérapique", 45, "Apportez vos examens d'imagerie récents."),
    ),
    "infirmier": (
        MotiveSpec("Prise de sang", 10, FASTING, mornings_only=True),
        MotiveSpec("Pansement", 15),
        MotiveSpec("Injection", 10, "Apportez votre ordonnance et le produit à injecter."),
    ),
    "sage-femme": (
        MotiveSpec("Suivi de grossesse", 30, "Apportez votre dossier de grossesse."),
        MotiveSpec("Rééducation du périnée", 30),
    ),
    "gynecologue": (
        MotiveSpec("Frottis", 20),
        MotiveSpec("Pose de stérilet", 30, new_patients=False),
    ),
    "ophtalmologue": (
        MotiveSpec("Renouvellement de lunettes", 20, "Apportez vos lunettes actuelles."),
        MotiveSpec(
            "Fond d'œil", 30, "Vos pupilles seront dilatées : ne conduisez pas après l'examen."
        ),
    ),
    "dermatologue": (
        MotiveSpec("Contrôle de grains de beauté", 20),
        MotiveSpec("Acné", 20),
    ),
    "psychiatre": (MotiveSpec("Renouvellement d'ordonnance", 15, new_patients=False),),
    "cardiologue": (
        MotiveSpec("Électrocardiogramme (ECG)", 20),
        MotiveSpec("Échographie cardiaque", 30, VITALE),
    ),
    "orl": (MotiveSpec("Audiogramme", 30), MotiveSpec("Lavage d'oreilles", 15)),
    "radiologue": (
        MotiveSpec("Radiographie", 15, "Apportez l'ordonnance et vos anciens clichés."),
        MotiveSpec("Échographie abdominale", 20, FASTING),
    ),
    "psychologue": (MotiveSpec("Séance de thérapie", 45), MotiveSpec("Entretien familial", 60)),
    "orthophoniste": (
        MotiveSpec("Bilan orthophonique", 60, "Apportez l'ordonnance du médecin."),
        MotiveSpec("Séance de rééducation orthophonique", 30, new_patients=False),
    ),
    "orthoptiste": (MotiveSpec("Bilan orthoptique", 30),),
    "osteopathe": (
        MotiveSpec("Séance d'ostéopathie", 45),
        MotiveSpec("Ostéopathie du nourrisson", 30),
    ),
    "podologue": (MotiveSpec("Soins de pédicurie", 30), MotiveSpec("Semelles orthopédiques", 30)),
    "dieteticien": (MotiveSpec("Bilan nutritionnel", 45),),
    "gastro-enterologue": (MotiveSpec("Consultation avant coloscopie", 30, VITALE),),
    "endocrinologue": (MotiveSpec("Suivi du diabète", 20, "Apportez votre carnet de glycémie."),),
    "rhumatologue": (MotiveSpec("Infiltration", 20, new_patients=False),),
    "pneumologue": (MotiveSpec("Exploration fonctionnelle respiratoire", 30),),
    "neurologue": (MotiveSpec("Électroencéphalogramme (EEG)", 45, "Venez les cheveux propres."),),
    "urologue": (MotiveSpec("Bilan urologique", 30),),
    "allergologue": (
        MotiveSpec(
            "Tests allergologiques", 45, "Arrêtez vos antihistaminiques 5 jours avant le test."
        ),
    ),
    "chirurgien-orthopediste": (MotiveSpec("Consultation pré-opératoire", 30, VITALE),),
    "stomatologue": (MotiveSpec("Extraction de dents de sagesse", 45, new_patients=False),),
    "angiologue": (MotiveSpec("Écho-doppler veineux", 30),),
    "nephrologue": (MotiveSpec("Suivi de l'insuffisance rénale", 30, new_patients=False),),
    "geriatre": (MotiveSpec("Bilan gériatrique", 60, "Venez accompagné d'un proche si possible."),),
}
VIDEO_INSTRUCTIONS = (
    "Vous recevrez un lien de connexion par e-mail. Vérifiez votre caméra et votre micro avant "
    "le rendez-vous."
)
VACCINE_INSTRUCTIONS = "Munissez-vous de votre carte Vitale et de votre carnet de vaccination."
COLOURS = ("#2e6fd8", "#1b998b", "#e07a5f", "#8d5fd3", "#f2a541", "#d1495b", "#3d5a80")

# A consultation's usual fee in euros (sector 1, or the going rate outside the convention).
FEES = {
    "medecin-generaliste": 30, "chirurgien-dentiste": 23, "kinesitherapeute": 17,
    "infirmier": 20, "sage-femme": 25, "pediatre": 35, "gynecologue": 35, "ophtalmologue": 35,
    "dermatologue": 35, "psychiatre": 55, "cardiologue": 52, "orl": 35, "radiologue": 45,
    "psychologue": 60, "orthophoniste": 30, "orthoptiste": 25, "osteopathe": 60,
    "podologue": 35, "dieteticien": 45, "geriatre": 35,
}  # fmt: skip


def motive_price(practitioner: PractitionerPlan | None, motive: MotivePlan) -> Decimal | None:
    """What a motive costs, from the specialty's usual fee and the practitioner's sector (no
    random draw: the rest of the dataset stays as it was). Resources (vaccination, screening)
    are free of charge for the patient here: no price is shown."""
    if practitioner is None:
        return None
    base = FEES.get(practitioner.specialty, 50)
    factor = {"1": 1, "2": 1.6, "3": 2}.get(practitioner.sector, 1)
    if motive.duration >= 45:
        factor *= 1.5
    price = base if factor == 1 else round(base * factor / 5) * 5  # fees over the convention's
    return Decimal(price).quantize(Decimal("1.00"))


def plan_motive(label: str, duration: int, rng: random.Random, **overrides) -> MotivePlan:
    values = {
        "label": label,
        "duration": duration,
        "mode": Mode.IN_PERSON,
        "open_to_new_patients": True,
        "online": True,
        "instructions": "",
        "min_notice_minutes": rng.choice((60, 60, 60, 120, 240, 1440)),
        "max_advance_days": rng.choice((30, 60, 90, 90, 90, 180)),
        "cancellation_deadline_hours": rng.choice((4, 4, 12, 24, 48)),
        "colour": rng.choice(COLOURS),
        "weight": 1.0,
    }
    values.update(overrides)
    return MotivePlan(**values)


def person_motives(
    rng: random.Random, practitioner: PractitionerPlan
) -> tuple[list[MotivePlan], list[bool]]:
    """The motives of a practitioner's agenda, and for each whether it is mornings-only."""
    specialty = practitioner.specialty
    first = plan_motive(
        "Première consultation",
        30,
        rng,
        open_to_new_patients=practitioner.accepts_new_patients,
        instructions=VITALE if rng.random() < 0.6 else "",
        weight=2.0,
    )
    follow_up = plan_motive(
        "Consultation de suivi",
        15 if specialty == "medecin-generaliste" or rng.random() < 0.5 else 20,
        rng,
        open_to_new_patients=False,
        weight=5.0,
    )
    motives, mornings = [first, follow_up], [False, False]
    if practitioner.video_enabled:
        motives.append(
            plan_motive(
                "Téléconsultation de suivi",
                15,
                rng,
                mode=Mode.VIDEO,
                open_to_new_patients=False,
                instructions=VIDEO_INSTRUCTIONS,
                weight=1.5,
            )
        )
        mornings.append(False)
    choices = EXTRA_MOTIVES.get(specialty, ())
    for spec in rng.sample(choices, min(len(choices), rng.randint(1, 2))):
        motives.append(
            plan_motive(
                spec.label,
                spec.duration,
                rng,
                open_to_new_patients=spec.new_patients and practitioner.accepts_new_patients,
                online=rng.random() < 0.9,
                instructions=spec.instructions,
                weight=1.5,
            )
        )
        mornings.append(spec.mornings_only or rng.random() < 0.2)
    return motives, mornings


def insert_motives(
    batch: list[tuple[int, AgendaContent]], ids: Ids, plan: DirectoryPlan, counts: dict[str, int]
) -> dict[int, list[int]]:
    """Write the batch's motives, priced; their ids by agenda index, in each agenda's order."""
    motives: list[Motive] = []
    for index, content in batch:
        agenda_id = ids.agendas[index]
        agenda = plan.agendas[index]
        practitioner = (
            None if agenda.practitioner is None else plan.practitioners[agenda.practitioner]
        )
        motives.extend(
            Motive(
                agenda_id=agenda_id,
                label=m.label,
                duration_minutes=m.duration,
                mode=m.mode,
                open_to_new_patients=m.open_to_new_patients,
                online=m.online,
                instructions=m.instructions,
                min_notice_minutes=m.min_notice_minutes,
                max_advance_days=m.max_advance_days,
                cancellation_deadline_hours=m.cancellation_deadline_hours,
                colour=m.colour,
                price=motive_price(practitioner, m),
                position=position,
            )
            for position, m in enumerate(content.motives)
        )
    Motive.objects.bulk_create(motives, batch_size=ROWS_PER_INSERT)
    motive_ids: dict[int, list[int]] = {}
    cursor = 0
    for index, content in batch:
        motive_ids[index] = [m.pk for m in motives[cursor : cursor + len(content.motives)]]
        cursor += len(content.motives)
    counts["motives"] = counts.get("motives", 0) + len(motives)
    return motive_ids
