"""The SAS slot search (INT_R01, INT_R04 for CPTS): the exact request of the national platform,
the kinds of slot it is shown, who may search, and what a hostile caller gets."""

from datetime import date, time, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.slot import Slot

from consulto.directory.models import Practitioner, Specialty
from consulto.fhir.refs import RPPS_SYSTEM, SLOT_TYPE_SYSTEM, SlotId, idnps
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening, PatientProfile
from tests.conftest import PARIS, at, next_weekday, valid_rpps

from .conftest import FhirClient, token_for

pytestmark = pytest.mark.django_db

IDENTIFIER = "schedule.actor:Practitioner.identifier"


@pytest.fixture
def saturday(world):
    """The GP's Saturday: 9-10 kept for regulation (SNP), 10-11 for professionals, 11-12 for
    known patients only."""
    return saturday_openings(world, {9: "snp", 10: "pro", 11: "known"})


def saturday_openings(world, hours_seen_by: dict[int, str]):
    """The next Saturday, with an opening of one hour (of the world's first motive) at each of
    ``hours_seen_by``, kept for its visibility."""
    day = next_weekday(5)
    for start, seen_by in hours_seen_by.items():
        end = start + 1
        opening = Opening.objects.create(
            agenda=world.agenda,
            site=world.site,
            weekday=5,
            start_time=time(start),
            end_time=time(end),
            valid_from=day - timedelta(days=30),
            visibility=seen_by,
        )
        opening.motives.set([world.first])
    return day


def sas_params(day, *identifiers, until=None, cpts=False):
    until = until or day
    params = {
        "_include": ["Slot:schedule"],
        "_include:iterate": ["Schedule:actor"],
        "start": [f"ge{day.isoformat()}T00:00:00+01:00", f"le{until.isoformat()}T23:59:59+01:00"],
        IDENTIFIER: ",".join(f"{RPPS_SYSTEM}|{idnps(rpps)}" for rpps in identifiers),
        "status": "free",
        "_count": "1000",
    }
    if cpts:
        params["_include"].append("Slot:service-type-reference")
        params["_include:iterate"].append("HealthcareService:organization")
    return params


def sas_client(partners):
    return FhirClient(token_for(partners.sas))


def entries(bundle: dict, resource_type: str, mode: str | None = None) -> list[dict]:
    return [
        e["resource"]
        for e in bundle.get("entry", [])
        if e["resource"]["resourceType"] == resource_type
        and (mode is None or e["search"]["mode"] == mode)
    ]


def kinds(slot: dict) -> set[str]:
    return {c["code"] for c in slot.get("meta", {}).get("security", [])}


def test_the_exact_sas_request_answers_slots_schedules_and_actors(world, partners):
    day = next_weekday(2)  # a Wednesday: 9-12 and 14-18 public
    answer = sas_client(partners).get("/fhir/r4/Slot", sas_params(day, world.gp.rpps))
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("application/fhir+json")
    bundle = answer.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    slots = entries(bundle, "Slot", "match")
    assert bundle["total"] == len(slots) > 0
    for slot in slots:
        Slot.model_validate(slot)
        assert slot["status"] == "free"
        assert kinds(slot) == {"PUBLIC"}
        assert slot["meta"]["security"][0]["system"] == SLOT_TYPE_SYSTEM
        assert slot["schedule"]["reference"] == f"Schedule/{world.agenda.pk}"
        assert slot["serviceType"][0]["coding"][0]["code"] in ("AMB", "VR")
        assert "/regulation/" in slot["comment"]
    first = [s for s in slots if s["appointmentType"]["text"] == "Première consultation"]
    assert first[0]["start"] == at(day, 9).isoformat()
    assert first[0]["end"] == at(day, 9, 30).isoformat()
    assert first[0]["id"] == str(SlotId.of(world.agenda.pk, world.first.pk, at(day, 9)))
    # 9-12 and 14-18: 14 first consultations of 30 min, and 28 video ones of 15 min: one
    # motive of each consultation type (the follow-up, in person too, comes after the first).
    assert len(first) == 14 and len(slots) == 14 + 28
    schedule = entries(bundle, "Schedule", "include")
    assert [s["id"] for s in schedule] == [str(world.agenda.pk)]
    assert {a["reference"] for a in schedule[0]["actor"]} == {
        f"Practitioner/{world.gp.pk}",
        f"PractitionerRole/{world.agenda.pk}",
    }
    practitioner = entries(bundle, "Practitioner", "include")[0]
    assert practitioner["identifier"][0] == {
        "type": practitioner["identifier"][0]["type"],
        "system": RPPS_SYSTEM,
        "value": "8" + world.gp.rpps,
    }
    role = entries(bundle, "PractitionerRole", "include")[0]
    assert role["contained"][0]["resourceType"] == "Location"
    assert role["contained"][0]["address"]["postalCode"] == "75019"
    assert role["location"] == [{"reference": "#location"}]
    for entry in bundle["entry"]:
        assert entry["fullUrl"].endswith(
            f"/fhir/r4/{entry['resource']['resourceType']}/{entry['resource']['id']}"
        )


