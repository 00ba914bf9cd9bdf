"""The reference list of specialties and professions, with French and English labels.

``weight`` is the rough share of practitioners of that specialty among those who take
appointments online in France (general practitioners first); the demo data draws from it.
"""

from typing import NamedTuple


class SpecialtyRef(NamedTuple):
    code: str
    label_fr: str
    label_en: str
    weight: int
    is_resource: bool = False  # a centre or line rather than a person


SPECIALTIES: tuple[SpecialtyRef, ...] = (
    SpecialtyRef("medecin-generaliste", "Médecin généraliste", "General practitioner", 300),
    SpecialtyRef("chirurgien-dentiste", "Chirurgien-dentiste", "Dentist", 110),
    SpecialtyRef("kinesitherapeute", "Masseur-kinésithérapeute", "Physiotherapist", 120),
    SpecialtyRef("infirmier", "Infirmier", "Nurse", 80),
    SpecialtyRef("sage-femme", "Sage-femme", "Midwife", 40),
    SpecialtyRef("pediatre", "Pédiatre", "Paediatrician", 30),
    SpecialtyRef("gynecologue", "Gynécologue", "Gynaecologist", 30),
    SpecialtyRef("ophtalmologue", "Ophtalmologue", "Ophthalmologist", 25),
    SpecialtyRef("dermatologue", "Dermatologue", "Dermatologist", 20),
    SpecialtyRef("psychiatre", "Psychiatre", "Psychiatrist", 20),
    SpecialtyRef("cardiologue", "Cardiologue", "Cardiologist", 18),
    SpecialtyRef("orl", "ORL (oto-rhino-laryngologiste)", "ENT specialist", 12),
    SpecialtyRef("radiologue", "Radiologue", "Radiologist", 15),
    SpecialtyRef("psychologue", "Psychologue", "Psychologist", 35),
    SpecialtyRef("orthophoniste", "Orthophoniste", "Speech therapist", 20),
    SpecialtyRef("orthoptiste", "Orthoptiste", "Orthoptist", 6),
    SpecialtyRef("osteopathe", "Ostéopathe", "Osteopath", 25),
    SpecialtyRef("podologue", "Pédicure-podologue", "Podiatrist", 12),
    SpecialtyRef("dieteticien", "Diététicien", "Dietitian", 8),
    SpecialtyRef("gastro-enterologue", "Gastro-entérologue", "Gastroenterologist", 8),
    SpecialtyRef("endocrinologue", "Endocrinologue", "Endocrinologist", 6),
    SpecialtyRef("rhumatologue", "Rhumatologue", "Rheumatologist", 6),
    SpecialtyRef("pneumologue", "Pneumologue", "Pulmonologist", 5),
    SpecialtyRef("neurologue", "Neurologue", "Neurologist", 5),
    SpecialtyRef("urologue", "Urologue", "Urologist", 4),
    SpecialtyRef("allergologue", "Allergologue", "Allergist", 4),
    SpecialtyRef("chirurgien-orthopediste", "Chirurgien orthopédiste", "Orthopaedic surgeon", 6),
    SpecialtyRef("stomatologue", "Stomatologue", "Stomatologist", 3),
    SpecialtyRef("angiologue", "Angiologue", "Angiologist", 3),
    SpecialtyRef("nephrologue", "Néphrologue", "Nephrologist", 2),
    SpecialtyRef("geriatre", "Gériatre", "Geriatrician", 2),
    SpecialtyRef("centre-de-vaccination", "Centre de vaccination", "Vaccination centre", 4, True),
    SpecialtyRef("centre-de-depistage", "Centre de dépistage", "Screening centre", 4, True),
    SpecialtyRef("laboratoire", "Laboratoire d'analyses médicales", "Medical laboratory", 3, True),
)
