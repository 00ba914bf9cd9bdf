"""The call page in each state of its room: too early (when it opens; the page opens itself),
open, over (its messages and documents stay readable), cancelled; and the patient file beside
the call for the practitioner: read and audited as the file page is, a note added in place."""

import base64
import hashlib
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from consulto.core.models import AuditEvent
from consulto.practice.models import FileNote, PatientFile
from consulto.scheduling.models import Appointment
from consulto.teleconsultation import rooms

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% ordonnance\n" + b"0" * 200


def _move(call, start):
    Appointment.objects.filter(pk=call.appointment.pk).update(
        start=start, end=start + timedelta(minutes=15)
    )
    return rooms.load_room(call.room.pk)


def test_a_room_knows_where_it_stands(call):
    start = call.appointment.start
    assert rooms.room_state(call.room).state == rooms.OPEN  # five minutes before
    early = rooms.room_state(call.room, now=start - timedelta(minutes=16))
    assert early.state == rooms.EARLY and early.opens_at == start - timedelta(minutes=15)
    assert rooms.room_state(call.room, now=start + timedelta(minutes=46)).state == rooms.ENDED
    Appointment.objects.filter(pk=call.appointment.pk).update(status="no_show")
    assert rooms.room_state(rooms.load_room(call.room.pk)).state == rooms.ENDED
    Appointment.objects.filter(pk=call.appointment.pk).update(status="cancelled")
    assert rooms.room_state(rooms.load_room(call.room.pk)).state == rooms.CANCELLED
    Appointment.objects.filter(pk=call.appointment.pk).update(status="booked")
    rooms.end_call(rooms.load_room(call.room.pk), by=call.gp)
    assert rooms.room_state(rooms.load_room(call.room.pk)).state == rooms.ENDED


def test_too_early_the_page_says_when_and_does_not_call(call, client):
    later = _move(call, timezone.now().replace(microsecond=0) + timedelta(hours=2))
    client.force_login(call.patient_user)
    response = client.get(f"/visio/{call.room.pk}/")
    page = unescape(response.content.decode())
    opens = (later.appointment.start - timedelta(minutes=15)).astimezone(call.w.site.zone)
    assert response.status_code == 200
    assert "pas encore ouverte" in page and f"<strong>{opens:%H:%M}</strong>" in page
    assert "elle ouvre la consultation d'elle-même" in page
    assert 'id="visio-remote"' not in page  # no call on this page yet
    assert '"state": "early"' in page and '"opensInSeconds": 6' in page  # about 6,300 s
    assert 'id="device-check"' in page  # the device test, meanwhile


def test_too_early_the_signed_link_opens_the_waiting_page(call, client):
    _move(call, timezone.now().replace(microsecond=0) + timedelta(hours=1))
    token = rooms.join_link_token(rooms.load_room(call.room.pk))
    response = client.get(f"/visio/lien/{token}/")
    assert response.status_code == 200
    assert "pas encore ouverte" in response.content.decode()


def test_after_the_call_its_messages_and_documents_stay_readable(call, client):
    rooms.post_chat(call.room, author=call.patient_user, text="Merci docteur")
    rooms.post_chat(call.room, author=call.gp, text="Prenez soin de vous")
    shared = rooms.send_document(call.room, by=call.gp, name="ordonnance.pdf", content=PDF)
    rooms.end_call(call.room, by=call.gp)
    client.force_login(call.patient_user)
    response = client.get(f"/visio/{call.room.pk}/")
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "La consultation est terminée" in page and 'id="visio-remote"' not in page
    assert "<strong>Vous : </strong>Merci docteur" in page
    assert "<strong>Votre interlocuteur : </strong>Prenez soin de vous" in page
    link = f"/visio/{call.room.pk}/documents/{shared.document_id}/"
    assert f'href="{link}" download>ordonnance.pdf' in page
    assert client.get(link).status_code == 200
    assert f'href="/rendez-vous/{call.appointment.pk}/"' in page


def test_after_the_call_the_signed_link_shows_it_until_it_expires(call, client):
    rooms.post_chat(call.room, author=None, text="Bonjour")
    shared = rooms.send_document(call.room, by=call.gp, name="ordonnance.pdf", content=PDF)
    rooms.end_call(call.room, by=call.gp)
    token = rooms.join_link_token(call.room)
    page = unescape(client.get(f"/visio/lien/{token}/").content.decode())
    assert "La consultation est terminée" in page and "Bonjour" in page
    link = f"/visio/{call.room.pk}/documents/{shared.document_id}/?t={token}"
    assert link in page and client.get(link).status_code == 200
    # Past the link's life: said plainly, with where the documents are.
    long_ago = call.appointment.start - timedelta(hours=3)
    token = rooms.join_link_token(_move(call, long_ago))
    response = client.get(f"/visio/lien/{token}/")
    assert response.status_code == 410
    assert "Mes rendez-vous" in response.content.decode()


def test_a_cancelled_appointment_says_so_with_a_way_to_book_again(call, client):
    Appointment.objects.filter(pk=call.appointment.pk).update(status="cancelled")
    client.force_login(call.patient_user)
    page = unescape(client.get(f"/visio/{call.room.pk}/").content.decode())
    assert "Ce rendez-vous a été annulé" in page and 'id="visio-remote"' not in page
    assert f'href="/praticien/{call.w.gp.pk}/"' in page
    assert "visio.js" not in page


