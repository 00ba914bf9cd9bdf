"""Organisation bulk onboarding: the CSV upload, its line-by-line check, the all-or-nothing
import, the invitation e-mails, and the invitee's shortened journey to a bookable agenda."""

import hashlib
import re
from datetime import datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from consulto.directory.models import DirectoryRecord, Membership, Practitioner, Site
from consulto.directory.selectors import practitioners_matching
from consulto.notifications import services as notifications
from consulto.notifications.models import Message
from consulto.onboarding import bulk, bulk_check, bulk_import, invitations
from consulto.onboarding.models import Invitation, Journey, Step, StepRecord
from consulto.scheduling import booking
from consulto.scheduling.models import Agenda, Motive, Opening, PatientProfile
from tests.conftest import valid_rpps
from tests.practice import conftest as practice_fixtures

from .conftest import PASSWORD, identity_data, rpps, totp_now

pytestmark = pytest.mark.django_db
# The back-office world (a centre, its admin, a secretary, another organisation's admin...).
practice, as_user = practice_fixtures.practice, practice_fixtures.as_user

IMPORT = "/pro/equipe/importer/"
CONFIRM = "/pro/equipe/importer/confirmer/"
GP, CARDIO, NURSE, NO_SPECIALTY = rpps(11), rpps(12), rpps(13), rpps(14)


def _record(number, first, last, specialty, **extra):
    return DirectoryRecord.objects.create(
        rpps=number,
        structure_id=f"S{number}",
        civility=extra.pop("civility", "Docteur"),
        first_name=first,
        last_name=last,
        specialty_code=specialty,
        mode="Salarié",
        site_name="CENTRE HOSPITALIER",
        address="1 rue de l'Hôpital",
        postcode="75019",
        city="PARIS",
        **extra,
    )


@pytest.fixture
def centre(practice):
    """The practice world, with four professionals in the directory."""
    _record(GP, "CAMILLE", "ROUSSEAU", "medecin-generaliste")
    _record(CARDIO, "MARC", "LE GALL", "cardiologue")
    _record(NURSE, "INÈS", "MOREAU", "infirmier", civility="Madame")
    _record(NO_SPECIALTY, "JEAN-PIERRE", "DURAND", "")
    return practice


