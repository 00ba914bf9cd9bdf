"""The referral pages: refer from the practice space, the lists received and sent; bad input
gives form errors (never a server error), another organisation gets 404."""

import pytest
from django.urls import reverse

from consulto.core.models import AuditEvent
from consulto.referral import adressage
from consulto.scheduling import booking
from consulto.scheduling.models import Appointment, Referral
from tests.conftest import at

from .adressage_world import (  # noqa: F401 (fixtures)
    PDF,
    REASON,
    as_user,
    practice,
    referral_world,
)

NEW = reverse("adressage:refer")
CONFIRM = reverse("adressage:refer_confirm")
TOKEN = "0123456789abcdef0123456789abcdef"


def _post(w, when, **changes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "file": w.file.pk,
        "agenda": w.cardio.pk,
        "motive": w.consult.pk,
        "start": when.isoformat(),
        "token": TOKEN,
        "urgency": "48h",
        "reason": REASON,
        "letter": SimpleUploadedFile("courrier.pdf", PDF, content_type="application/pdf"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_practitioner_finds_the_patient_then_a_slot(referral_world, as_user):  # noqa: F811
    w = referral_world
    client = as_user(w.gp_user)
    page = client.get(NEW, {"q": "petit"}).content.decode()
    assert "PETIT Jeanne" in page and f"?file={w.file.pk}" in page
    assert "Loin" not in client.get(NEW, {"q": "loin"}).content.decode()  # another org's patient
    page = client.get(NEW, {"file": w.file.pk, "specialty": "cardiologue", "place": "75010"})
    html = page.content.decode()
    assert "Dr Henri Coeur — Cardiologie" in html
    assert "Hôpital Saint-Louis" in html
    assert f"agenda={w.cardio.pk}" in html
    page = client.get(NEW, {"file": w.file.pk, "place": "Nulle-part-sur-Terre"})
    assert "This place is unknown" in page.content.decode() or "inconnu" in page.content.decode()


def test_the_form_books_and_the_sender_follows_it(referral_world, as_user):  # noqa: F811
    w = referral_world
    client = as_user(w.gp_user)
    start = at(w.monday, 9, 30)
    shown = client.get(
        CONFIRM,
        {
            "file": w.file.pk,
            "agenda": w.cardio.pk,
            "motive": w.consult.pk,
            "start": start.isoformat(),
        },
    )
    assert shown.status_code == 200
    assert "Dr Henri Coeur" in shown.content.decode()
    response = client.post(CONFIRM, _post(w, start))
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("adressage:referral_sent", args=[referral.pk])
    assert referral.urgency == "48h" and referral.letter_document_id
    detail = client.get(response["Location"]).content.decode()
    assert REASON.replace("'", "&#x27;") in detail
    listing = client.get(reverse("adressage:referrals_sent")).content.decode()
    assert "PETIT Jeanne" in listing and "status-booked" in listing


def test_a_taken_slot_is_said_plainly(referral_world, as_user):  # noqa: F811
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
    response = as_user(w.gp_user).post(CONFIRM, _post(w, start))
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"reason": "Souffle\x00"},
        {"reason": ""},
        {"agenda": "9" * 30},
        {"file": "abc"},
        {"motive": "-1"},
        {"start": "demain"},
        {"start": "9999-12-31T23:59:00+01:00"},
        {"urgency": "bientôt"},
        {"token": "\x00" * 5},
        {"urgency": ["48h", "x"]},
    ],
)
def test_bad_input_is_a_form_error(referral_world, as_user, changes):  # noqa: F811
    w = referral_world
    response = as_user(w.gp_user).post(CONFIRM, _post(w, at(w.monday, 9), **changes))
    if response.status_code == 302:
        # A token that cannot be read is only dropped; the rest was right.
        assert "token" in changes
        return
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Referral.objects.exists()