def test_the_cpts_variant_includes_the_services_and_their_organisations(world, partners):
    day = next_weekday(2)
    params = sas_params(day, world.gp.rpps, cpts=True)
    bundle = sas_client(partners).get("/fhir/r4/Slot", params).json()
    Bundle.model_validate(bundle)
    services = entries(bundle, "HealthcareService", "include")
    assert {s["name"] for s in services} == {"Première consultation", "Téléconsultation"}
    video = next(s for s in services if s["name"] == "Téléconsultation")
    assert video["type"][0]["coding"][0]["code"] == "VR"
    assert [o["name"] for o in entries(bundle, "Organization", "include")] == ["Cabinet des Lilas"]
    slot = entries(bundle, "Slot", "match")[0]
    reference = slot["serviceType"][0]["extension"][0]["valueReference"]["reference"]
    assert reference.startswith("HealthcareService/")


def test_nothing_found_is_a_bundle_with_total_zero(world, partners):
    unknown = valid_rpps(999)
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(next_weekday(2), unknown))
    assert bundle.status_code == 200
    assert bundle.json()["total"] == 0
    assert "entry" not in bundle.json()


def test_the_sas_sees_regulation_and_professional_slots_never_the_known_patients(
    world, partners, saturday
):
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)).json()
    slots = entries(bundle, "Slot", "match")
    by_hour = {}
    for slot in slots:
        by_hour.setdefault(slot["start"][11:13], set()).update(kinds(slot))
    assert by_hour == {"09": {"SNP"}, "10": {"PRO"}}
    assert not any(s["start"][11:13] == "11" for s in slots)
    # Nor read by its id: the known patients' slot is not the SAS's.
    known = SlotId.of(world.agenda.pk, world.first.pk, at(saturday, 11))
    assert sas_client(partners).get(f"/fhir/r4/Slot/{known}").status_code == 404
    assert FhirClient(token_for(partners.own)).get(f"/fhir/r4/Slot/{known}").status_code == 200


def test_overlapping_openings_give_a_slot_both_kinds(world, partners, saturday):
    opening = Opening.objects.create(
        agenda=world.agenda,
        site=world.site,
        weekday=5,
        start_time=time(9),
        end_time=time(10),
        valid_from=saturday - timedelta(days=7),
        visibility="public",
    )
    opening.motives.set([world.first])
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)).json()
    nine = [s for s in entries(bundle, "Slot", "match") if s["start"][11:13] == "09"]
    assert len(nine) == 2 and all(kinds(s) == {"PUBLIC", "SNP"} for s in nine)
    Bundle.model_validate(bundle)


def test_a_patient_sees_nothing_of_an_agenda_closed_to_online_booking(world, partners, user):
    session = FhirClient()
    session.client.force_login(user)
    params = sas_params(next_weekday(2), world.gp.rpps)
    assert session.get("/fhir/r4/Slot", params).json()["total"] > 0
    Agenda.objects.filter(pk=world.agenda.pk).update(online_booking=False)
    assert session.get("/fhir/r4/Slot", params).json()["total"] == 0
    assert sas_client(partners).get("/fhir/r4/Slot", params).json()["total"] == 42


