"""A document sent during the call: encrypted into the patient's file at the practice, the call
told of it, downloadable by the patient only (account or the call's link), every step audited."""

import pytest
from django.urls import reverse

from consulto.core.models import AuditEvent
from consulto.practice import files
from consulto.practice.models import FileDocument, PatientFile
from consulto.teleconsultation import rooms
from consulto.teleconsultation.models import SharedDocument

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% ordonnance du jour\n" + b"1" * 2000


def _send(client, call, content=PDF, name="ordonnance.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("visio_send_document", args=[call.room.pk]),
        {"document": SimpleUploadedFile(name, content, content_type="application/pdf")},
        headers={"accept": "application/json"},
    )


def test_the_practitioner_sends_a_prescription_into_the_patient_file(
    call, as_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _send(as_user(call.gp), call)
    assert response.status_code == 201, response.content
    assert callbacks, "the call is told once the document is committed"
    document = FileDocument.objects.get()
    file = PatientFile.objects.get(pk=document.file_id)
    assert (file.organisation_id, file.profile_id) == (
        call.w.organisation.pk,
        call.appointment.patient_id,
    )
    stored = (files.documents_dir() / f"{document.storage_key}.bin").read_bytes()
    assert b"ordonnance" not in stored and b"%PDF" not in stored  # encrypted at rest
    assert files.document_name(document) == "ordonnance.pdf"
    assert SharedDocument.objects.get().room == call.room
    assert rooms.shared_documents(call.room)[0]["name"] == "ordonnance.pdf"
    assert AuditEvent.objects.filter(
        action="create", target_type="document", actor=call.gp, patient_file_id=file.pk
    ).exists()


def test_the_patient_downloads_it_and_sees_it_on_the_appointment(call, as_user):
    _send(as_user(call.gp), call)
    document = FileDocument.objects.get()
    client = as_user(call.patient_user)
    url = reverse("visio_document", args=[call.room.pk, document.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        action="download", target_id=str(document.pk), actor=call.patient_user
    ).exists()
    page = client.get(reverse("appointment", args=[call.appointment.pk])).content.decode()
    assert "ordonnance.pdf" in page and url in page
    listed = client.get(reverse("visio_documents", args=[call.room.pk])).json()
    assert [d["name"] for d in listed["documents"]] == ["ordonnance.pdf"]


def test_by_the_calls_link_without_an_account_and_nobody_else(call, as_user, client):
    _send(as_user(call.gp), call)
    document = FileDocument.objects.get()
    url = reverse("visio_document", args=[call.room.pk, document.pk])
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get(url, {"t": "forged"}).status_code == 404
    token = rooms.join_link_token(call.room)
    assert client.get(url, {"t": token}).content == PDF
    for stranger in (call.w.gp2_user, call.w.secretary, call.w.outsider):
        assert as_user(stranger).get(url).status_code == 404


def test_a_bad_file_is_refused_clearly_and_nothing_is_kept(call, as_user):
    client = as_user(call.gp)
    before = set(files.documents_dir().glob("*"))
    response = _send(client, call, content=b"MZ\x90\x00 not a document", name="virus.exe")
    assert response.status_code == 422
    assert "PDF, JPEG" in response.json()["message"]
    assert not FileDocument.objects.exists() and not SharedDocument.objects.exists()
    assert set(files.documents_dir().glob("*")) == before


def test_only_the_calls_practitioner_sends(call, as_user):
    assert _send(as_user(call.patient_user), call).status_code == 403
    assert _send(as_user(call.w.gp2_user), call).status_code == 404
    assert not FileDocument.objects.exists()