def test_a_non_pdf_letter_is_a_form_error(referral_world, as_user):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    w = referral_world
    fake = SimpleUploadedFile(
        "courrier.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = as_user(w.gp_user).post(CONFIRM, _post(w, at(w.monday, 9), letter=fake))
    assert response.status_code == 200
    assert 'id="id_letter_error"' in response.content.decode()
    assert not Appointment.objects.filter(agenda=w.cardio).exists()


@pytest.mark.parametrize(
    "params",
    [
        {"file": "9" * 25, "agenda": "1", "motive": "1", "start": "x"},
        {"file": "1", "agenda": "99999999999", "motive": "1", "start": "2026-12-14T09:00:00+01:00"},
        {},
    ],
)
def test_a_slot_link_that_cannot_be_read_is_not_found(referral_world, as_user, params):  # noqa: F811
    w = referral_world
    assert as_user(w.gp_user).get(CONFIRM, params).status_code == 404


def test_another_organisations_patient_is_not_found(referral_world, as_user):  # noqa: F811
    w = referral_world
    client = as_user(w.gp_user)
    assert client.get(NEW, {"file": w.other_file.pk}).status_code == 404
    response = client.post(CONFIRM, _post(w, at(w.monday, 9), file=w.other_file.pk))
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_a_secretary_does_not_refer(referral_world, as_user):  # noqa: F811
    w = referral_world
    client = as_user(w.secretary)
    assert client.get(NEW).status_code == 403
    assert client.get(reverse("adressage:referrals_sent")).status_code == 200


def test_the_receiver_opens_a_referral_and_downloads_the_letter(referral_world, as_user):  # noqa: F811
    w = referral_world
    referral = adressage.refer(
        user=w.gp_user, file_id=w.file.pk, agenda_id=w.cardio.pk, motive_id=w.consult.pk,
        start=at(w.monday, 9), urgency="urgent", reason=REASON, letter=PDF,
        letter_name="courrier.pdf",
    )  # fmt: skip
    client = as_user(w.cardio_user)
    listing = client.get(reverse("adressage:referrals_received")).content.decode()
    assert "PETIT Jeanne" in listing and "Dr Claire Martin, Cabinet des Lilas" in listing
    assert 'class="unread"' in listing
    detail = client.get(reverse("adressage:referral_received", args=[referral.pk])).content.decode()
    assert "Souffle systolique" in detail
    letter_url = reverse("practice:document", args=[referral.letter_document_id])
    assert letter_url in detail
    download = client.get(letter_url)
    assert download.status_code == 200 and download.content == PDF
    assert AuditEvent.objects.filter(
        actor=w.cardio_user, action="download", target_type="document"
    ).exists()
    listing = client.get(reverse("adressage:referrals_received")).content.decode()
    assert 'class="unread"' not in listing
    received = reverse("adressage:referrals_received")
    unread = client.get(received, {"filtre": "non-lus"}).content.decode()
    assert "PETIT Jeanne" not in unread
    sent = as_user(w.gp_user).get(reverse("adressage:referrals_sent")).content.decode()
    assert "status-acknowledged" in sent


def test_another_organisation_cannot_see_a_referral(referral_world, as_user):  # noqa: F811
    w = referral_world
    referral = adressage.refer(
        user=w.gp_user, file_id=w.file.pk, agenda_id=w.cardio.pk, motive_id=w.consult.pk,
        start=at(w.monday, 9), urgency="routine", reason=REASON,
    )  # fmt: skip
    for user in (w.stranger, w.outsider):
        client = as_user(user)
        url = reverse("adressage:referral_received", args=[referral.pk])
        assert client.get(url).status_code == 404
        assert client.get(reverse("adressage:referral_sent", args=[referral.pk])).status_code == 404
        assert "PETIT" not in client.get(reverse("adressage:referrals_received")).content.decode()
    assert Referral.objects.get().acknowledged_at is None


def test_the_nav_links_to_both_lists(referral_world, as_user):  # noqa: F811
    w = referral_world
    page = as_user(w.gp_user).get(reverse("practice:files")).content.decode()
    assert reverse("adressage:referrals_received") in page
    assert reverse("adressage:referrals_sent") in page