def test_the_organisations_own_software_sees_every_opening_and_others_the_professionals(
    world, partners, saturday
):
    own = FhirClient(token_for(partners.own)).get(
        "/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)
    )
    hours = {s["start"][11:13] for s in entries(own.json(), "Slot", "match")}
    assert hours == {"09", "10", "11"}
    known = [s for s in entries(own.json(), "Slot", "match") if s["start"][11:13] == "11"]
    assert all("meta" not in s for s in known)  # no kind of slot of the SAS fits
    other = FhirClient(token_for(partners.other)).get(
        "/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)
    )
    slots = entries(other.json(), "Slot", "match")
    assert {s["start"][11:13] for s in slots} == {"10"}
    assert all(kinds(s) == {"PRO"} for s in slots)


def test_an_organisations_software_gets_every_motive_the_sas_one_of_each_type(world, partners):
    params = sas_params(next_weekday(2), world.gp.rpps)
    own = FhirClient(token_for(partners.own)).get("/fhir/r4/Slot", params).json()
    Bundle.model_validate(own)
    assert own["total"] == 14 + 28 + 28
    assert {s["appointmentType"]["text"] for s in entries(own, "Slot", "match")} == {
        "Première consultation",
        "Consultation de suivi",
        "Téléconsultation",
    }
    Motive.objects.filter(pk=world.first.pk).update(open_to_new_patients=False)
    sas = sas_client(partners).get("/fhir/r4/Slot", params).json()
    assert {s["appointmentType"]["text"] for s in entries(sas, "Slot", "match")} == {
        "Consultation de suivi",
        "Téléconsultation",
    }


def test_a_taken_slot_is_not_free_and_its_organisation_sees_it_busy(world, partners, patient):
    day = next_weekday(2)
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(day, 9),
        patient=patient,
        booked_by=patient.owner,
    )
    params = sas_params(day, world.gp.rpps)
    slots = entries(sas_client(partners).get("/fhir/r4/Slot", params).json(), "Slot")
    assert at(day, 9).isoformat() not in {s["start"] for s in slots}
    params["status"] = "busy"
    assert sas_client(partners).get("/fhir/r4/Slot", params).status_code == 403
    own = FhirClient(token_for(partners.own)).get("/fhir/r4/Slot", params)
    busy = entries(own.json(), "Slot", "match")
    assert {(s["start"], s["appointmentType"]["text"]) for s in busy} >= {
        (at(day, 9).isoformat(), "Première consultation")
    }
    assert all(s["status"] == "busy" and "comment" not in s for s in busy)
    Bundle.model_validate(own.json())


def test_a_slot_is_read_back_by_its_id_until_it_is_taken(world, partners, patient):
    day = next_weekday(2)
    slot_id = SlotId.of(world.agenda.pk, world.first.pk, at(day, 9, 30))
    client = sas_client(partners)
    answer = client.get(f"/fhir/r4/Slot/{slot_id}")
    assert answer.status_code == 200, answer.content
    Slot.model_validate(answer.json())
    assert answer.json()["status"] == "free"
    booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=at(day, 9, 30),
        patient=patient,
        booked_by=patient.owner,
    )
    assert client.get(f"/fhir/r4/Slot/{slot_id}").status_code == 404
    nine = int(at(day, 9).timestamp())
    for wrong in (
        "1-2-3",
        "abc",
        "9" * 30,
        f"{world.agenda.pk}-{world.flu.pk}-{nine}",  # another agenda's motive
        f"{world.agenda.pk}-{world.first.pk}-{nine + 420}",  # 9:07, off the grid
        f"{world.agenda.pk}-{world.first.pk}-{nine - 86400 * 30}",  # past
    ):
        answer = client.get(f"/fhir/r4/Slot/{wrong}")
        assert answer.status_code == 404, wrong
        OperationOutcome.model_validate(answer.json())


