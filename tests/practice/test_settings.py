"""Agenda settings of the practice space: motives, openings, absences, reminders, policy, and the
preview of what patients are offered."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from consulto.notifications.models import ReminderSettings
from consulto.practice.models import PracticePolicy
from consulto.scheduling.models import Absence, Appointment, Motive, Opening
from tests.conftest import PARIS, at, next_weekday

pytestmark = pytest.mark.django_db


def url(name, *args):
    """English pages (/en/pro/...): the assertions read the messages as written in the code."""
    with translation.override("en"):
        return reverse(f"practice:{name}", args=args)


def slot_times(response, label, day):
    """The start times the preview offers for that motive on that day."""
    item = next(i for i in response.context["preview"].motives if i.motive.label == label)
    return [
        s.start.astimezone(PARIS).strftime("%H:%M")
        for d, slots in item.days
        if d == day
        for s in slots
    ]


def opening_data(p, **changes):
    data = {
        "weekday": 5,
        "start_time": "09:00",
        "end_time": "12:00",
        "every_weeks": 1,
        "valid_from": str(next_weekday(5, weeks_ahead=0)),
        "valid_until": "",
        "site": p.site.pk,
        "motives": [p.first.pk],
    }
    data.update(changes)
    return data


def motive_data(motive, **changes):
    data = {
        "label": motive.label,
        "duration_minutes": motive.duration_minutes,
        "mode": motive.mode,
        "online": "on" if motive.online else "",
        "open_to_new_patients": "on" if motive.open_to_new_patients else "",
        "instructions": motive.instructions,
        "min_notice_minutes": motive.min_notice_minutes,
        "max_advance_days": motive.max_advance_days,
        "cancellation_deadline_hours": motive.cancellation_deadline_hours,
        "colour": motive.colour,
        "position": motive.position,
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


# Who may configure what ---------------------------------------------------------------------------


def every_url(p):
    """(method, url, data) of every settings page and action on the centre's GP agenda."""
    a = p.agenda.pk
    absence = Absence.objects.create(
        agenda=p.agenda, start=at(p.monday, 9), end=at(p.monday, 10), reason="Formation"
    )
    opening = p.agenda.openings.first()
    return [
        ("get", url("settings_agenda", a), {}),
        ("get", url("settings_preview", a), {}),
        ("get", url("settings_motive_new", a), {}),
        ("post", url("settings_motive_new", a), motive_data(p.first, label="Nouveau")),
        ("get", url("settings_motive", a, p.first.pk), {}),
        ("post", url("settings_motive", a, p.first.pk), motive_data(p.first, label="Changé")),
        ("get", url("settings_motive_delete", a, p.first.pk), {}),
        ("post", url("settings_motive_delete", a, p.first.pk), {}),
        ("get", url("settings_opening_new", a), {}),
        ("post", url("settings_opening_new", a), opening_data(p)),
        ("get", url("settings_opening", a, opening.pk), {}),
        ("post", url("settings_opening", a, opening.pk), opening_data(p)),
        ("get", url("settings_opening_delete", a, opening.pk), {}),
        ("post", url("settings_opening_delete", a, opening.pk), {}),
        ("get", url("settings_absence_new", a), {}),
        (
            "post",
            url("settings_absence_new", a),
            {"start_date": str(p.monday), "end_date": str(p.monday)},
        ),
        ("get", url("settings_absence_delete", a, absence.pk), {}),
        ("post", url("settings_absence_delete", a, absence.pk), {}),
        ("post", url("settings_reminders", a), {"email_1d": "on"}),
        (
            "post",
            url("settings_policy", p.organisation.pk),
            {f"org{p.organisation.pk}-no_show_limit": "2"},
        ),
    ]


def assert_nothing_changed(p):
    assert p.agenda.motives.count() == 3
    assert Motive.objects.get(pk=p.first.pk).label == "Première consultation"
    assert p.agenda.openings.count() == 10
    assert Absence.objects.filter(agenda=p.agenda).count() == 1
    assert not ReminderSettings.objects.exists()
    assert not PracticePolicy.objects.exists()


