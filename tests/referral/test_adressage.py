"""Referring a patient to another practitioner (adressage): one transaction books the slot,
files the letter in the receiving organisation's file and leaves the referral; only slots open
to professionals may be taken; nothing is half-written when it fails."""

from datetime import time

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from consulto.core import crypto
from consulto.core.errors import InvalidInput
from consulto.core.models import AuditEvent
from consulto.directory.models import Membership
from consulto.notifications.models import Message
from consulto.practice import files
from consulto.practice.models import FileDocument, PatientFile
from consulto.referral import adressage
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Appointment, Motive, Opening, Referral
from consulto.scheduling.rules import InvalidSlot
from tests.conftest import at

from .adressage_world import PDF, REASON, practice, referral_world  # noqa: F401 (fixtures)


def _refer(w, start, **kwargs):
    values = {
        "user": w.gp_user,
        "file_id": w.file.pk,
        "agenda_id": w.cardio.pk,
        "motive_id": w.consult.pk,
        "start": start,
        "urgency": Referral.Urgency.WEEK,
        "reason": REASON,
        "letter": PDF,
        "letter_name": "courrier.pdf",
        "ip": "192.0.2.7",
    }
    values.update(kwargs)
    return adressage.refer(**values)


def _on_disk() -> set[str]:
    return {p.name for p in files.documents_dir().iterdir()}


def _nothing_written(w, disk_before):
    assert not Referral.objects.exists()
    assert not Appointment.objects.filter(agenda=w.cardio).exists()
    assert not FileDocument.objects.exists()
    assert not PatientFile.objects.filter(organisation=w.hospital).exists()
    assert not AuditEvent.objects.filter(target_type="referral").exists()
    assert _on_disk() == disk_before


def test_a_referral_books_the_slot_and_files_the_letter_in_the_receivers_file(referral_world):  # noqa: F811
    w = referral_world
    start = at(w.monday, 9, 30)
    referral = _refer(w, start)

    appointment = referral.appointment
    assert (appointment.agenda, appointment.start, appointment.patient) == (
        w.cardio,
        start,
        w.profile,
    )
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.channel == Appointment.Channel.PRACTITIONER
    assert referral.kind == Referral.Kind.PRACTITIONER
    assert referral.from_organisation == w.organisation
    assert referral.referrer_label == "Dr Claire Martin, Cabinet des Lilas"
    assert referral.referred_by == w.gp_user
    assert referral.urgency == Referral.Urgency.WEEK
    # The reason is encrypted at rest.
    stored = Referral.objects.values_list("reason", flat=True).get()
    assert "Souffle" not in stored and crypto.decrypt_text(stored) == REASON
    # The letter is a document of the hospital's file for this patient, encrypted on disk.
    document = FileDocument.objects.get(pk=referral.letter_document_id)
    assert document.file.organisation == w.hospital
    assert document.file.profile == w.profile
    on_disk = (files.documents_dir() / f"{document.storage_key}.bin").read_bytes()
    assert not on_disk.startswith(b"%PDF") and b"Courrier" not in on_disk
    assert files.document_content(document) == ("courrier.pdf", "application/pdf", PDF)
    # Audited in both organisations, the letter in the receiver's.
    events = set(AuditEvent.objects.values_list("action", "target_type", "organisation_id", "ip"))
    assert ("create", "referral", w.hospital.pk, "192.0.2.7") in events
    assert ("create", "referral", w.organisation.pk, "192.0.2.7") in events
    assert ("create", "document", w.hospital.pk, "192.0.2.7") in events
    # The patient is told as for any booking.
    assert Message.objects.filter(appointment=appointment, purpose="confirmation").exists()


def test_a_public_slot_may_be_referred_too(referral_world):  # noqa: F811
    w = referral_world
    referral = _refer(w, at(w.monday, 15), letter=None)
    assert referral.appointment.start == at(w.monday, 15)
    assert referral.letter_document_id is None