def test_a_practitioner_of_several_agendas_has_a_schedule_for_each(world, partners):
    other_site_agenda = Agenda.objects.create(
        organisation=partners.other_org, practitioner=world.gp, site=world.site, name="Parc"
    )
    motive = Motive.objects.create(agenda=other_site_agenda, label="Urgence", duration_minutes=20)
    day = next_weekday(3)
    opening = Opening.objects.create(
        agenda=other_site_agenda,
        site=world.site,
        weekday=3,
        start_time=time(19),
        end_time=time(20),
        valid_from=day - timedelta(days=7),
        visibility="snp",
    )
    opening.motives.set([motive])
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(day, world.gp.rpps)).json()
    Bundle.model_validate(bundle)
    schedules = {s["id"] for s in entries(bundle, "Schedule", "include")}
    assert schedules == {str(world.agenda.pk), str(other_site_agenda.pk)}
    assert len(entries(bundle, "Practitioner", "include")) == 1
    assert len(entries(bundle, "PractitionerRole", "include")) == 2
    snp = [s for s in entries(bundle, "Slot", "match") if kinds(s) == {"SNP"}]
    assert [s["start"] for s in snp] == [at(day, 19).isoformat(), at(day, 19, 20).isoformat(),
                                         at(day, 19, 40).isoformat()]  # fmt: skip


def test_an_unpublished_practitioner_or_inactive_agenda_is_not_searched(world, partners):
    Practitioner.objects.filter(pk=world.gp.pk).update(is_published=False)
    params = sas_params(next_weekday(2), world.gp.rpps)
    assert sas_client(partners).get("/fhir/r4/Slot", params).json()["total"] == 0
    Practitioner.objects.filter(pk=world.gp.pk).update(is_published=True)
    Agenda.objects.filter(pk=world.agenda.pk).update(is_active=False)
    assert sas_client(partners).get("/fhir/r4/Slot", params).json()["total"] == 0


def test_paging_with_count_gives_next_and_previous_links(world, partners):
    params = sas_params(next_weekday(2), world.gp.rpps)
    params["_count"] = "10"
    client = sas_client(partners)
    bundle = client.get("/fhir/r4/Slot", params).json()
    assert bundle["total"] == 42 and len(entries(bundle, "Slot", "match")) == 10
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert "_offset=10" in links["next"] and "previous" not in links
    params["_offset"] = "40"
    bundle = client.get("/fhir/r4/Slot", params).json()
    links = {link["relation"]: link["url"] for link in bundle["link"]}
    assert len(entries(bundle, "Slot", "match")) == 2
    assert "next" not in links and "_offset=30" in links["previous"]


# Who may search -------------------------------------------------------------------------------


def test_who_may_search_slots(world, partners, user, client):
    params = sas_params(next_weekday(2), world.gp.rpps)
    anonymous = FhirClient().get("/fhir/r4/Slot", params)
    assert anonymous.status_code == 401
    OperationOutcome.model_validate(anonymous.json())
    # A partner whose token does not carry system/Slot.read.
    narrow = FhirClient(token_for(partners.other, "system/Appointment.read"))
    refused = narrow.get("/fhir/r4/Slot", params)
    assert refused.status_code == 403
    OperationOutcome.model_validate(refused.json())
    # A patient's browser session reads what the public sees.
    Opening.objects.filter(agenda=world.agenda, weekday=2, start_time=time(9)).update(
        visibility="snp"
    )
    session = FhirClient()
    session.client.force_login(user)
    slots = entries(session.get("/fhir/r4/Slot", params).json(), "Slot", "match")
    assert slots and all(kinds(s) == {"PUBLIC"} for s in slots)
    assert all(s["start"][11:13] >= "14" for s in slots)
    assert session.get("/fhir/r4/Slot", {**params, "status": "busy"}).status_code == 403
    # Another organisation's software: the professionals' view, not the SNP.
    other = FhirClient(token_for(partners.other)).get("/fhir/r4/Slot", params)
    assert all(s["start"][11:13] >= "14" for s in entries(other.json(), "Slot", "match"))


# Hostile inputs -------------------------------------------------------------------------------


def _refused(partners, params, status=400):
    answer = sas_client(partners).get("/fhir/r4/Slot", params)
    assert answer.status_code == status, (params, answer.content)
    OperationOutcome.model_validate(answer.json())
    return answer.json()["issue"][0]