def test_a_secretary_may_not_open_or_change_any_setting_but_absences(practice, as_user):
    client = as_user(practice.secretary)
    for method, address, data in every_url(practice):
        if "/absences/" not in address:
            assert getattr(client, method)(address, data).status_code == 403, (method, address)
    assert_nothing_changed(practice)
    # The home page only offers the absences of the agendas she works on.
    page = client.get(url("settings_home")).content.decode()
    assert f'href="{url("settings_absences", practice.agenda.pk)}"' in page
    assert f'href="{url("settings_agenda", practice.agenda.pk)}"' not in page


def _no_secretary_absences(p):
    PracticePolicy.objects.create(organisation=p.organisation, secretaries_manage_absences=False)


def test_a_secretary_manages_the_absences_of_her_agendas_when_the_organisation_allows_it(
    practice, as_user
):
    p = practice
    client = as_user(p.secretary)
    page = client.get(url("settings_absences", p.agenda.pk))
    assert page.status_code == 200 and "New absence" in page.content.decode()
    tuesday = p.monday + timedelta(days=1)
    response = client.post(
        url("settings_absence_new", p.agenda.pk),
        {"start_date": str(tuesday), "end_date": str(tuesday), "reason": "Congrès"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("settings_absences", p.agenda.pk)
    absence = Absence.objects.get(agenda=p.agenda, reason="Congrès")
    assert client.post(url("settings_absence_delete", p.agenda.pk, absence.pk)).status_code == 302
    assert not Absence.objects.filter(pk=absence.pk).exists()
    # Not on an agenda she is not assigned to.
    assert client.get(url("settings_absences", p.agenda2.pk)).status_code == 403
    # An admin or the practitioner land on the agenda's whole settings page.
    gp_page = as_user(p.gp_user).get(url("settings_absences", p.agenda.pk))
    assert gp_page["Location"].endswith(url("settings_agenda", p.agenda.pk) + "#absences")


def test_when_the_organisation_forbids_it_a_secretary_manages_no_absence(practice, as_user):
    p = practice
    _no_secretary_absences(p)
    client = as_user(p.secretary)
    assert client.get(url("settings_home")).status_code == 403
    assert client.get(url("settings_absences", p.agenda.pk)).status_code == 403
    tuesday = str(p.monday + timedelta(days=1))
    data = {"start_date": tuesday, "end_date": tuesday}
    assert client.post(url("settings_absence_new", p.agenda.pk), data).status_code == 403
    block = reverse("practice:block", args=[p.agenda.pk])
    assert client.get(block).status_code == 403
    block_data = {"start_date": tuesday, "start_time": "12:00", "end_date": tuesday,
                  "end_time": "13:00"}  # fmt: skip
    assert client.post(block, block_data).status_code == 403
    assert not Absence.objects.exists()
    agenda_page = client.get(reverse("practice:agenda")).content.decode()
    assert block not in agenda_page and reverse("practice:settings_home") not in agenda_page
    # Her agenda itself is unchanged: she still books, moves and cancels.
    assert client.get(reverse("practice:appointment_new")).status_code == 200


def test_an_admin_toggles_the_secretaries_right_to_manage_absences(practice, as_user):
    p = practice
    client = as_user(p.admin)
    prefix = f"org{p.organisation.pk}"
    page = client.get(url("settings_home")).content.decode()
    assert f'name="{prefix}-secretaries_manage_absences"' in page and "checked" in page
    response = client.post(
        url("settings_policy", p.organisation.pk), {f"{prefix}-no_show_limit": ""}
    )
    assert response.status_code == 302
    assert not PracticePolicy.objects.get(organisation=p.organisation).secretaries_manage_absences
    assert as_user(p.secretary).get(url("settings_absences", p.agenda.pk)).status_code == 403
    client = as_user(p.admin)
    client.post(
        url("settings_policy", p.organisation.pk),
        {f"{prefix}-no_show_limit": "", f"{prefix}-secretaries_manage_absences": "on"},
    )
    assert PracticePolicy.objects.get(organisation=p.organisation).secretaries_manage_absences
    assert as_user(p.secretary).get(url("settings_absences", p.agenda.pk)).status_code == 200


def test_another_organisation_does_not_even_see_the_settings_exist(practice, as_user):
    client = as_user(practice.outsider)
    for method, address, data in every_url(practice):
        assert getattr(client, method)(address, data).status_code == 404, (method, address)
    assert_nothing_changed(practice)


def test_a_practitioner_may_not_configure_a_colleagues_agenda(practice, as_user):
    client = as_user(practice.gp2_user)
    for method, address, data in every_url(practice):
        if "politique" not in address:
            assert getattr(client, method)(address, data).status_code == 403, (method, address)
    assert_nothing_changed(practice)


def test_a_practitioner_lists_their_agendas_and_an_admin_all_with_the_policy(practice, as_user):
    page = as_user(practice.gp_user).get(url("settings_home"))
    assert page.status_code == 200
    assert "Dr Martin" in page.content.decode() and "Dr Bernard" not in page.content.decode()
    assert not page.context["policies"]

    page = as_user(practice.admin).get(url("settings_home"))
    html = page.content.decode()
    assert "Dr Martin" in html and "Dr Bernard" in html and "Ailleurs" not in html
    assert f"org{practice.organisation.pk}-no_show_limit" in html


def test_an_admin_sets_the_no_show_limit(practice, as_user):
    client = as_user(practice.admin)
    name = f"org{practice.organisation.pk}-no_show_limit"
    response = client.post(url("settings_policy", practice.organisation.pk), {name: "3"})
    assert response.status_code == 302
    assert PracticePolicy.objects.get(organisation=practice.organisation).no_show_limit == 3

    response = client.post(url("settings_policy", practice.organisation.pk), {name: "0"})
    assert response.status_code == 200 and "from 1 to 99" in response.content.decode()
    assert PracticePolicy.objects.get(organisation=practice.organisation).no_show_limit == 3

    client.post(url("settings_policy", practice.organisation.pk), {name: ""})
    assert PracticePolicy.objects.get(organisation=practice.organisation).no_show_limit is None

    gp = as_user(practice.gp_user)
    assert gp.post(url("settings_policy", practice.organisation.pk), {name: "1"}).status_code == 403


# Motives and the preview --------------------------------------------------------------------------


def test_the_agenda_page_shows_every_section_and_the_preview_without_javascript(practice, as_user):
    page = as_user(practice.gp_user).get(url("settings_agenda", practice.agenda.pk))
    html = page.content.decode()
    assert page.status_code == 200
    for anchor in (
        'id="motives"',
        'id="openings"',
        'id="absences"',
        'id="reminders"',
        'id="preview"',
    ):
        assert anchor in html
    assert slot_times(page, "Consultation de suivi", practice.monday)[:3] == [
        "09:00",
        "09:15",
        "09:30",
    ]
    assert "practice/settings.css" in html


def test_the_preview_partial_answers_htmx_without_the_layout(practice, as_user):
    client = as_user(practice.gp_user)
    later = practice.monday + timedelta(days=14)
    page = client.get(
        url("settings_preview", practice.agenda.pk), {"du": str(later)}, HTTP_HX_REQUEST="true"
    )
    assert page.status_code == 200
    assert "<html" not in page.content.decode()
    assert page.context["preview"].start == later
    assert (
        client.get(url("settings_preview", practice.agenda.pk))
        .content.decode()
        .startswith("<!doctype")
    )


def test_saving_a_motive_changes_what_the_preview_offers(practice, as_user):
    client = as_user(practice.gp_user)
    before = client.get(url("settings_agenda", practice.agenda.pk))
    assert slot_times(before, "Première consultation", practice.monday)[:3] == [
        "09:00",
        "09:30",
        "10:00",
    ]

    response = client.post(
        url("settings_motive", practice.agenda.pk, practice.first.pk),
        motive_data(
            practice.first, duration_minutes=45, instructions="Apportez votre carte Vitale"
        ),
    )
    assert response.status_code == 302 and response["Location"].endswith("#preview")
    after = client.get(response["Location"])
    assert slot_times(after, "Première consultation", practice.monday)[:4] == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
    ]
    assert Motive.objects.get(pk=practice.first.pk).instructions == "Apportez votre carte Vitale"

    client.post(
        url("settings_motive", practice.agenda.pk, practice.first.pk),
        motive_data(Motive.objects.get(pk=practice.first.pk), online=""),
    )
    page = client.get(url("settings_agenda", practice.agenda.pk))
    assert "Première consultation" not in [i.motive.label for i in page.context["preview"].motives]
    assert "Première consultation" in [m.label for m in page.context["preview"].hidden]


def test_the_booking_window_of_a_motive_bounds_the_preview(practice, as_user):
    client = as_user(practice.gp_user)
    client.post(
        url("settings_motive", practice.agenda.pk, practice.follow_up.pk),
        motive_data(practice.follow_up, max_advance_days=7),
    )
    page = client.get(url("settings_agenda", practice.agenda.pk))
    item = next(i for i in page.context["preview"].motives if i.motive.pk == practice.follow_up.pk)
    assert item.count > 0
    assert slot_times(page, "Consultation de suivi", practice.monday + timedelta(days=1)) == []


def test_a_new_motive_is_offered_once_an_opening_allows_it(practice, as_user):
    client = as_user(practice.gp_user)
    new = Motive(label="Vaccination", duration_minutes=20, colour="#aa3300", position=5)
    response = client.post(url("settings_motive_new", practice.agenda.pk), motive_data(new))
    assert response.status_code == 302
    motive = Motive.objects.get(agenda=practice.agenda, label="Vaccination")
    page = client.get(url("settings_agenda", practice.agenda.pk))
    assert "No opening offers this motive" in page.content.decode()

    opening = practice.agenda.openings.get(weekday=0, start_time=time(14))
    data = opening_data(practice, weekday=0, start_time="14:00", end_time="18:00")
    data["valid_from"] = str(opening.valid_from)
    data["motives"] = [practice.first.pk, practice.follow_up.pk, practice.video.pk, motive.pk]
    response = client.post(url("settings_opening", practice.agenda.pk, opening.pk), data)
    assert response.status_code == 302
    page = client.get(url("settings_agenda", practice.agenda.pk))
    assert slot_times(page, "Vaccination", practice.monday)[:2] == ["14:00", "14:20"]


def test_bad_motive_input_gives_form_errors_and_writes_nothing(practice, as_user):
    client = as_user(practice.gp_user)
    address = url("settings_motive", practice.agenda.pk, practice.first.pk)
    for changes, message in (
        ({"duration_minutes": 3}, "greater than or equal to 5"),
        ({"label": "   "}, "This field is required"),
        ({"colour": "red"}, "#2e6fd8"),
        ({"min_notice_minutes": 10080, "max_advance_days": 7}, "could never book"),
    ):
        response = client.post(address, motive_data(practice.first, **changes))
        html = response.content.decode()
        assert response.status_code == 200, changes
        assert message in html, changes
        assert 'aria-invalid="true"' in html
    motive = Motive.objects.get(pk=practice.first.pk)
    assert (motive.duration_minutes, motive.label, motive.colour) == (
        30,
        "Première consultation",
        "#2e6fd8",
    )


def test_deleting_a_motive_once_booked_deactivates_it_and_keeps_the_appointment(practice, as_user):
    client = as_user(practice.gp_user)
    booked = Appointment.objects.create(
        agenda=practice.agenda,
        motive=practice.first,
        patient=practice.profile,
        start=at(practice.monday, 9),
        end=at(practice.monday, 9, 30),
    )
    confirm = client.get(url("settings_motive_delete", practice.agenda.pk, practice.first.pk))
    assert "deactivated instead" in confirm.content.decode()
    client.post(url("settings_motive_delete", practice.agenda.pk, practice.first.pk))
    motive = Motive.objects.get(pk=practice.first.pk)
    assert not motive.is_active
    assert Appointment.objects.get(pk=booked.pk).motive_id == motive.pk

    client.post(url("settings_motive_delete", practice.agenda.pk, practice.video.pk))
    assert not Motive.objects.filter(pk=practice.video.pk).exists()


# Openings -----------------------------------------------------------------------------------------


def test_an_opening_every_second_week_falls_on_alternate_weeks(practice, as_user):
    client = as_user(practice.gp_user)
    saturday = next_weekday(5)
    data = opening_data(
        practice, every_weeks=2, valid_from=str(saturday), motives=[practice.follow_up.pk]
    )
    response = client.post(url("settings_opening_new", practice.agenda.pk), data)
    assert response.status_code == 302
    assert Opening.objects.get(agenda=practice.agenda, weekday=5).every_weeks == 2

    page = client.get(url("settings_preview", practice.agenda.pk), {"du": str(saturday)})
    assert slot_times(page, "Consultation de suivi", saturday)[:2] == ["09:00", "09:15"]
    assert slot_times(page, "Consultation de suivi", saturday + timedelta(days=7)) == []
    page = client.get(
        url("settings_preview", practice.agenda.pk), {"du": str(saturday + timedelta(days=14))}
    )
    assert slot_times(page, "Consultation de suivi", saturday + timedelta(days=14))[0] == "09:00"
    assert (
        "Every second week"
        in client.get(url("settings_agenda", practice.agenda.pk)).content.decode()
    )


def test_overlapping_openings_are_refused_unless_on_alternate_weeks(practice, as_user):
    client = as_user(practice.gp_user)
    saturday = next_weekday(5)
    first = opening_data(practice, every_weeks=2, valid_from=str(saturday))
    assert client.post(url("settings_opening_new", practice.agenda.pk), first).status_code == 302

    other_week = opening_data(practice, every_weeks=2, valid_from=str(saturday + timedelta(days=7)))
    assert (
        client.post(url("settings_opening_new", practice.agenda.pk), other_week).status_code == 302
    )

    weekly = opening_data(practice, start_time="11:00", end_time="13:00", valid_from=str(saturday))
    response = client.post(url("settings_opening_new", practice.agenda.pk), weekly)
    assert response.status_code == 200
    assert "This overlaps the opening" in response.content.decode()
    assert practice.agenda.openings.filter(weekday=5).count() == 2

    monday = opening_data(practice, weekday=0, start_time="11:30", end_time="12:30")
    response = client.post(url("settings_opening_new", practice.agenda.pk), monday)
    assert "This overlaps the opening" in response.content.decode()


def test_bad_opening_input_gives_form_errors_and_writes_nothing(practice, as_user):
    client = as_user(practice.gp_user)
    address = url("settings_opening_new", practice.agenda.pk)
    saturday = next_weekday(5)
    for changes, message in (
        ({"start_time": "12:00", "end_time": "09:00"}, "must end after it starts"),
        (
            {"valid_from": str(saturday), "valid_until": str(saturday - timedelta(days=1))},
            "end on or after",
        ),
        ({"motives": [practice.motive2.pk]}, "Choose motives of this agenda"),
        ({"motives": []}, "Choose at least one motive"),
        ({"site": practice.other_site.pk}, "Choose a site of this organisation"),
        ({"start_time": "nine"}, "Enter a valid time"),
    ):
        response = client.post(address, opening_data(practice, **changes))
        assert response.status_code == 200, changes
        assert message in response.content.decode(), changes
    assert practice.agenda.openings.count() == 10


def test_deleting_an_opening_keeps_its_appointments(practice, as_user):
    client = as_user(practice.gp_user)
    opening = practice.agenda.openings.get(weekday=0, start_time=time(9))
    booked = Appointment.objects.create(
        agenda=practice.agenda,
        motive=practice.first,
        patient=practice.profile,
        start=at(practice.monday, 10),
        end=at(practice.monday, 10, 30),
    )
    confirm = client.get(url("settings_opening_delete", practice.agenda.pk, opening.pk))
    assert "1 appointment to come falls in this opening" in confirm.content.decode()
    client.post(url("settings_opening_delete", practice.agenda.pk, opening.pk))
    assert not Opening.objects.filter(pk=opening.pk).exists()
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED
    page = client.get(url("settings_agenda", practice.agenda.pk))
    assert slot_times(page, "Première consultation", practice.monday)[0] == "14:00"


# Absences -----------------------------------------------------------------------------------------


def test_an_absence_removes_its_slots_and_warns_of_appointments_booked(practice, as_user):
    client = as_user(practice.gp_user)
    Appointment.objects.create(
        agenda=practice.agenda,
        motive=practice.first,
        patient=practice.profile,
        start=at(practice.monday, 9),
        end=at(practice.monday, 9, 30),
    )
    data = {
        "start_date": str(practice.monday),
        "start_time": "08:00",
        "end_date": str(practice.monday),
        "end_time": "13:00",
        "reason": "Formation",
    }
    response = client.post(url("settings_absence_new", practice.agenda.pk), data, follow=True)
    html = response.content.decode()
    assert "1 appointment is already booked during this absence" in html
    absence = Absence.objects.get(agenda=practice.agenda)
    assert absence.start == at(practice.monday, 8) and absence.end == at(practice.monday, 13)
    assert slot_times(response, "Première consultation", practice.monday)[0] == "14:00"

    client.post(url("settings_absence_delete", practice.agenda.pk, absence.pk))
    page = client.get(url("settings_agenda", practice.agenda.pk))
    assert slot_times(page, "Première consultation", practice.monday)[0] == "09:30"


def test_an_absence_without_times_covers_whole_days(practice, as_user):
    client = as_user(practice.gp_user)
    tuesday = practice.monday + timedelta(days=1)
    data = {"start_date": str(practice.monday), "end_date": str(tuesday)}
    response = client.post(url("settings_absence_new", practice.agenda.pk), data, follow=True)
    absence = Absence.objects.get(agenda=practice.agenda)
    assert absence.start == at(practice.monday, 0)
    assert absence.end == at(tuesday + timedelta(days=1), 0)
    assert "(whole days)" in response.content.decode()
    # The preview from the absence's first day on: whatever today is, the day after is in it.
    week = client.get(url("settings_preview", practice.agenda.pk), {"du": str(practice.monday)})
    assert slot_times(week, "Consultation de suivi", practice.monday) == []
    assert slot_times(week, "Consultation de suivi", tuesday) == []
    assert slot_times(week, "Consultation de suivi", tuesday + timedelta(days=1))[0] == "09:00"


def test_an_absence_ending_before_it_starts_is_refused(practice, as_user):
    client = as_user(practice.gp_user)
    data = {
        "start_date": str(practice.monday),
        "start_time": "14:00",
        "end_date": str(practice.monday),
        "end_time": "10:00",
    }
    response = client.post(url("settings_absence_new", practice.agenda.pk), data)
    assert response.status_code == 200
    assert "The absence must end after it starts." in response.content.decode()
    assert not Absence.objects.exists()


# Reminders ----------------------------------------------------------------------------------------


def test_the_practitioner_turns_a_reminder_off(practice, as_user):
    client = as_user(practice.gp_user)
    page = client.get(url("settings_agenda", practice.agenda.pk))
    assert page.context["reminder_form"].initial == {
        "email_7d": True,
        "email_1d": True,
        "sms_1d": True,
    }
    response = client.post(
        url("settings_reminders", practice.agenda.pk), {"email_7d": "on", "email_1d": "on"}
    )
    assert response.status_code == 302
    found = ReminderSettings.objects.get(practitioner=practice.gp)
    assert (found.email_7d, found.email_1d, found.sms_1d) == (True, True, False)


def test_an_admin_configures_any_agenda_of_the_organisation(practice, as_user):
    client = as_user(practice.admin)
    data = {"start_date": str(practice.monday), "end_date": str(practice.monday)}
    response = client.post(url("settings_absence_new", practice.agenda2.pk), data)
    assert response.status_code == 302
    assert Absence.objects.filter(agenda=practice.agenda2).count() == 1