def test_ending_the_call_is_confirmed_first(call, client):
    client.force_login(call.gp)
    page = unescape(client.get(f"/pro/visio/{call.room.pk}/").content.decode())
    assert '<dialog id="visio-end-dialog"' in page
    assert "le rendez-vous est marqué comme vu" in page
    assert "Terminer et marquer vu" in page and "Poursuivre l'appel" in page


# The patient file beside the call ----------------------------------------------------------------

FILE_URL = "/pro/visio/{}/dossier/"
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def test_the_call_page_reads_nothing_until_the_file_is_opened(call, client):
    client.force_login(call.gp)
    page = unescape(client.get(f"/pro/visio/{call.room.pk}/").content.decode())
    assert 'id="visio-file"' in page and FILE_URL.format(call.room.pk) in page
    assert not AuditEvent.objects.filter(action="read").exists()


def test_the_practitioner_reads_the_patient_file_beside_the_call_audited(call, client):
    file = PatientFile.objects.get_or_create(
        organisation=call.w.organisation, profile=call.appointment.patient
    )[0]
    rooms.add_note(call.room, by=call.gp, text="Allergie à la pénicilline")
    client.force_login(call.gp)
    response = client.get(FILE_URL.format(call.room.pk), **FETCH)
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Allergie à la pénicilline" in page and "DURAND Alice" in page
    assert f'href="/pro/patients/{file.pk}/"' in page
    reads = AuditEvent.objects.filter(actor=call.gp, action="read", patient_file_id=file.pk)
    assert set(reads.values_list("target_type", flat=True)) == {"patient_file", "notes"}


def test_a_note_is_added_without_leaving_the_call(call, client):
    client.force_login(call.gp)
    response = client.post(FILE_URL.format(call.room.pk), {"text": "Revoir dans 15 jours"}, **FETCH)
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Note enregistrée" in page and "Revoir dans 15 jours" in page
    note = FileNote.objects.get()
    assert note.author == call.gp and "Revoir" not in note.body  # encrypted at rest
    assert AuditEvent.objects.filter(actor=call.gp, action="create", target_type="note").exists()
    empty = client.post(FILE_URL.format(call.room.pk), {"text": "  "}, **FETCH)
    assert empty.status_code == 422 and "Rédigez d'abord la note" in unescape(
        empty.content.decode()
    )
    # Without scripts, the form still works and comes back to the call.
    plain = client.post(FILE_URL.format(call.room.pk), {"text": "Sans script"})
    assert plain["Location"] == f"/pro/visio/{call.room.pk}/"
    assert FileNote.objects.count() == 2


def test_only_the_calls_practitioner_opens_the_file_beside_it(call, client):
    for user in (call.w.secretary, call.w.gp2_user, call.w.outsider):
        client.force_login(user)
        assert client.get(FILE_URL.format(call.room.pk), **FETCH).status_code == 404
        assert client.post(FILE_URL.format(call.room.pk), {"text": "x"}).status_code == 404
    client.force_login(call.patient_user)
    assert client.get(FILE_URL.format(call.room.pk), **FETCH).status_code == 403
    assert not FileNote.objects.exists()


def test_a_substitute_from_elsewhere_consults_without_the_practice_files(call, substitute, client):
    from consulto.teleconsultation import delegations

    delegations.grant(
        titular=call.w.gp, by=call.gp, substitute_query=substitute.rpps,
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=8),
        scope="video",
    )  # fmt: skip
    client.force_login(substitute.user)
    page = unescape(client.get(FILE_URL.format(call.room.pk), **FETCH).content.decode())
    assert "ne sont pas ouverts à votre compte" in page
    response = client.post(FILE_URL.format(call.room.pk), {"text": "x"}, **FETCH)
    assert response.status_code in (403, 404) and not FileNote.objects.exists()


def _script_sources(policy: str) -> list[str]:
    directive = next(d.strip() for d in policy.split(";") if d.strip().startswith("script-src"))
    return directive.split()[1:]


def test_the_open_call_page_starts_joining_from_its_head_by_the_one_inline_script_allowed(
    call, client
):
    """The socket and the camera are asked for from the head, before the stylesheets, by an
    inline script; the page's policy allows exactly that script (its hash), nothing else."""
    client.force_login(call.patient_user)
    response = client.get(f"/visio/{call.room.pk}/")
    page = response.content.decode()
    head = page[: page.index("</head>")]
    opening = f'<script data-ws-url="ws://testserver/ws/visio/{call.room.pk}/">'
    assert opening in head and head.index(opening) < head.index('rel="stylesheet"')
    inline = head[head.index(opening) + len(opening) : head.index("</script>")]
    assert "new WebSocket(url)" in inline and "getUserMedia" in inline
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert _script_sources(response["Content-Security-Policy"]) == ["'self'", f"'sha256-{digest}'"]
    assert page.count("<script>") + page.count("<script data-") == 1  # no other inline script


def test_the_signed_link_starts_joining_from_the_head_with_its_token(call, client):
    token = rooms.join_link_token(call.room)
    response = client.get(f"/visio/lien/{token}/")
    head = response.content.decode().split("</head>")[0]
    assert f'data-ws-url="ws://testserver/ws/visio/{call.room.pk}/?t={token}"' in head


def test_a_page_without_a_call_has_no_inline_script(call, client):
    _move(call, timezone.now().replace(microsecond=0) + timedelta(hours=2))
    client.force_login(call.patient_user)
    response = client.get(f"/visio/{call.room.pk}/")
    assert "data-ws-url" not in response.content.decode()
    rooms.end_call(rooms.load_room(call.room.pk), by=call.gp)
    assert "data-ws-url" not in client.get(f"/visio/{call.room.pk}/").content.decode()
