"""Patient files: encrypted notes and documents, type and size checks, the audit trail of every
read and write, key rotation, and online booking stopped for a patient."""

from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse
from django.utils import translation

from consulto.core.errors import InvalidInput
from consulto.core.models import AuditEvent
from consulto.practice import files
from consulto.practice.models import FileDocument, PatientFile
from consulto.scheduling import booking, rules
from tests.conftest import at

PDF = b"%PDF-1.4\n% consultation\n" + b"x" * 200
NOTE = "Allergie à la pénicilline, antécédent d'asthme"


def _raw(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_a_note_is_stored_encrypted_and_read_back_by_practitioners(practice, as_user):
    w = practice
    client = as_user(w.gp_user)
    client.post(reverse("practice:note_add", args=[w.file.pk]), {"text": NOTE})
    [(stored,)] = _raw("SELECT body FROM practice_filenote", [])
    assert "pénicilline" not in stored and stored.startswith("gAAAA")
    page = client.get(reverse("practice:file", args=[w.file.pk])).content.decode()
    assert "Allergie à la pénicilline" in page or "Allergie &agrave; la p&eacute;nicilline" in page
    # A secretary opens the file, not the notes.
    page = as_user(w.secretary).get(reverse("practice:file", args=[w.file.pk])).content.decode()
    assert "pénicilline" not in page


def test_a_document_is_encrypted_on_disk_and_given_back_whole(practice, as_user):
    w = practice
    document = files.add_document(user=w.gp_user, file_id=w.file.pk, name="ordonnance.pdf",
                                  content=PDF)  # fmt: skip
    on_disk = (files.documents_dir() / f"{document.storage_key}.bin").read_bytes()
    assert b"%PDF" not in on_disk and b"consultation" not in on_disk
    [(name,)] = _raw("SELECT name FROM practice_filedocument", [])
    assert "ordonnance" not in name
    response = as_user(w.secretary).get(reverse("practice:document", args=[document.pk]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "ordonnance.pdf" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("virus.pdf", b"MZ\x90\x00 not a pdf", "Only PDF, JPEG and PNG"),
        ("vide.pdf", b"", "empty"),
        ("enorme.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "10 MB"),
    ],
)
def test_a_document_of_the_wrong_type_or_size_is_refused_and_nothing_is_kept(
    practice, name, content, why
):
    w = practice
    before = set(files.documents_dir().iterdir())
    with translation.override("en"), pytest.raises(InvalidInput, match=why):
        files.add_document(user=w.gp_user, file_id=w.file.pk, name=name, content=content)
    assert not FileDocument.objects.exists()
    assert set(files.documents_dir().iterdir()) == before


def test_an_upload_refused_shows_the_reason_on_the_file_page(practice, as_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    w = practice
    client = as_user(w.secretary)
    response = client.post(
        reverse("practice:document_add", args=[w.file.pk]),
        {"document": SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/pdf")},
        follow=True,
    )
    assert "PDF, JPEG" in response.content.decode()
    assert not FileDocument.objects.exists()


def test_every_read_and_write_of_a_file_leaves_an_audit_event(practice, as_user):
    w = practice
    client = as_user(w.gp_user)
    client.post(reverse("practice:note_add", args=[w.file.pk]), {"text": NOTE})
    document = files.add_document(user=w.gp_user, file_id=w.file.pk, name="a.pdf", content=PDF)
    client.get(reverse("practice:file", args=[w.file.pk]))
    client.get(reverse("practice:document", args=[document.pk]))
    events = list(
        AuditEvent.objects.filter(patient_file_id=w.file.pk)
        .order_by("id")
        .values_list("actor__email", "action", "target_type")
    )
    assert events == [
        ("martin@centre.test", "create", "note"),
        ("martin@centre.test", "create", "document"),
        ("martin@centre.test", "read", "patient_file"),
        ("martin@centre.test", "read", "notes"),
        ("martin@centre.test", "download", "document"),
    ]
    assert all(
        e.organisation_id == w.organisation.pk and e.ip == "127.0.0.1"
        for e in AuditEvent.objects.filter(action__in=["read", "download"])
    )


def test_a_refused_read_leaves_no_event_and_no_data(practice, as_user):
    w = practice
    files.add_note(user=w.gp_user, file_id=w.file.pk, text=NOTE)
    count = AuditEvent.objects.count()
    assert as_user(w.outsider).get(reverse("practice:file", args=[w.file.pk])).status_code == 404
    assert AuditEvent.objects.count() == count


def test_keys_rotate_and_old_data_stays_readable(practice, monkeypatch, settings):
    w = practice
    old = Fernet.generate_key().decode()
    monkeypatch.setenv("CONSULTO_ENCRYPTION_KEYS", old)
    note = files.add_note(user=w.gp_user, file_id=w.file.pk, text=NOTE)
    document = files.add_document(user=w.gp_user, file_id=w.file.pk, name="a.pdf", content=PDF)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("CONSULTO_ENCRYPTION_KEYS", f"{new},{old}")
    assert files.rotate_keys() == (1, 1)
    monkeypatch.setenv("CONSULTO_ENCRYPTION_KEYS", new)  # the old key is gone
    view = files.open_file(user=w.gp_user, file_id=w.file.pk)
    assert view.notes[0][1] == NOTE
    name, _type, content = files.read_document(user=w.gp_user, document_id=document.pk)
    assert (name, content) == ("a.pdf", PDF)
    assert note.pk == view.notes[0][0].pk


def test_a_file_gathers_history_no_shows_and_the_family_account(practice, as_user, patient):
    w = practice
    child = patient.owner.patient_profiles.create(
        first_name="Léo", last_name="Durand", birth_date=date(2018, 6, 1), relationship="child"
    )
    for person, hour in ((patient, 9), (child, 10)):
        booking.book(agenda=w.agenda, motive=w.first, start=at(w.monday, hour), patient=person,
                     booked_by=patient.owner)  # fmt: skip
    parent_file = PatientFile.objects.get(profile=patient)
    page = as_user(w.secretary).get(reverse("practice:file", args=[parent_file.pk]))
    html = page.content.decode()
    assert "Léo Durand" in html  # the child's file, linked by the family account
    assert "Première consultation" in html
    # The patient owns this identity: staff cannot change it (only the practice's address).
    client = as_user(w.secretary)
    edit = client.get(reverse("practice:file_edit", args=[parent_file.pk]))
    assert edit.status_code == 200 and 'name="last_name"' not in edit.content.decode()
    client.post(
        reverse("practice:file_edit", args=[parent_file.pk]),
        {"last_name": "Changé", "address": "3 rue Haute", "postcode": "75019", "city": "Paris"},
    )
    patient.refresh_from_db()
    parent_file.refresh_from_db()
    assert patient.last_name == "Durand" and parent_file.city == "Paris"


def test_staff_correct_the_identity_of_a_patient_without_account(practice, as_user):
    w = practice
    response = as_user(w.secretary).post(
        reverse("practice:file_edit", args=[w.file.pk]),
        {"first_name": "Jeanne", "last_name": "Petit-Martin", "birth_date": "1950-03-02",
         "phone": "0612345678", "email": "", "ins": "123"},
    )  # fmt: skip
    assert response.status_code == 200  # the INS is refused, nothing saved
    w.profile.refresh_from_db()
    assert w.profile.last_name == "Petit"
    as_user(w.secretary).post(
        reverse("practice:file_edit", args=[w.file.pk]),
        {"first_name": "Jeanne", "last_name": "Petit-Martin", "birth_date": "1950-03-02",
         "phone": "0612345678", "email": "", "ins": ""},
    )  # fmt: skip
    w.profile.refresh_from_db()
    assert w.profile.last_name == "Petit-Martin"


def test_a_patient_stopped_online_cannot_book_online_but_the_practice_can(practice, patient):
    from consulto.patients import services as patient_services

    w = practice
    file = files.ensure_file(organisation_id=w.organisation.pk, profile_id=patient.pk)
    files.set_online_booking(user=w.secretary, file_id=file.pk, allowed=False)
    held = booking.hold(agenda=w.agenda, motive=w.first, start=at(w.monday, 9),
                        held_by=patient.owner)  # fmt: skip
    with pytest.raises(rules.OnlineBookingClosed):
        patient_services.confirm_booking(
            hold_id=held.pk, user=patient.owner, patient=patient, idempotency_key="k1"
        )
    from consulto.practice import services

    booked = services.book_for_patient(
        user=w.secretary, agenda_id=w.agenda.pk, motive_id=w.first.pk, start=at(w.monday, 10),
        file_id=file.pk,
    )  # fmt: skip
    assert booked.status == "booked"


def test_the_practice_keeps_the_address_and_edits_identity_and_contact(practice, as_user):
    from consulto.core.models import AuditEvent

    w = practice
    client = as_user(w.secretary)
    url = reverse("practice:file_edit", args=[w.file.pk])
    identity = {"first_name": "Jeanne", "last_name": "Petit", "birth_date": "1950-03-02",
                "phone": "06 12 34 56 78", "email": "jeanne@example.org", "ins": ""}  # fmt: skip
    refused = client.post(url, identity | {"postcode": "75 019 !!", "city": "Paris"})
    assert refused.status_code == 200 and "75019" in refused.content.decode()
    w.file.refresh_from_db()
    assert w.file.city == ""  # nothing saved
    response = client.post(
        url, identity | {"address": "12 rue des Lilas, bâtiment B", "postcode": "75019",
                         "city": "Paris"},
    )  # fmt: skip
    assert response.status_code == 302
    w.file.refresh_from_db()
    w.profile.refresh_from_db()
    assert (w.file.address, w.file.postcode, w.file.city) == (
        "12 rue des Lilas, bâtiment B",
        "75019",
        "Paris",
    )
    assert w.profile.email == "jeanne@example.org"
    assert AuditEvent.objects.filter(patient_file_id=w.file.pk, action="update").exists()
    page = client.get(reverse("practice:file", args=[w.file.pk])).content.decode()
    assert "12 rue des Lilas, bâtiment B" in page and "75019 Paris" in page
    assert f"{reverse('practice:appointment_new')}?file={w.file.pk}" in page


def test_a_new_file_takes_its_address(practice, as_user):
    w = practice
    response = as_user(w.secretary).post(
        reverse("practice:file_new") + f"?org={w.organisation.pk}",
        {"first_name": "Paul", "last_name": "Neuf", "birth_date": "1990-01-01",
         "address": "1 place du Marché", "postcode": "69007", "city": "Lyon"},
    )  # fmt: skip
    assert response.status_code == 302
    file = PatientFile.objects.get(profile__last_name="Neuf")
    assert (file.address, file.city) == ("1 place du Marché", "Lyon")


def test_a_booking_opens_the_file_once_in_one_statement_that_leaves_its_transaction_usable(
    world, patient
):
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                files.open_file_if_missing(
                    organisation_id=world.organisation.pk, profile_id=patient.pk
                )
            assert len(queries) == 1
        # A conflict that did nothing: the transaction goes on (PostgreSQL aborts on errors).
        assert PatientFile.objects.filter(profile=patient).count() == 1
