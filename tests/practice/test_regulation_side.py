"""The practitioner's side of regulation: who sees each opening (settings and preview), extra
patients for the SAS, the referral mark in the agenda, and the SAS participation on the
dashboard (chart, table, CSV)."""

import csv
import io
from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from consulto.core.crypto import encrypt_text
from consulto.core.models import AuditEvent
from consulto.directory.models import Organisation, Practitioner
from consulto.practice import selectors, stats
from consulto.scheduling.models import Appointment, Opening, Referral
from tests.conftest import PARIS, at, next_weekday

pytestmark = pytest.mark.django_db
Status, Channel = Appointment.Status, Appointment.Channel


def url(name, *args):
    with translation.override("en"):
        return reverse(f"practice:{name}", args=args)


def appointment(w, start, *, status=Status.BOOKED, channel=Channel.PRACTITIONER, agenda=None):
    agenda = agenda or w.agenda
    motive = w.follow_up if agenda == w.agenda else w.motive2
    return Appointment.objects.create(
        agenda=agenda,
        motive=motive,
        patient=w.profile,
        start=start,
        end=start + timedelta(minutes=15),
        status=status,
        channel=channel,
    )


def refer(appt, *, kind=Referral.Kind.REGULATION, label="SAMU 75", reason="Fièvre 39 °C"):
    return Referral.objects.create(
        appointment=appt,
        kind=kind,
        referrer_label=label,
        reason=encrypt_text(reason) if reason else "",
        urgency=Referral.Urgency.TWO_DAYS,
    )


# Who sees each opening ----------------------------------------------------------------------------


