"""Booking for a case: one step, one transaction, the same guarded path as any booking."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from consulto.core import crypto
from consulto.core.models import AuditEvent
from consulto.notifications import services as notifications
from consulto.referral import search, services
from consulto.referral.models import RegulationCase
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Opening, PatientProfile, Referral
from tests.conftest import at

from .conftest import call

Outcome = RegulationCase.Outcome


def _only_visibility(w, visibility):
    Opening.objects.filter(agenda=w.agenda).update(visibility=visibility)


def test_the_reason_is_encrypted_and_each_read_is_audited(case, regulation):
    assert "Fièvre" not in case.reason
    assert crypto.decrypt_text(case.reason) == "Fièvre à 39 depuis deux jours, toux."
    assert services.read_reason(case=case, by=regulation.regulator).startswith("Fièvre")
    actions = list(
        AuditEvent.objects.filter(target_type="regulation_case", target_id=str(case.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "read"]


def test_booking_for_a_case_makes_the_profile_the_referral_and_tells_the_patient(
    case, regulation, sms_outbox
):
    w = regulation
    start = at(w.monday, 9)
    appointment = services.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=start, by=w.regulator
    )
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.channel == Appointment.Channel.REGULATOR
    profile = appointment.patient
    assert (profile.first_name, profile.owner_id, profile.phone) == ("Louise", None, "+33611223344")
    referral = appointment.referral
    assert referral.kind == Referral.Kind.REGULATION
    assert referral.referrer_label == "SAMU 75"
    assert referral.from_organisation == w.samu
    assert referral.urgency == Referral.Urgency.TWO_DAYS
    assert crypto.decrypt_text(referral.reason).startswith("Fièvre")
    case.refresh_from_db()
    assert (case.outcome, case.appointment, case.patient) == (Outcome.BOOKED, appointment, profile)
    assert case.closed_at is not None and case.closed_by == w.regulator

    notifications.deliver_due()
    [sent] = sms_outbox
    assert sent["to"] == "+33611223344"
    assert "Dr Claire Martin" in sent["text"]
    assert "/rdv/" in sent["text"]  # the signed page: the patient has no account


def test_an_ownerless_profile_of_the_same_person_is_reused(case, regulation, user):
    w = regulation
    PatientProfile.objects.create(
        owner=user, first_name="Louise", last_name="Morel", birth_date=date(1988, 4, 2)
    )
    known = PatientProfile.objects.create(
        first_name="LOUISE", last_name="morel", birth_date=date(1988, 4, 2), phone="0600000000"
    )
    appointment = services.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 9),
        by=w.regulator,
    )  # fmt: skip
    assert appointment.patient == known
    known.refresh_from_db()
    assert known.phone == "+33611223344"  # the number given on the phone is the fresh one
    assert PatientProfile.objects.filter(last_name__iexact="morel").count() == 2


def test_a_slot_taken_meanwhile_is_a_clean_refusal_and_nothing_is_half_written(
    case, regulation, patient, user
):
    w = regulation
    start = at(w.monday, 9)
    booking.book(agenda=w.agenda, motive=w.first, start=start, patient=patient, booked_by=user)
    profiles = PatientProfile.objects.count()
    with pytest.raises(booking.SlotTaken) as refused:
        services.book_for_case(
            case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=start, by=w.regulator
        )
    assert "no longer offered" in str(refused.value.message) or "plus proposé" in str(
        refused.value.message
    )
    case.refresh_from_db()
    assert case.outcome == Outcome.OPEN and case.appointment is None and case.patient is None
    assert PatientProfile.objects.count() == profiles
    assert not Referral.objects.exists()


def test_a_known_patients_slot_is_not_the_regulators(case, regulation):
    w = regulation
    _only_visibility(w, Opening.Visibility.KNOWN_PATIENTS)
    with pytest.raises(booking.InvalidSlot):
        services.book_for_case(
            case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 9),
            by=w.regulator,
        )  # fmt: skip
    case.refresh_from_db()
    assert case.outcome == Outcome.OPEN
    assert not Appointment.objects.exists()


def test_a_regulation_only_slot_is_bookable_by_the_regulator_and_found_by_the_search(
    case, regulation
):
    w = regulation
    _only_visibility(w, Opening.Visibility.REGULATION)
    found = search.find(need=case.need, near=(48.88, 2.38), now=timezone.now())
    assert any(o.agenda == w.agenda for o in found.offers)
    appointment = services.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 9),
        by=w.regulator,
    )  # fmt: skip
    assert appointment.status == Appointment.Status.BOOKED


def test_the_same_booking_sent_twice_books_once(case, regulation):
    w = regulation
    kwargs = dict(agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 9))
    first = services.book_for_case(case=case, by=w.regulator, **kwargs)
    again = services.book_for_case(case=case, by=w.regulator, **kwargs)
    assert again == first
    assert Appointment.objects.count() == 1


def test_cancel_reopens_the_case_and_tells_the_patient_by_sms(case, regulation, sms_outbox):
    w = regulation
    appointment = services.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 9),
        by=w.regulator,
    )  # fmt: skip
    notifications.deliver_due()
    sms_outbox.clear()
    services.cancel_booking(case=case, reason="Médecin absent", by=w.regulator)
    appointment.refresh_from_db()
    case.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_by_practice
    assert case.outcome == Outcome.OPEN and case.closed_at is None
    notifications.deliver_due()
    [sent] = sms_outbox
    assert "Médecin absent" in sent["text"]


def test_move_books_another_slot_keeps_the_referral_and_tells_the_patient(
    case, regulation, sms_outbox
):
    w = regulation
    services.book_for_case(
        case=case, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 9),
        by=w.regulator,
    )  # fmt: skip
    notifications.deliver_due()
    sms_outbox.clear()
    moved = services.move_booking(case=case, new_start=at(w.monday, 10), by=w.regulator)
    case.refresh_from_db()
    assert case.appointment == moved and moved.start == at(w.monday, 10)
    assert moved.referral.referrer_label == "SAMU 75"
    notifications.deliver_due()
    [sent] = sms_outbox
    assert "10:00" in sent["text"]


def test_extra_patient_and_closing_outcomes(regulation):
    w = regulation
    w.gp.takes_extra_patients = True
    w.gp.save()
    one = services.open_case(centre=w.samu, by=w.regulator, call=call())
    expected = timezone.now() + timedelta(hours=2)
    services.record_extra(case=one, practitioner_id=w.gp.pk, expected_at=expected, by=w.regulator)
    one.refresh_from_db()
    assert (one.outcome, one.extra_practitioner, one.extra_at) == (Outcome.EXTRA, w.gp, expected)
    two = services.open_case(centre=w.samu, by=w.operator, call=call(first_name="Paul"))
    services.close_case(case=two, outcome=Outcome.EMERGENCY, by=w.operator)
    two.refresh_from_db()
    assert two.outcome == Outcome.EMERGENCY and two.closed_by == w.operator
    with pytest.raises(services.CaseClosed):
        services.close_case(case=two, outcome=Outcome.ADVICE, by=w.operator)