@pytest.mark.parametrize("hour", [8, 12], ids=["regulation-only", "known-patients-only"])
def test_a_slot_professionals_do_not_see_is_refused(referral_world, hour):  # noqa: F811
    w = referral_world
    disk_before = _on_disk()
    with pytest.raises(InvalidSlot):
        _refer(w, at(w.monday, hour))
    _nothing_written(w, disk_before)


def test_a_taken_slot_leaves_nothing_behind(referral_world):  # noqa: F811
    w = referral_world
    start = at(w.monday, 10)
    booking.book(
        agenda=w.cardio,
        motive=w.consult,
        start=start,
        patient=w.other_profile,
        booked_by=w.cardio_user,
        as_staff=True,
    )
    disk_before = _on_disk()
    with pytest.raises(booking.SlotTaken) as taken:
        _refer(w, start)
    assert taken.value.code == "slot_taken"
    assert not Referral.objects.exists()
    assert not FileDocument.objects.exists()
    assert not PatientFile.objects.filter(organisation=w.hospital, profile=w.profile).exists()
    assert Appointment.objects.filter(agenda=w.cardio).count() == 1
    assert _on_disk() == disk_before


@pytest.mark.parametrize(
    "letter",
    [b"GIF89a not a pdf", b"\x89PNG\r\n\x1a\n....", b"%PDF-" + b"x" * (5 * 1024 * 1024)],
    ids=["gif", "png", "over-5-mb"],
)
def test_a_letter_that_is_not_a_small_pdf_is_refused(referral_world, letter):  # noqa: F811
    w = referral_world
    disk_before = _on_disk()
    with pytest.raises(InvalidInput) as refused:
        _refer(w, at(w.monday, 9), letter=letter)
    assert refused.value.field == "letter"
    _nothing_written(w, disk_before)


def test_a_patient_of_another_organisation_cannot_be_referred(referral_world):  # noqa: F811
    w = referral_world
    with pytest.raises(Http404):
        _refer(w, at(w.monday, 9), file_id=w.other_file.pk)
    assert not Appointment.objects.filter(agenda=w.cardio).exists()


def test_only_a_practitioner_refers(referral_world):  # noqa: F811
    w = referral_world
    with pytest.raises(PermissionDenied):
        _refer(w, at(w.monday, 9), user=w.secretary)
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 4001}, "reason"),
        ({"urgency": "??"}, "urgency"),
    ],
)
def test_a_referral_needs_a_reason_and_an_urgency(referral_world, changes, field):  # noqa: F811
    w = referral_world
    with pytest.raises(InvalidInput) as refused:
        _refer(w, at(w.monday, 9), **changes)
    assert refused.value.field == field
    assert not Appointment.objects.filter(agenda=w.cardio).exists()


def test_the_same_form_sent_twice_makes_one_referral(referral_world):  # noqa: F811
    w = referral_world
    token = "0123456789abcdef0123456789abcdef"
    first = _refer(w, at(w.monday, 9), token=token)
    again = _refer(w, at(w.monday, 9), token=token)
    assert again.pk == first.pk
    assert Referral.objects.count() == 1 and FileDocument.objects.count() == 1


def test_the_search_offers_slots_professionals_see_and_never_ones_own(referral_world):  # noqa: F811
    w = referral_world
    found = adressage.find_slots(user=w.gp_user, specialty="cardiologue", near=(48.87, 2.36))
    [candidate] = found
    assert candidate.agenda == w.cardio and candidate.motive == w.consult
    assert candidate.who == "Dr Henri Coeur — Cardiologie"
    assert candidate.slots
    assert all(s.hour not in (8, 12) for s in candidate.slots)
    # Far away: nothing. A GP search does not list the cardiologist.
    assert adressage.find_slots(user=w.gp_user, specialty="cardiologue", near=(43.3, 5.37)) == []
    gps = adressage.find_slots(user=w.gp_user, specialty="medecin-generaliste")
    assert w.cardio not in [c.agenda for c in gps]
    assert w.agenda not in [c.agenda for c in gps]  # Dr Martin's own agenda


