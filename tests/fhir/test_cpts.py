"""Openings kept for a CPTS: their slots reach the SAS tagged CPTS (TRE-R314), and the members of
the CPTS; never the public, a patient or another organisation's software. A regulator books one
through the regulation console; every patient's door refuses it."""

import pytest
from django.contrib.auth import get_user_model
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from consulto.api.models import ApiToken
from consulto.core.errors import DomainError
from consulto.directory.models import Membership, Organisation
from consulto.fhir.refs import SLOT_TYPE_SYSTEM, SlotId
from consulto.referral import services as regulation
from consulto.scheduling import booking, visibility
from consulto.scheduling.models import Appointment, Referral
from tests.conftest import PARIS, at
from tests.referral.conftest import call

from .conftest import FhirClient, token_for
from .test_sas_search import entries, kinds, sas_client, sas_params, saturday_openings

pytestmark = pytest.mark.django_db

HOLD = "/fhir/r4/Appointment/$hold"


@pytest.fixture
def saturday(world):
    """Dr Martin's Saturday: 9-10 kept for the CPTS, 10-11 for professionals."""
    return saturday_openings(world, {9: "cpts", 10: "pro"})


def hours(bundle: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for slot in entries(bundle, "Slot", "match"):
        found.setdefault(slot["start"][11:13], set()).update(kinds(slot))
    return found


def test_the_sas_is_shown_a_cpts_slot_tagged_cpts(world, partners, saturday):
    answer = sas_client(partners).get("/fhir/r4/Slot", sas_params(saturday, world.gp.rpps))
    assert answer.status_code == 200
    bundle = answer.json()
    Bundle.model_validate(bundle)
    assert hours(bundle) == {"09": {"CPTS"}, "10": {"PRO"}}
    nine = next(s for s in entries(bundle, "Slot", "match") if s["start"][11:13] == "09")
    assert nine["meta"]["security"] == [
        {"system": SLOT_TYPE_SYSTEM, "code": "CPTS", "display": "Créneau réservé à la CPTS"}
    ]
    # Read back by its id too.
    assert sas_client(partners).get(f"/fhir/r4/Slot/{nine['id']}").status_code == 200


def test_the_public_a_patient_and_another_organisation_never_see_it(
    world, partners, saturday, user, patient
):
    params = sas_params(saturday, world.gp.rpps)
    slot = SlotId.of(world.agenda.pk, world.first.pk, at(saturday, 9))
    # The public does not search slots through the facade at all.
    assert FhirClient().get("/fhir/r4/Slot", params).status_code == 401
    _token, raw = ApiToken.issue(user)
    person = FhirClient(raw)
    session = FhirClient()
    session.client.force_login(user)
    other = FhirClient(token_for(partners.other))
    for client, seen in ((person, {}), (session, {}), (other, {"10": {"PRO"}})):
        answer = client.get("/fhir/r4/Slot", params)
        assert answer.status_code == 200
        assert hours(answer.json()) == seen
        assert client.get(f"/fhir/r4/Slot/{slot}").status_code == 404
    own = FhirClient(token_for(partners.own)).get("/fhir/r4/Slot", params).json()
    assert hours(own) == {"09": {"CPTS"}, "10": {"PRO"}}


def test_a_regulator_books_it_through_the_regulation_console(world, partners, saturday):
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)).json()
    nine = next(s for s in entries(bundle, "Slot", "match") if kinds(s) == {"CPTS"})
    slot = SlotId.parse(nine["id"])
    samu = Organisation.objects.create(
        name="SAMU 75", kind=Organisation.Kind.REGULATION_CENTRE, territory="75"
    )
    regulator = get_user_model().objects.create_user(
        email="regulateur@samu75.test", password="x" * 12
    )
    Membership.objects.create(user=regulator, organisation=samu, role=Membership.Role.REGULATOR)
    case = regulation.open_case(centre=samu, by=regulator, call=call())
    booked = regulation.book_for_case(
        case=case,
        agenda_id=slot.agenda_id,
        motive_id=slot.motive_id,
        start=slot.start.astimezone(PARIS),
        by=regulator,
    )
    assert booked.start == slot.start and booked.status == Appointment.Status.BOOKED
    assert booked.channel == Appointment.Channel.REGULATOR
    assert Referral.objects.get(appointment=booked).kind == Referral.Kind.REGULATION
    # Taken: the SAS is no longer shown it.
    again = sas_client(partners).get("/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)).json()
    assert nine["id"] not in {s["id"] for s in entries(again, "Slot", "match")}


def test_no_patient_door_books_it(world, partners, saturday, user, patient):
    start = at(saturday, 9)
    for audience in (visibility.PUBLIC, visibility.KNOWN_PATIENT, visibility.PROFESSIONAL):
        with pytest.raises(DomainError) as refused:
            booking.book(
                agenda=world.agenda,
                motive=world.first,
                start=start,
                patient=patient,
                booked_by=user,
                audience=audience,
            )
        assert refused.value.code == "invalid_slot"
    # Through the facade: a person's $hold, and another organisation's software's.
    proposed = f"proposed-{SlotId.of(world.agenda.pk, world.first.pk, start)}"
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{proposed}"},
            }
        ],
    }
    _token, raw = ApiToken.issue(user)
    for client in (FhirClient(raw), FhirClient(token_for(partners.other))):
        answer = client.post(HOLD, body)
        assert 400 <= answer.status_code < 500, answer.content
        OperationOutcome.model_validate(answer.json())
    assert not Appointment.objects.filter(agenda=world.agenda, start=start).exists()