@pytest.mark.parametrize(
    "start",
    [
        ["eq2026-12-16", "le2026-12-17"],
        ["xx2026-12-16", "le2026-12-17"],
        ["ge2026-12-16"],
        ["le2026-12-17"],
        ["ge99999-12-16", "le2026-12-17"],
        ["ge2026-13-16", "le2026-12-17"],
        ["ge2026-02-30", "le2026-12-17"],
        ["ge0000-01-01", "le2026-12-17"],
        ["ge2026-12-16T25:00:00+01:00", "le2026-12-17"],
        ["ge2026-12-16T08:00:00+15:00", "le2026-12-17"],
        ["ge2026-12-01", "le2027-01-05"],
        ["ge" + "9" * 400, "le2026-12-17"],
        [],
    ],
)
def test_bad_start_windows_are_400(world, partners, start):
    params = sas_params(next_weekday(2), world.gp.rpps)
    params["start"] = start
    assert _refused(partners, params)["code"] == "invalid"


def test_twenty_five_practitioners_are_searched_and_twenty_six_refused(world, partners):
    numbers = [world.gp.rpps] + [valid_rpps(100 + n) for n in range(24)]
    params = sas_params(next_weekday(2), *numbers)
    answer = sas_client(partners).get("/fhir/r4/Slot", params)
    assert answer.status_code == 200 and answer.json()["total"] == 42
    params = sas_params(next_weekday(2), *numbers, valid_rpps(200))
    assert "25" in _refused(partners, params)["diagnostics"]


@pytest.mark.parametrize(
    "identifier",
    [
        "",
        ",,,",
        f"{RPPS_SYSTEM}|",
        f"{RPPS_SYSTEM}|{valid_rpps(1)}",  # the RPPS without its "8"
        f"{RPPS_SYSTEM}|0{valid_rpps(1)}",  # an ADELI prefix
        f"urn:oid:1.2.250.1.71.4.2.2|8{valid_rpps(1)}",  # another system
        f"{RPPS_SYSTEM}|8{valid_rpps(1)}x",
        f"{RPPS_SYSTEM}|8١٠٠٠٠٠٠٠٠١٣",  # digits of another script
        "|" * 50,
    ],
)
def test_bad_identifiers_are_400(world, partners, identifier):
    params = sas_params(next_weekday(2), world.gp.rpps)
    params[IDENTIFIER] = identifier
    _refused(partners, params)


def test_other_hostile_parameters(world, partners):
    base = sas_params(next_weekday(2), world.gp.rpps)
    for change in (
        {"status": "booked"},
        {"status": ""},
        {"_count": "-1"},
        {"_count": "1e3"},
        {"_offset": "99999999999"},
        {"_include": ["Slot:nothing"]},
        {"_include:iterate": ["Patient:link"]},
        {"color": "blue"},
    ):
        _refused(partners, {**base, **change})
    params = dict(base)
    del params[IDENTIFIER]
    _refused(partners, params)
    _refused(partners, {key: value for key, value in base.items() if key != "status"})
    nul = sas_client(partners).get("/fhir/r4/Slot", {**base, "status": "fr\x00ee"})
    assert nul.status_code == 400
    OperationOutcome.model_validate(nul.json())


def test_the_dst_gap_day_in_paris_gives_real_instants(world, partners):
    """The next spring-forward day in Paris (2027-03-28 at the suite's usual clock), when 02:00
    becomes 03:00: a bound in the gap is read with the offset before it (02:30 is 01:30 UTC,
    03:30 summer time), and slots keep their wall-clock times (an opening on Sundays
    01:00-04:00)."""
    march_31 = date(date.today().year + 1, 3, 31)
    gap = march_31 - timedelta(days=(march_31.weekday() - 6) % 7)  # March's last Sunday
    opening = Opening.objects.create(
        agenda=world.agenda,
        site=world.site,
        weekday=6,
        start_time=time(1),
        end_time=time(4),
        valid_from=gap - timedelta(days=7),
        valid_until=gap,
    )
    opening.motives.set([world.first])
    Motive.objects.filter(pk=world.first.pk).update(max_advance_days=500)
    params = sas_params(gap, world.gp.rpps)
    params["start"] = [f"ge{gap}T02:30:00", f"le{gap}T23:00:00"]
    answer = sas_client(partners).get("/fhir/r4/Slot", params)
    assert answer.status_code == 200, answer.content
    starts = [
        s["start"]
        for s in entries(answer.json(), "Slot", "match")
        if s["appointmentType"]["text"] == "Première consultation"
    ]
    assert starts == [f"{gap}T03:30:00+02:00"]
    params["start"] = [f"ge{gap}", f"le{gap}"]
    every = sas_client(partners).get("/fhir/r4/Slot", params).json()
    first = [s["start"] for s in entries(every, "Slot") if s["appointmentType"]["text"] ==
             "Première consultation"]  # fmt: skip
    assert first == [
        f"{gap}T01:00:00+01:00",
        f"{gap}T01:30:00+01:00",
        f"{gap}T03:00:00+02:00",
        f"{gap}T03:30:00+02:00",
    ]