def test_the_receiver_reads_it_once_and_the_sender_sees_the_status(referral_world):  # noqa: F811
    w = referral_world
    referral = _refer(w, at(w.monday, 9))
    [row] = adressage.incoming(user=w.cardio_user)
    assert row.unread and row.status == "booked"
    assert adressage.incoming(user=w.gp_user) == []
    assert adressage.incoming(user=w.stranger) == []
    [sent] = adressage.sent(user=w.gp_user)
    assert sent.status == "booked"

    view = adressage.open_incoming(user=w.cardio_user, referral_id=referral.pk, ip="192.0.2.9")
    assert view.reason == REASON
    assert view.letter_document_id == referral.letter_document_id
    assert view.file.organisation == w.hospital
    assert AuditEvent.objects.filter(
        action="read", target_type="referral", actor=w.cardio_user, organisation_id=w.hospital.pk
    ).exists()
    [row] = adressage.incoming(user=w.cardio_user)
    assert not row.unread
    assert adressage.sent(user=w.gp_user)[0].status == "acknowledged"

    booking.set_status(appointment=referral.appointment, status="seen", by=w.cardio_user)
    assert adressage.sent(user=w.gp_user)[0].status == "seen"


def test_a_moved_or_cancelled_referral_shows_where_it_stands(referral_world):  # noqa: F811
    w = referral_world
    referral = _refer(w, at(w.monday, 9))
    moved = booking.reschedule(
        appointment=referral.appointment, new_start=at(w.monday, 11), by=w.cardio_user,
        as_staff=True,
    )  # fmt: skip
    [row] = adressage.sent(user=w.gp_user)
    assert row.moved and row.appointment == moved and row.status == "booked"
    booking.cancel(appointment=moved, by=w.cardio_user, reason="Absent", as_staff=True)
    [row] = adressage.sent(user=w.gp_user)
    assert row.status == "cancelled"


def test_another_organisation_cannot_open_a_referral(referral_world):  # noqa: F811
    w = referral_world
    referral = _refer(w, at(w.monday, 9))
    for user in (w.stranger, w.outsider, w.gp_user):
        with pytest.raises(Http404):
            adressage.open_incoming(user=user, referral_id=referral.pk)
    for user in (w.stranger, w.cardio_user):
        with pytest.raises(Http404):
            adressage.open_sent(user=user, referral_id=referral.pk)
    assert Referral.objects.get().acknowledged_at is None


def test_a_departments_shared_agenda_is_found_by_its_specialty(referral_world):  # noqa: F811
    w = referral_world
    shared = Agenda.objects.create(
        organisation=w.hospital, site=w.hospital_site, department=w.department,
        name="Consultations non programmées",
    )  # fmt: skip
    motive = Motive.objects.create(agenda=shared, label="Avis cardiologique", duration_minutes=20)
    opening = Opening.objects.create(
        agenda=shared, site=w.hospital_site, weekday=w.monday.weekday(), start_time=time(9),
        end_time=time(10), valid_from=w.monday, visibility="pro",
    )  # fmt: skip
    opening.motives.set([motive])
    found = adressage.find_slots(user=w.gp_user, specialty="cardiologue", near=(48.87, 2.36))
    assert {c.agenda for c in found} == {w.cardio, shared}
    [row] = [c for c in found if c.agenda == shared]
    assert row.who == "Consultations non programmées — Cardiologie"
    referral = _refer(w, at(w.monday, 9, 20), agenda_id=shared.pk, motive_id=motive.pk)
    assert referral.appointment.agenda == shared
    # The hospital's admin sees it among the referrals received (every agenda of theirs).
    admin = w.cardio_user.__class__.objects.create_user(email="dir@hopital.test", password="x" * 12)
    Membership.objects.create(user=admin, organisation=w.hospital, role=Membership.Role.ADMIN)
    assert [r.referral for r in adressage.incoming(user=admin)] == [referral]


def test_the_list_takes_few_queries(referral_world, django_assert_max_num_queries):  # noqa: F811
    w = referral_world
    for hour, minute in ((9, 0), (9, 30), (10, 0), (10, 30)):
        _refer(w, at(w.monday, hour, minute), letter=None)
    with django_assert_max_num_queries(4):
        rows = adressage.sent(user=w.gp_user)
    assert len(rows) == 4