def csv_upload(text: str, *, encoding="utf-8", name="equipe.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(client, world, text, **kwargs):
    return client.post(
        IMPORT,
        {
            "org": world.organisation.pk,
            "site": world.site.pk,
            "file": csv_upload(text, **kwargs),
        },
    )


def report_of(response) -> bulk_check.Report:
    return response.context["report"]


FRENCH = (
    "rpps;courriel;service;horaires;motifs\n"
    f"{GP};camille.rousseau@hopital.test;Médecine interne;standard;\n"
    f"{CARDIO};marc.legall@hopital.test;Cardiologie;mornings;cardiologue\n"
)


def run_tasks():
    """Run the queued tasks the way ``manage.py db_worker`` does, then send what they wrote to
    the outbox; return the tasks' results."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    results = []
    for row in DBTaskResult.objects.ready().order_by("enqueued_at"):
        row.claim(worker.worker_id)
        worker.run_task(row)
        row.refresh_from_db()
        assert row.status == "SUCCESSFUL", row.traceback
        if not row.task_path.endswith(AVAILABILITY_TASKS):  # run, not reported
            results.append(row.return_value)
    notifications.deliver_due()
    return results


# The new agendas' openings queue the refresh of their next availability (scheduling/index.py).
AVAILABILITY_TASKS = ("refresh_availability", "sweep_availability_index")


def link_in(message) -> str:
    """The invitation link: on the platform's public address, whatever host the admin used."""
    site = re.escape(settings.CONSULTO_SITE_URL)
    return re.search(rf"({site}/pro/invitation/[\w-]+/)", message.body).group(1)


def confirm(client, world, response):
    """Send the invitations checked in ``response`` (the conftest runs each request's on-commit
    callbacks when it ends, as a real commit would)."""
    return client.post(CONFIRM, {"org": world.organisation.pk, "batch": response.context["digest"]})


@pytest.fixture
def invited(centre, as_user, mailoutbox):
    """The admin imported the GP; the invitation e-mail went out. Returns (world, link)."""
    client = as_user(centre.admin)
    response = upload(client, centre, FRENCH.splitlines()[0] + "\n" + FRENCH.splitlines()[1])
    assert report_of(response).ok
    assert confirm(client, centre, response).status_code == 302
    run_tasks()
    centre.invitation = Invitation.objects.get()
    return centre, link_in(mailoutbox[-1])


def accept(client, link, **changes):
    client.get(link)
    secret = client.session["onboarding_invitation_totp"]["secret"]
    data = {"password": PASSWORD, "totp_code": totp_now(secret), "terms": "on"}
    data.update(changes)
    return client.post(link, data)


# Reading the file -------------------------------------------------------------------------------


def test_a_valid_semicolon_file_in_french_is_shown_line_by_line(centre, as_user):
    response = upload(as_user(centre.admin), centre, FRENCH)
    assert response.status_code == 200
    report = report_of(response)
    assert report.ok and report.delimiter == ";" and report.encoding == "UTF-8"
    assert [line.number for line in report.lines] == [2, 3]
    assert [line.name for line in report.lines] == ["Dr Camille Rousseau", "Dr Marc Le Gall"]
    assert [line.hours_code for line in report.lines] == ["standard", "mornings"]
    assert [line.preset_code for line in report.lines] == ["medecin-generaliste", "cardiologue"]
    page = response.content.decode()
    assert 'id="line-3"' in page and 'scope="row"' in page and response.context["digest"] in page
    assert not Practitioner.objects.filter(rpps__in=[GP, CARDIO]).exists()  # nothing yet


def test_a_comma_file_with_english_headers_and_a_bom_is_read(centre, as_user):
    text = (
        "\ufeffRPPS,E-mail,Department,Opening template,Motives preset\r\n"
        f'{GP},camille.rousseau@hopital.test,"Internal medicine, ward B",long_days,\r\n'
        "\r\n"
        f'{CARDIO},MARC.LEGALL@hopital.test,,"Mornings only, Mon-Fri 8:30-12:30",Cardiologist\r\n'
    )
    report = report_of(upload(as_user(centre.admin), centre, text))
    assert report.ok, report.codes()
    assert report.delimiter == ","
    assert [line.number for line in report.lines] == [2, 4]  # the blank line still counts
    assert report.lines[0].entry.department == "Internal medicine, ward B"
    assert report.lines[1].entry.email == "marc.legall@hopital.test"
    assert report.lines[1].hours_code == "mornings" and report.lines[1].preset_code == "cardiologue"


def test_a_windows_1252_file_from_french_excel_is_read(centre, as_user):
    text = (
        f"n° RPPS;e-mail;département\r\n{GP};camille.rousseau@hopital.test;Pédiatrie générale\r\n"
    )
    report = report_of(upload(as_user(centre.admin), centre, text, encoding="cp1252"))
    assert report.ok and report.encoding == "Windows-1252"
    assert report.lines[0].entry.department == "Pédiatrie générale"
    assert report.lines[0].hours_code == "standard"  # blank: the default template


@pytest.mark.parametrize(
    "text, code",
    [
        ("\n \n", "empty"),
        ("rpps;service\n19900000011;Cardiologie\n", "missing"),
        ("rpps;email\n", "no_lines"),
        (f"{GP};camille.rousseau@hopital.test\n", "no_header"),
        ("rpps;email;horraires\n1;a@b.test;standard\n", "typo"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_and_shows_no_lines(centre, as_user, text, code):
    report = report_of(upload(as_user(centre.admin), centre, text))
    assert report.file_errors and not report.lines and not report.ok


def test_an_empty_upload_is_a_form_error(centre, as_user):
    response = upload(as_user(centre.admin), centre, "")
    assert response.context["form"].errors["file"] and response.context["report"] is None


def test_a_spreadsheet_workbook_is_refused_with_how_to_save_as_csv(centre, as_user):
    client = as_user(centre.admin)
    response = client.post(
        IMPORT,
        {
            "org": centre.organisation.pk,
            "site": centre.site.pk,
            "file": SimpleUploadedFile("equipe.xlsx", b"PK\x03\x04" + b"\0" * 200),
        },
    )
    assert "CSV" in report_of(response).file_errors[0]


def test_the_size_and_line_caps_are_enforced(centre, as_user, monkeypatch):
    client = as_user(centre.admin)
    lines = "".join(f"{valid_rpps(100 + i)};p{i}@hopital.test\n" for i in range(5))
    monkeypatch.setattr(bulk, "MAX_LINES", 4)
    report = report_of(upload(client, centre, "rpps;email\n" + lines))
    assert report.file_errors and not report.lines
    monkeypatch.setattr(bulk, "MAX_LINES", 2_000)
    monkeypatch.setattr(bulk, "MAX_BYTES", 100)
    report = report_of(upload(client, centre, "rpps;email\n" + lines))
    assert report.file_errors and "1" in report.file_errors[0]


def test_an_unknown_extra_column_is_ignored_with_a_warning(centre, as_user):
    text = f"Nom;rpps;email\nRousseau;{GP};camille.rousseau@hopital.test\n"
    report = report_of(upload(as_user(centre.admin), centre, text))
    assert report.ok and len(report.warnings) == 1 and "Nom" in report.warnings[0]


# Checking every line ----------------------------------------------------------------------------


def test_each_kind_of_error_is_reported_on_its_line_and_column(centre, as_user, django_user_model):
    wrong_check_digit = GP[:-1] + str((int(GP[-1]) + 1) % 10)
    text = "\n".join(
        [
            "rpps;email;service;horaires;motifs",
            f"{GP};camille.rousseau@hopital.test;;;",  # 2: fine
            "1990000001;a@hopital.test;;;",  # 3: ten digits
            f"{wrong_check_digit};b@hopital.test;;;",  # 4: check digit
            f"{valid_rpps(77)};c@hopital.test;;;",  # 5: not in the directory
            f"{centre.gp.rpps};d@hopital.test;;;",  # 6: already on Consulto
            f"{CARDIO};pas-une-adresse;;;",  # 7: invalid e-mail
            f"{NURSE};{centre.secretary.email.upper()};;;",  # 8: e-mail of an account
            f"{NO_SPECIALTY};e@hopital.test;;tous les jours;",  # 9: hours, and no specialty
            f"{rpps(15)};f@hopital.test;;;dentiste-du-dimanche",  # 10: motives, unknown RPPS
            f"1,99E+10;g@hopital.test;{'x' * 121};;",  # 11: scientific notation, department
            ";;;;",  # a spreadsheet's empty row: skipped
            ";;Urgences;;",  # 13: RPPS and e-mail missing
        ]
    )
    report = report_of(upload(as_user(centre.admin), centre, text))
    assert not report.ok
    assert report.codes() == [
        (3, "rpps", "rpps_format"),
        (4, "rpps", "rpps_checksum"),
        (5, "rpps", "rpps_unknown"),
        (6, "rpps", "rpps_taken"),
        (7, "email", "email_invalid"),
        (8, "email", "email_taken"),
        (9, "hours", "hours_unknown"),
        (9, "motives", "no_specialty"),
        (10, "rpps", "rpps_unknown"),
        (10, "motives", "motives_unknown"),
        (11, "rpps", "rpps_format"),
        (11, "department", "department_too_long"),
        (13, "rpps", "rpps_missing"),
        (13, "email", "email_missing"),
    ]
    scientific = next(e for e in report.lines[9].errors if e.column == "rpps")
    assert "E+10" in scientific.message and len(scientific.message) > 80  # with the hint
    assert report.lines[0].ok and report.lines[0].name == "Dr Camille Rousseau"


def test_a_blank_motives_preset_needs_a_specialty_and_a_given_one_is_enough(centre, as_user):
    text = f"rpps;email;motifs\n{NO_SPECIALTY};jp.durand@hopital.test;pediatre\n"
    report = report_of(upload(as_user(centre.admin), centre, text))
    assert report.ok
    assert report.lines[0].specialty_code == "pediatre" == report.lines[0].preset_code


def test_duplicates_in_the_file_are_flagged_on_the_later_line_naming_the_first(centre, as_user):
    text = "\n".join(
        [
            "rpps;email",
            f"{GP};camille.rousseau@hopital.test",
            f"{CARDIO};marc.legall@hopital.test",
            f"{GP};autre@hopital.test",
            f"{NURSE};Camille.Rousseau@hopital.test",
        ]
    )
    report = report_of(upload(as_user(centre.admin), centre, text))
    assert report.codes() == [(4, "rpps", "duplicate_rpps"), (5, "email", "duplicate_email")]
    assert "2" in report.lines[2].errors[0].message and "2" in report.lines[3].errors[0].message


def test_a_file_with_errors_offers_no_import_and_a_forged_confirmation_imports_nothing(
    centre, as_user
):
    client = as_user(centre.admin)
    response = upload(client, centre, FRENCH + "123;x@hopital.test;;;\n")
    assert response.context["digest"] == "" and "bulk_confirm" not in str(response.context)
    assert 'name="batch"' not in response.content.decode()
    forged = client.post(CONFIRM, {"org": centre.organisation.pk, "batch": "0" * 64})
    assert forged.status_code == 302
    assert not Invitation.objects.exists() and not Journey.objects.exists()
    assert not Practitioner.objects.filter(rpps__in=[GP, CARDIO]).exists()


def test_the_confirmation_imports_the_file_last_checked_not_an_earlier_one(centre, as_user):
    client = as_user(centre.admin)
    first = upload(client, centre, FRENCH)
    upload(client, centre, "rpps;email\n" + f"{NURSE};ines.moreau@hopital.test\n")
    stale = confirm(client, centre, first)
    assert stale.status_code == 302 and not Invitation.objects.exists()


# Importing --------------------------------------------------------------------------------------


def test_confirming_creates_agendas_invitations_and_journeys_and_emails_after_commit(
    centre, as_user, mailoutbox
):
    client = as_user(centre.admin)
    response = upload(client, centre, FRENCH)
    done = confirm(client, centre, response)
    assert done.status_code == 302 and done["Location"].endswith("#invitations")

    cardio = Practitioner.objects.get(rpps=CARDIO)
    assert (cardio.title, cardio.first_name, cardio.last_name) == ("Dr", "Marc", "Le Gall")
    assert cardio.specialty.code == "cardiologue" and not cardio.is_published
    assert cardio.rpps_status == Practitioner.RppsStatus.VALID and cardio.user is None
    agenda = Agenda.objects.get(practitioner=cardio)
    assert agenda.name == "Dr Marc Le Gall — Cardiologie"
    assert agenda.organisation == centre.organisation and agenda.site == centre.site
    assert not agenda.online_booking
    assert Opening.objects.filter(agenda=agenda).count() == 5  # mornings, Monday to Friday
    labels = list(Motive.objects.filter(agenda=agenda).values_list("label", flat=True))
    assert "Électrocardiogramme" in labels  # the cardiology preset, in the admin's French
    invitation = Invitation.objects.get(practitioner=cardio)
    assert invitation.email == "marc.legall@hopital.test" and invitation.invited_by == centre.admin
    assert invitation.expires_at - timezone.now() > timedelta(days=13, hours=23)
    journey = invitation.journey
    assert journey.kind == Journey.Kind.INVITED and journey.in_directory and journey.user is None
    assert journey.agenda == agenda and journey.practitioner == cardio and journey.rpps == CARDIO

    # The e-mails leave from the task worker, after the commit: one task per invitation.
    invitation_tasks = DBTaskResult.objects.exclude(task_path__endswith="refresh_availability")
    assert mailoutbox == [] and invitation_tasks.count() == 2
    assert Invitation.objects.filter(sent_at__isnull=True).count() == 2
    assert run_tasks() == ["sent", "sent"]
    assert sorted(m.to[0] for m in mailoutbox) == [
        "camille.rousseau@hopital.test",
        "marc.legall@hopital.test",
    ]
    assert not Invitation.objects.filter(sent_at__isnull=True).exists()
    message = next(m for m in mailoutbox if m.to == ["marc.legall@hopital.test"])
    link = link_in(message)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation.refresh_from_db()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(DBTaskResult.objects.values_list("args_kwargs", flat=True))
    assert "Cabinet des Lilas" in message.subject
    assert Client().get(link).status_code == 200

    page = client.get(IMPORT).content.decode()
    assert "marc.legall@hopital.test" in page and "Dr Marc Le Gall" in page
    assert run_tasks() == []  # a replayed task sends nothing twice


def _import_three(centre):
    text = FRENCH + f"{NURSE};ines.moreau@hopital.test;Urgences;;\n"
    report = bulk_check.check_file(csv_upload(text), organisation=centre.organisation)
    assert report.ok
    return bulk_import.import_practitioners(
        user=centre.admin,
        organisation=centre.organisation,
        site=centre.site,
        entries=[line.entry for line in report.lines],
        base_url="http://testserver",
    )


def _nothing_left(centre, mailoutbox):
    assert not Practitioner.objects.filter(rpps__in=[GP, CARDIO, NURSE]).exists()
    assert Agenda.objects.filter(organisation=centre.organisation).count() == 2  # as before
    assert not Motive.objects.filter(agenda__practitioner__rpps__in=[GP, CARDIO, NURSE]).exists()
    assert not Invitation.objects.exists() and not Journey.objects.exists()
    assert not DBTaskResult.objects.exists() and mailoutbox == []


def test_a_database_failure_on_the_third_line_leaves_no_row_and_no_email(
    centre, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    made = []
    original = bulk_import.unknown_token_hash

    def same_as_the_first_on_the_third_line():
        made.append(original() if len(made) != 2 else made[0])
        return made[-1]

    monkeypatch.setattr(bulk_import, "unknown_token_hash", same_as_the_first_on_the_third_line)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(bulk_import.ImportRejected),
    ):
        _import_three(centre)
    assert len(made) == 3 and callbacks == []
    _nothing_left(centre, mailoutbox)


def test_a_crash_after_most_rows_were_written_leaves_no_row_and_no_email(
    centre, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    def crash(objs, **kwargs):
        assert Invitation.objects.count() == 3  # everything else is written by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(Journey.objects, "bulk_create", crash)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        _import_three(centre)
    assert callbacks == []
    _nothing_left(centre, mailoutbox)


def test_a_line_taken_between_the_check_and_the_confirmation_rejects_the_whole_file(
    centre, as_user, mailoutbox
):
    client = as_user(centre.admin)
    response = upload(client, centre, FRENCH)
    # Meanwhile the cardiologist signed up by himself.
    Practitioner.objects.create(
        first_name="Marc", last_name="Le Gall", rpps=CARDIO, specialty=centre.gp.specialty
    )
    rejected = confirm(client, centre, response)
    assert rejected.status_code == 409
    assert report_of(rejected).codes() == [(3, "rpps", "rpps_taken")]
    assert not Practitioner.objects.filter(rpps=GP).exists() and not Invitation.objects.exists()
    assert not DBTaskResult.objects.exists() and mailoutbox == []


def test_an_invitation_whose_email_failed_shows_as_not_sent_and_can_be_sent_again(
    centre, as_user, monkeypatch
):
    client = as_user(centre.admin)
    confirm(client, centre, upload(client, centre, FRENCH))

    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", smtp_down)
    assert run_tasks() == ["sent", "sent"]  # written to the outbox, whose first try failed
    rows = invitations.rows(Invitation.objects.all())
    assert {row.status for row in rows} == {"sending"}
    later = timezone.now()
    for _attempt in range(4):  # retried after 1, 4, 16 and 64 minutes, then given up
        later += timedelta(minutes=65)
        notifications.deliver_due(now=later)
    rows = invitations.rows(Invitation.objects.all(), now=later)
    assert {row.status for row in rows} == {"not_sent"}
    assert all(row.can_resend for row in rows)
    assert set(Message.objects.values_list("body", flat=True)) == {""}  # the links are erased


def test_importing_the_same_file_again_says_they_were_invited_already(invited, as_user):
    world, _link = invited
    report = report_of(upload(as_user(world.admin), world, FRENCH))
    assert report.codes() == [(2, "rpps", "rpps_invited"), (2, "email", "email_invited")]


# Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, status",
    [
        ("admin", 200),
        ("outsider", 404),
        ("secretary", 403),
        ("gp_user", 403),
        ("patient_user", 403),
    ],
)
def test_only_the_organisation_admins_may_import(centre, as_user, who, status):
    client = as_user(getattr(centre, who))
    url = f"{IMPORT}?org={centre.organisation.pk}"
    assert client.get(url).status_code == status
    assert (
        client.get(f"/pro/equipe/importer/exemple.csv?org={centre.organisation.pk}").status_code
        == status
    )
    response = upload(client, centre, FRENCH)
    assert response.status_code == status


def test_an_admin_without_org_sees_their_own_organisation_only(centre, as_user):
    response = as_user(centre.outsider).get(IMPORT)
    assert response.status_code == 200 and response.context["organisation"] == centre.other_org
    # The centre's site cannot be chosen by another organisation's admin.
    response = as_user(centre.outsider).post(
        IMPORT, {"site": centre.site.pk, "file": csv_upload(FRENCH)}
    )
    assert response.context["form"].errors["site"]


def test_logged_out_goes_to_the_login_page(centre, client):
    response = client.get(IMPORT)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_organisations_admin_cannot_resend_an_invitation(invited, as_user):
    world, _link = invited
    url = f"/pro/equipe/invitations/{world.invitation.pk}/renvoyer/"
    assert as_user(world.outsider).post(url).status_code == 404
    assert as_user(world.secretary).post(url).status_code == 403


def test_the_example_file_opens_in_french_excel(centre, as_user):
    response = as_user(centre.admin).get("/pro/equipe/importer/exemple.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffrpps;email;service;horaires;motifs\r\n")
    assert len(text.strip().splitlines()) == 3


def test_the_example_file_passes_the_check_when_the_directory_has_the_sample(centre, as_user):
    from consulto.directory.sample import SAMPLE_CARDIOLOGIST_RPPS, SAMPLE_GP_RPPS

    _record(SAMPLE_GP_RPPS, "JULIE", "BERNARDIN", "medecin-generaliste")
    _record(SAMPLE_CARDIOLOGIST_RPPS, "MARC", "LEGRAND", "cardiologue")
    client = as_user(centre.admin)
    example = client.get("/pro/equipe/importer/exemple.csv").content.decode("utf-8")
    report = report_of(upload(client, centre, example))
    assert report.ok, report.codes()


def test_the_team_page_links_to_the_import(centre, as_user):
    page = as_user(centre.admin).get("/pro/equipe/").content.decode()
    assert f"/pro/equipe/importer/?org={centre.organisation.pk}" in page


# The invitee ------------------------------------------------------------------------------------


def test_an_invitee_goes_from_the_email_to_a_bookable_agenda(invited):
    world, link = invited
    invitee = Client()
    page = invitee.get(link)
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        "Cabinet des Lilas" in text and "Dr Camille Rousseau" in text and "Médecine interne" in text
    )
    journey = world.invitation.journey
    assert StepRecord.objects.get(journey=journey, step=Step.ACCOUNT).finished_at is None

    response = accept(invitee, link)
    assert response.status_code == 302 and response["Location"] == "/pro/demarrage/video/"
    journey.refresh_from_db()
    user = journey.user
    assert user.email == "camille.rousseau@hopital.test" and user.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert journey.practitioner.user == user
    assert Membership.objects.filter(
        user=user, organisation=world.organisation, role=Membership.Role.PRACTITIONER
    ).exists()
    assert not Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
    world.invitation.refresh_from_db()
    assert world.invitation.accepted_at is not None
    finished = set(
        StepRecord.objects.filter(journey=journey, finished_at__isnull=False).values_list(
            "step", flat=True
        )
    )
    assert finished == {Step.ACCOUNT, Step.SECURITY, Step.IDENTITY, Step.SCHEDULE}
    assert journey.step == Step.VIDEO

    # Logged in: the video test, then publishing.
    assert invitee.get("/pro/demarrage/video/").status_code == 200
    response = invitee.post(
        "/pro/demarrage/video/", {"enabled": "on", "camera": "true", "microphone": "true"}
    )
    assert response["Location"] == "/pro/demarrage/publier/"
    assert invitee.get("/pro/demarrage/publier/").status_code == 200
    assert invitee.post("/pro/demarrage/publier/")["Location"] == "/pro/"
    journey.refresh_from_db()
    assert journey.done
    assert journey.practitioner in practitioners_matching(specialty="medecin-generaliste")
    agenda = Agenda.objects.get(pk=journey.agenda_id)
    assert agenda.online_booking and agenda.name == "Dr Camille Rousseau — Médecine interne"

    motive = Motive.objects.filter(agenda=agenda, mode=Motive.Mode.IN_PERSON).first()
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    start = timezone.make_aware(datetime.combine(monday, datetime.min.time()).replace(hour=9))
    patient = PatientProfile.objects.create(
        first_name="Jean", last_name="Patient", birth_date="1970-01-01"
    )
    booked = booking.book(
        agenda=agenda, motive=motive, start=start, patient=patient, booked_by=world.patient_user
    )
    assert booked.pk
    rows = invitations.rows(Invitation.objects.filter(pk=world.invitation.pk))
    assert rows[0].status == "published" and not rows[0].can_resend


def test_a_wrong_authenticator_code_or_a_weak_password_creates_nothing(invited):
    _world, link = invited
    invitee = Client()
    assert accept(invitee, link, totp_code="000000").status_code == 200
    assert accept(invitee, link, password="camille").status_code == 200
    response = accept(invitee, link, terms="")
    assert response.context["form"].errors["terms"]
    assert not EmailAddress.objects.filter(email="camille.rousseau@hopital.test").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_used_invitation_is_refused(invited):
    _world, link = invited
    assert accept(Client(), link).status_code == 302
    again = Client()
    assert again.get(link).status_code == 410
    assert again.post(link, {"password": PASSWORD, "totp_code": "123456"}).status_code == 410


def test_an_expired_invitation_is_gone_and_an_unknown_one_not_found(invited):
    world, link = invited
    Invitation.objects.filter(pk=world.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = Client().get(link)
    assert response.status_code == 410 and "Cabinet des Lilas" in response.content.decode()
    assert Client().get("/pro/invitation/not-a-real-token/").status_code == 404
    rows = invitations.rows(Invitation.objects.all())
    assert rows[0].status == "expired" and rows[0].can_resend


def test_resending_kills_the_old_link_and_sends_a_new_one(invited, as_user, mailoutbox):
    world, old_link = invited
    Invitation.objects.filter(pk=world.invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    client = as_user(world.admin)
    response = client.post(f"/pro/equipe/invitations/{world.invitation.pk}/renvoyer/")
    assert response.status_code == 302
    assert Client().get(old_link).status_code == 404  # dead at once, before the new e-mail
    assert run_tasks() == ["sent"]
    new_link = link_in(mailoutbox[-1])
    assert new_link != old_link and len(mailoutbox) == 2
    assert Client().get(new_link).status_code == 200
    assert Client().get(old_link).status_code == 404
    world.invitation.refresh_from_db()
    assert world.invitation.expires_at > timezone.now() + timedelta(days=13)
    assert accept(Client(), new_link).status_code == 302


def test_an_email_that_got_an_account_meanwhile_is_refused_clearly(invited, django_user_model):
    _world, link = invited
    django_user_model.objects.create_user(email="camille.rousseau@hopital.test", password="x" * 12)
    invitee = Client()
    page = invitee.get(link)
    assert page.context["taken"] and 'name="password"' not in page.content.decode()
    response = accept(invitee, link)
    assert response.status_code == 200
    assert django_user_model.objects.filter(email="camille.rousseau@hopital.test").count() == 1
    assert Invitation.objects.get().accepted_at is None


def test_an_invited_practitioner_edits_only_their_own_identity(invited):
    world, link = invited
    invitee = Client()
    accept(invitee, link)
    page = invitee.get("/pro/demarrage/identite/")
    assert page.status_code == 200
    form = page.context["form"]
    assert "practice_name" not in form.fields and "postcode" not in form.fields
    assert "Cabinet des Lilas" in page.content.decode()
    response = invitee.post(
        "/pro/demarrage/identite/",
        identity_data(first_name="Camille-Anne", practice_name="Mon cabinet", postcode="13001"),
    )
    assert response.status_code == 302
    site = Site.objects.get(pk=world.site.pk)
    assert (site.name, site.postcode) == ("Cabinet des Lilas", "75019")
    practitioner = Practitioner.objects.get(rpps=GP)
    assert practitioner.first_name == "Camille-Anne"
    agenda = Agenda.objects.get(practitioner=practitioner)
    assert agenda.name == "Dr Camille-Anne Rousseau — Médecine interne"
    assert agenda.site == world.site