def test_a_slot_is_bookable_by_a_regulator_as_it_was_shown(world, partners, saturday, patient):
    """What the SAS is shown is what the booking door lets a regulator take."""
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(saturday, world.gp.rpps)).json()
    snp = next(s for s in entries(bundle, "Slot", "match") if kinds(s) == {"SNP"})
    slot = SlotId.parse(snp["id"])
    from consulto.scheduling import visibility

    booked = booking.book(
        agenda=world.agenda,
        motive=world.first,
        start=slot.start.astimezone(PARIS),
        patient=PatientProfile.objects.create(
            first_name="Paul", last_name="Roy", birth_date=patient.birth_date
        ),
        booked_by=patient.owner,
        channel=Appointment.Channel.REGULATOR,
        audience=visibility.REGULATOR,
    )
    assert booked.start == slot.start


def test_a_gp_has_the_tre_r38_specialty_and_others_their_label(world, partners):
    params = sas_params(next_weekday(2), world.gp.rpps)
    bundle = sas_client(partners).get("/fhir/r4/Slot", params).json()
    slot = entries(bundle, "Slot", "match")[0]
    assert slot["specialty"][0]["coding"][0]["code"] == "SM54"
    dentist = Practitioner.objects.create(
        first_name="Léa",
        last_name="Roux",
        rpps=valid_rpps(77),
        specialty=Specialty.objects.get(code="chirurgien-dentiste"),
    )
    agenda = Agenda.objects.create(
        organisation=world.organisation, practitioner=dentist, site=world.site, name="Dr Roux"
    )
    motive = Motive.objects.create(agenda=agenda, label="Détartrage", duration_minutes=30)
    day = next_weekday(2)
    opening = Opening.objects.create(
        agenda=agenda, site=world.site, weekday=2, start_time=time(9), end_time=time(10),
        valid_from=day - timedelta(days=7),
    )  # fmt: skip
    opening.motives.set([motive])
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(day, dentist.rpps)).json()
    slot = entries(bundle, "Slot", "match")[0]
    assert slot["specialty"] == [{"text": "Chirurgien-dentiste"}]


def test_a_real_fhir_client_runs_the_sas_search_against_the_server(world, partners, live_server):
    """fhirpy (a FHIR client library) against the running server, as the SAS platform would."""
    from fhirpy import SyncFHIRClient

    day = next_weekday(2)
    numbers = [world.gp.rpps, valid_rpps(999)]  # the second is nobody's
    client = SyncFHIRClient(
        f"{live_server.url}/fhir/r4", authorization=f"Bearer {token_for(partners.sas)}"
    )
    search = (
        client.resources("Slot")
        .search(**{IDENTIFIER: ",".join(f"{RPPS_SYSTEM}|{idnps(n)}" for n in numbers)})
        .search(start__ge=f"{day.isoformat()}T00:00:00+01:00")
        .search(start__le=f"{day.isoformat()}T23:59:59+01:00")
        .search(status="free")
        .include("Slot", "schedule")
        .include("Schedule", "actor", iterate=True)
        .limit(1000)
    )
    bundle = search.fetch_raw()
    Bundle.model_validate(dict(bundle))
    assert bundle.total == 42
    kinds_found = {entry.resource.resourceType for entry in bundle.entry}
    assert kinds_found == {"Slot", "Schedule", "Practitioner", "PractitionerRole"}
    slots = search.fetch()
    assert len(slots) == 42 and all(s.status == "free" for s in slots)
    first = client.reference("Slot", slots[0].id).to_resource()
    assert first.start == slots[0].start