def opening_data(w, **changes):
    data = {
        "weekday": 5,
        "start_time": "09:00",
        "end_time": "12:00",
        "every_weeks": 1,
        "valid_from": str(next_weekday(5, weeks_ahead=0)),
        "valid_until": "",
        "site": w.site.pk,
        "visibility": "snp",
        "motives": [w.first.pk],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_an_opening_is_created_for_regulation_only_and_listed_as_such(practice, as_user):
    w = practice
    client = as_user(w.gp_user)
    response = client.post(url("settings_opening_new", w.agenda.pk), opening_data(w))
    assert response.status_code == 302
    opening = Opening.objects.get(agenda=w.agenda, weekday=5)
    assert opening.visibility == Opening.Visibility.REGULATION
    page = client.get(url("settings_agenda", w.agenda.pk)).content.decode()
    assert "Regulation only (unscheduled care, SAS)" in page


def test_the_opening_form_offers_a_cpts_opening_and_keeps_it(practice, as_user):
    w = practice
    client = as_user(w.gp_user)
    with translation.override("en"):
        path = reverse("practice:settings_opening_new", args=[w.agenda.pk])
    form = client.get(path).context["form"]
    assert ("cpts", "CPTS members and regulation (SAS)") in list(form.fields["visibility"].choices)
    page = client.get(path).content.decode()
    assert 'value="cpts"' in page and "CPTS members and regulation (SAS)" in page
    response = client.post(path, opening_data(w, visibility="cpts"))
    assert response.status_code == 302
    opening = Opening.objects.get(agenda=w.agenda, weekday=5)
    assert opening.visibility == Opening.Visibility.CPTS
    page = client.get(url("settings_agenda", w.agenda.pk)).content.decode()
    assert "CPTS members and regulation (SAS)" in page


@pytest.mark.parametrize("bad", ["everyone", "\x00", "pro" * 50, "9" * 40])
def test_a_bad_visibility_is_a_form_error_in_french(practice, as_user, bad):
    w = practice
    client = as_user(w.gp_user)
    with translation.override("fr"):
        path = reverse("practice:settings_opening_new", args=[w.agenda.pk])
    response = client.post(path, opening_data(w, visibility=bad))
    assert response.status_code == 200
    assert response.context["form"].errors["visibility"]
    assert not Opening.objects.filter(agenda=w.agenda, weekday=5).exists()


def test_the_preview_shows_each_audiences_view(practice, as_user):
    w = practice
    saturday = next_weekday(5)
    client = as_user(w.gp_user)
    for vis, hour in (("pro", 9), ("snp", 10), ("known", 11), ("cpts", 12)):
        opening = Opening.objects.create(
            agenda=w.agenda,
            site=w.site,
            weekday=5,
            start_time=time(hour),
            end_time=time(hour, 30),
            valid_from=saturday - timedelta(days=7),
            visibility=vis,
        )
        opening.motives.set([w.first])

    def times(audience):
        response = client.get(
            url("settings_preview", w.agenda.pk), {"du": saturday.isoformat(), "pour": audience}
        )
        assert response.status_code == 200
        preview = response.context["preview"]
        assert preview.audience == (audience if audience != "nobody" else "public")
        item = next(i for i in preview.motives if i.motive == w.first)
        return [
            s.start.astimezone(PARIS).strftime("%H:%M")
            for d, slots in item.days
            if d == saturday
            for s in slots
        ]

    assert times("public") == []
    assert times("known") == ["11:00"]
    assert times("pro") == ["09:00"]
    assert times("cpts") == ["09:00", "12:00"]
    assert times("regulator") == ["09:00", "10:00", "12:00"]
    assert times("nobody") == []  # an unknown audience is the public's


def test_the_preview_selector_is_on_the_settings_page(practice, as_user):
    w = practice
    page = as_user(w.gp_user).get(url("settings_agenda", w.agenda.pk)).content.decode()
    assert 'name="pour"' in page
    for value in ("public", "known", "pro", "cpts", "regulator"):
        assert f'value="{value}"' in page


# Extra patients -----------------------------------------------------------------------------------


def extra_data(**changes):
    data = {
        "sas-takes_extra_patients": "on",
        "sas-regulation_phone": "01 23 45 67 89",
        "sas-extra_patients_weekly_cap": "3",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_practitioner_accepts_extra_patients_with_a_phone_and_a_cap(practice, as_user):
    w = practice
    response = as_user(w.gp_user).post(url("settings_regulation", w.agenda.pk), extra_data())
    assert response.status_code == 302 and response.url.endswith("#regulation")
    gp = Practitioner.objects.get(pk=w.gp.pk)
    assert gp.takes_extra_patients is True
    assert gp.regulation_phone == "+33123456789"
    assert gp.extra_patients_weekly_cap == 3
    assert AuditEvent.objects.filter(
        actor=w.gp_user, target_type="practitioner", target_id=str(gp.pk), action="update"
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field", "french"),
    [
        ({"sas-regulation_phone": ""}, "regulation_phone", "numéro"),
        ({"sas-regulation_phone": "12"}, "regulation_phone", "01 23 45 67 89"),
        ({"sas-regulation_phone": "\x00"}, "regulation_phone", None),
        ({"sas-extra_patients_weekly_cap": "0"}, "extra_patients_weekly_cap", "1 à 100"),
        ({"sas-extra_patients_weekly_cap": "101"}, "extra_patients_weekly_cap", "1 à 100"),
        ({"sas-extra_patients_weekly_cap": "9" * 30}, "extra_patients_weekly_cap", "1 à 100"),
        ({"sas-extra_patients_weekly_cap": "deux"}, "extra_patients_weekly_cap", "1 à 100"),
    ],
    ids=["no-phone", "short-phone", "nul-byte", "cap-0", "cap-101", "cap-huge", "cap-text"],
)
def test_bad_extra_patients_settings_are_form_errors(practice, as_user, changes, field, french):
    w = practice
    with translation.override("fr"):
        path = reverse("practice:settings_regulation", args=[w.agenda.pk])
    response = as_user(w.gp_user).post(path, extra_data(**changes))
    assert response.status_code == 200
    errors = response.context["extra_form"].errors
    assert field in errors
    if french and translation.get_language_info("fr") and _catalogue_has_french():
        assert french in " ".join(errors[field])
    assert Practitioner.objects.get(pk=w.gp.pk).takes_extra_patients is False


def _catalogue_has_french() -> bool:
    """The French of new messages is added by tools/translate.py when the branch is merged."""
    with translation.override("fr"):
        return translation.gettext("Enter a whole number from 1 to 100.") != (
            "Enter a whole number from 1 to 100."
        )


def test_a_secretary_may_not_set_extra_patients(practice, as_user):
    w = practice
    response = as_user(w.secretary).post(url("settings_regulation", w.agenda.pk), extra_data())
    assert response.status_code == 403
    response = as_user(w.outsider).post(url("settings_regulation", w.agenda.pk), extra_data())
    assert response.status_code == 404


# The referral mark in the agenda ------------------------------------------------------------------


def test_a_referred_appointment_is_marked_in_the_agenda_and_the_day_list(practice, as_user):
    w = practice
    day = w.monday
    referred = appointment(w, at(day, 9))
    refer(referred)
    other = appointment(w, at(day, 10))
    refer(other, kind=Referral.Kind.PRACTITIONER, label="Dr Anne Parc")
    appointment(w, at(day, 11))  # booked by the practice itself
    client = as_user(w.gp_user)
    with translation.override("fr"):
        data = selectors.agenda_events(agendas=[w.agenda], start=day, end=day + timedelta(days=1))
    events = {e["id"]: e for e in data[str(w.agenda.pk)]["events"]}
    assert events[str(referred.pk)]["extendedProps"]["referral"].endswith("SAMU 75")
    assert "referred" in events[str(referred.pk)]["classNames"]
    assert events[str(other.pk)]["extendedProps"]["referral"].endswith("Dr Anne Parc")
    marks = [e["extendedProps"]["referral"] for e in events.values()]
    assert marks.count("") == 1
    with translation.override("en"):
        page = client.get(
            reverse("practice:agenda"), {"date": day.isoformat(), "agendas": w.agenda.pk}
        )
    html = page.content.decode()
    assert "Referred by SAMU 75" in html and "Referred by Dr Anne Parc" in html


def test_the_agenda_loads_referrals_without_a_query_each(practice):
    w = practice
    day = w.monday
    for hour in (9, 10):
        refer(appointment(w, at(day, hour)))
    with CaptureQueriesContext(connection) as two:
        selectors.agenda_events(agendas=[w.agenda], start=day, end=day + timedelta(days=1))
        selectors.day_appointments(agendas=[w.agenda], day=day)
    for hour in (11, 14, 15, 16):
        refer(appointment(w, at(day, hour)))
    with CaptureQueriesContext(connection) as six:
        selectors.agenda_events(agendas=[w.agenda], start=day, end=day + timedelta(days=1))
        rows = selectors.day_appointments(agendas=[w.agenda], day=day)
    assert len(six) == len(two)
    assert sum(1 for r in rows[0][1] if r.referral) == 6


def test_the_appointment_page_shows_the_reason_and_audits_the_read(practice, as_user):
    w = practice
    referred = appointment(w, at(w.monday, 9))
    referral = refer(referred, reason="Douleur thoracique depuis hier")
    with translation.override("en"):
        path = reverse("practice:appointment", args=[referred.pk])
    page = as_user(w.gp_user).get(path).content.decode()
    assert "Douleur thoracique depuis hier" in page
    assert "Within 48 hours" in page and "Referred by SAMU 75" in page
    assert "Douleur" not in Referral.objects.get(pk=referral.pk).reason  # encrypted at rest
    read = AuditEvent.objects.get(target_type="referral", target_id=str(referral.pk))
    assert read.actor == w.gp_user and read.action == "read"
    assert read.organisation_id == w.organisation.pk
    assert read.patient_file_id == w.file.pk


def test_only_staff_who_may_see_the_agenda_read_the_reason(practice, as_user):
    w = practice
    referred = appointment(w, at(w.monday, 9))
    refer(referred, reason="Motif confidentiel")
    path = reverse("practice:appointment", args=[referred.pk])
    assert as_user(w.gp2_user).get(path).status_code == 403  # another GP's agenda
    assert as_user(w.outsider).get(path).status_code == 404
    assert not AuditEvent.objects.filter(target_type="referral").exists()


# SAS participation on the dashboard ---------------------------------------------------------------


@pytest.fixture
def sas_weeks(practice):
    """Over the last two weeks: 3 consultations through regulation last week (one by the
    regulator's channel, two with a regulation referral), one cancelled and one referred by a
    practitioner (not counted); 1 this week."""
    w = practice
    today = date.today()
    w.last_monday = today - timedelta(days=today.weekday() + 7)
    w.this_monday = w.last_monday + timedelta(days=7)
    appointment(w, at(w.last_monday, 9), status=Status.SEEN, channel=Channel.REGULATOR)
    refer(appointment(w, at(w.last_monday, 10), status=Status.SEEN))
    refer(appointment(w, at(w.last_monday + timedelta(days=2), 9), status=Status.NO_SHOW))
    refer(appointment(w, at(w.last_monday + timedelta(days=3), 9), status=Status.CANCELLED))
    refer(
        appointment(w, at(w.last_monday + timedelta(days=4), 9), status=Status.SEEN),
        kind=Referral.Kind.PRACTITIONER,
        label="Dr Anne Parc",
    )
    refer(appointment(w, at(w.this_monday, 9), status=Status.SEEN))
    return w


def test_the_dashboard_counts_consultations_through_regulation_per_week(sas_weeks, as_user):
    w = sas_weeks
    response = as_user(w.gp_user).get(url("dashboard"))
    assert response.status_code == 200
    board = response.context["board"]
    by_week = {week.start: week.consultations for week in board.sas_weeks}
    assert len(board.sas_weeks) == 12
    assert by_week[w.last_monday] == 3
    assert by_week[w.this_monday] == 1
    assert board.sas_total == 4
    html = response.content.decode()
    assert 'id="chart-sas-title"' in html and 'stroke-dasharray="6 3"' in html


def test_the_paid_ceiling_is_twenty_a_week(practice):
    w = practice
    today = date.today()
    monday = today - timedelta(days=today.weekday() + 7)
    for n in range(22):
        start = at(monday, 8) + timedelta(minutes=15 * n)
        appointment(w, start, status=Status.SEEN, channel=Channel.REGULATOR)
    board = stats.dashboard(user=w.gp_user)
    week = next(x for x in board.sas_weeks if x.start == monday)
    assert (week.consultations, week.paid, week.beyond_ceiling) == (22, 20, 2)


def test_the_csv_export_lists_each_consultation_then_the_weekly_totals(sas_weeks, as_user):
    w = sas_weeks
    response = as_user(w.gp_user).get(url("dashboard_sas_csv"), {"org": w.organisation.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="consulto-sas-')
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    consultations = rows[1 : rows.index([])]
    assert len(consultations) == 4
    first = consultations[0]
    assert first[0] == w.last_monday.strftime("%d/%m/%Y") and first[1] == "09:00"
    assert first[2] == "Jeanne Petit"
    assert [r[4] for r in consultations].count("SAMU 75") == 3
    totals = rows[rows.index([]) + 2 :]
    assert totals[-1][1:] == ["4", "4"]
    event = AuditEvent.objects.get(target_type="sas_export")
    assert event.actor == w.gp_user and event.action == "download"
    assert event.organisation_id == w.organisation.pk


def test_the_csv_neutralises_formulas_in_names(sas_weeks, as_user):
    w = sas_weeks
    w.profile.last_name = "=HYPERLINK(1)"
    w.profile.save()
    response = as_user(w.gp_user).get(url("dashboard_sas_csv"))
    text = response.content.decode("utf-8-sig")
    assert "Jeanne =HYPERLINK" in text  # starts with the first name: harmless
    assert ";=" not in text


def test_a_secretary_has_no_sas_export(sas_weeks, as_user):
    assert as_user(sas_weeks.secretary).get(url("dashboard_sas_csv")).status_code == 403
    assert not AuditEvent.objects.filter(target_type="sas_export").exists()


def test_an_organisation_outside_yours_is_not_exported(sas_weeks, as_user):
    w = sas_weeks
    other = Organisation.objects.get(pk=w.other_org.pk)
    response = as_user(w.gp_user).get(url("dashboard_sas_csv"), {"org": other.pk})
    assert response.status_code == 404