def test_an_organisations_software_searches_its_schedules_by_id(world, partners):
    day = next_weekday(2)
    params = {
        "schedule": f"Schedule/{world.agenda.pk},{world.line.pk}",
        "start": [f"ge{day.isoformat()}", f"le{day.isoformat()}"],
        "status": "free,busy",
        "_include": "Slot:service-type-reference",
        "_include:iterate": "HealthcareService:organization",
    }
    bundle = FhirClient(token_for(partners.own)).get("/fhir/r4/Slot", params).json()
    Bundle.model_validate(bundle)
    schedules = {s["schedule"]["reference"] for s in entries(bundle, "Slot", "match")}
    assert schedules == {f"Schedule/{world.agenda.pk}", f"Schedule/{world.line.pk}"}
    line = [s for s in entries(bundle, "Slot", "match") if s["schedule"]["reference"].endswith(
        f"/{world.line.pk}")]  # fmt: skip
    assert line[0]["serviceType"][0]["coding"][0]["code"] == "AMB" and "specialty" not in line[0]
    assert {o["name"] for o in entries(bundle, "Organization", "include")} == {
        "Cabinet des Lilas",
        "Centre de vaccination",
    }
    too_many = {**params, "schedule": ",".join(str(n) for n in range(1, 27))}
    assert FhirClient(token_for(partners.own)).get("/fhir/r4/Slot", too_many).status_code == 400


@pytest.mark.parametrize(
    "layout",
    [
        [(8, 10, "snp"), (9, 11, "public"), (10, 12, "pro"), (11, 13, "known")],
        [(8, 9, "known"), (8, 12, "snp"), (14, 15, "pro"), (14, 16, "public")],
        [(7, 8, "pro"), (8, 9, "pro"), (9, 10, "snp")],
        [(8, 10, "cpts"), (9, 11, "snp"), (10, 12, "known"), (11, 12, "cpts")],
    ],
)
def test_the_sas_sees_exactly_what_the_regulation_console_offers(world, partners, layout):
    """Slots merged from each visibility are the slots of the openings a regulator sees, and
    only those (the regulation console reads them for the whole audience at once)."""
    from consulto.scheduling import visibility
    from consulto.scheduling.cache import slots_for_many

    day = next_weekday(6)  # a Sunday: no other opening
    for start, end, seen_by in layout:
        opening = Opening.objects.create(
            agenda=world.agenda,
            site=world.site,
            weekday=6,
            start_time=time(start),
            end_time=time(end),
            valid_from=day - timedelta(days=7),
            visibility=seen_by,
        )
        opening.motives.set([world.first])
    bundle = sas_client(partners).get("/fhir/r4/Slot", sas_params(day, world.gp.rpps)).json()
    shown = {
        s["start"]: kinds(s)
        for s in entries(bundle, "Slot", "match")
        if s["appointmentType"]["text"] == "Première consultation"
    }
    agenda = Agenda.objects.select_related("site").get(pk=world.agenda.pk)
    console = slots_for_many(
        [(agenda, world.first)], start=day, days=1, now=at(day, 0) - timedelta(days=3),
        audience=visibility.REGULATOR,
    )[agenda.pk]  # fmt: skip
    assert set(shown) == {slot.start.isoformat() for slot in console}
    for start, found in shown.items():
        hour = int(start[11:13]) + int(start[14:16]) / 60
        expected = {
            {"public": "PUBLIC", "pro": "PRO", "snp": "SNP", "cpts": "CPTS"}[seen_by]
            for t0, t1, seen_by in layout
            if seen_by != "known" and t0 <= hour and hour + 0.5 <= t1
        }
        assert found == expected, start


def test_the_capability_statement_declares_the_slot_search(world, partners):
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    statement = CapabilityStatement.model_validate(FhirClient().get("/fhir/r4/metadata").json())
    slot = next(r for r in statement.rest[0].resource if r.type == "Slot")
    assert {p.name for p in slot.searchParam} == {"start", "status", IDENTIFIER, "schedule"}
    assert set(slot.searchInclude) == {
        "Slot:schedule",
        "Slot:service-type-reference",
        "Schedule:actor",
        "HealthcareService:organization",
    }
