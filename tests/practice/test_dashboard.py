"""The practice dashboard: weekly appointments, online share and no-show rate."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from consulto.practice import stats
from consulto.scheduling.models import Appointment
from tests.conftest import PARIS, at

Status, Channel = Appointment.Status, Appointment.Channel
URL = reverse("practice:dashboard")

# A Wednesday in November 2025: the 12 weeks shown start on Monday 18 August, the week of
# 20 October holds the end of summer time (Sunday 26 October, 03:00 → 02:00).
NOW = datetime(2025, 11, 5, 10, 0, tzinfo=PARIS)


def book(agenda, motive, start, *, status=Status.SEEN, channel=Channel.ONLINE, minutes=15):
    return Appointment.objects.create(
        agenda=agenda,
        motive=motive,
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
        channel=channel,
        hold_expires_at=start if status == Status.HELD else None,
    )


def week_of(board, monday: date):
    return next(w for w in board.weeks if w.start == monday)


@pytest.fixture
def known_weeks(practice):
    """Dr Martin's appointments around the week of 20 October 2025, and one of Dr Bernard's."""
    w = practice
    a, m = w.agenda, w.follow_up
    # The week of 20 October: from Monday 00:30 (summer time) to Sunday 23:30 (winter time).
    book(a, m, at(date(2025, 10, 20), 0, 30))
    book(a, m, at(date(2025, 10, 21), 9), channel=Channel.SECRETARY)
    book(a, m, at(date(2025, 10, 22), 9), status=Status.NO_SHOW)
    book(a, m, at(date(2025, 10, 23), 9), status=Status.ARRIVED, channel=Channel.PRACTITIONER)
    book(a, m, at(date(2025, 10, 24), 9), status=Status.CANCELLED)
    book(a, m, at(date(2025, 10, 24), 10), status=Status.EXPIRED)
    book(a, m, at(date(2025, 10, 24), 11), status=Status.HELD)
    book(a, m, at(date(2025, 10, 26), 23, 30))  # 22:30 UTC: still the week of 20 October
    # Monday 27 October 00:30 is Sunday 23:30 UTC: the next week.
    book(a, m, at(date(2025, 10, 27), 0, 30), status=Status.NO_SHOW)
    # Booked ahead, the week of 17 November.
    book(a, m, at(date(2025, 11, 17), 9), status=Status.BOOKED)
    book(a, m, at(date(2025, 11, 18), 9), status=Status.BOOKED, channel=Channel.SECRETARY)
    # Out of the 16 weeks: August 17th is the Sunday before the first week shown.
    book(a, m, at(date(2025, 8, 17), 9))
    book(w.agenda2, w.motive2, at(date(2025, 10, 22), 9), status=Status.NO_SHOW)
    return w


def test_it_counts_each_week_in_paris_time_across_the_dst_change(known_weeks):
    board = stats.dashboard(user=known_weeks.gp_user, now=NOW)

    assert board.weeks[0].start == date(2025, 8, 18)
    assert len(board.past_weeks) == 12 and len(board.ahead_weeks) == 4
    dst_week = week_of(board, date(2025, 10, 20))
    assert dst_week.appointments == 5  # cancelled, expired and held ones are left out
    assert dst_week.by_status == {Status.SEEN: 3, Status.NO_SHOW: 1, Status.ARRIVED: 1}
    assert week_of(board, date(2025, 10, 27)).appointments == 1
    assert board.past_total == 6


def test_online_share_is_online_bookings_over_all_bookings(known_weeks):
    board = stats.dashboard(user=known_weeks.gp_user, now=NOW)

    dst_week = week_of(board, date(2025, 10, 20))
    assert dst_week.online == 2 + 1  # two seen online, and the no-show booked online
    assert dst_week.online_share == pytest.approx(3 / 5)
    assert week_of(board, date(2025, 11, 17)).online_share == pytest.approx(1 / 2)


def test_no_show_rate_counts_only_appointments_that_took_place_or_were_missed(known_weeks):
    board = stats.dashboard(user=known_weeks.gp_user, now=NOW)

    assert week_of(board, date(2025, 10, 20)).no_show_rate == pytest.approx(1 / 5)
    assert week_of(board, date(2025, 10, 27)).no_show_rate == 1
    assert week_of(board, date(2025, 11, 17)).no_show_rate is None  # not happened yet
    assert board.no_show_rate == pytest.approx(2 / 6)


def test_booked_ahead_weeks_show_what_is_already_booked(known_weeks):
    board = stats.dashboard(user=known_weeks.gp_user, now=NOW)

    assert [w.appointments for w in board.ahead_weeks] == [0, 2, 0, 0]
    assert board.ahead_total == 2


def test_a_practitioner_sees_only_their_own_agendas(known_weeks):
    w = known_weeks
    board = stats.dashboard(user=w.gp2_user, now=NOW)

    assert [a.pk for a in board.agendas] == [w.agenda2.pk]
    assert week_of(board, date(2025, 10, 20)).appointments == 1
    with pytest.raises(PermissionDenied):
        stats.dashboard(user=w.gp2_user, agenda_id=w.agenda.pk, now=NOW)


def test_an_admin_sees_every_agenda_and_can_pick_one(known_weeks):
    w = known_weeks
    board = stats.dashboard(user=w.admin, now=NOW)

    assert {a.pk for a in board.agendas} == {w.agenda.pk, w.agenda2.pk}
    assert week_of(board, date(2025, 10, 20)).appointments == 6
    one = stats.dashboard(user=w.admin, agenda_id=w.agenda2.pk, now=NOW)
    assert one.agenda == w.agenda2
    assert week_of(one, date(2025, 10, 20)).by_status == {Status.NO_SHOW: 1}


def test_another_organisations_agenda_is_not_found(known_weeks):
    with pytest.raises(Http404):
        stats.dashboard(user=known_weeks.admin, agenda_id=known_weeks.other_agenda.pk, now=NOW)
    with pytest.raises(Http404):
        stats.dashboard(user=known_weeks.admin, organisation_id=known_weeks.other_org.pk)


def test_it_takes_two_queries_whatever_the_number_of_weeks(
    known_weeks, django_assert_max_num_queries
):
    known_weeks.admin._consulto_staff_roles = None
    with django_assert_max_num_queries(6):
        stats.dashboard(user=known_weeks.admin, now=NOW)


# The page -----------------------------------------------------------------------------------


def test_the_page_draws_accessible_charts_with_a_table_of_figures(practice, as_user):
    w = practice
    today = datetime.now(PARIS).date()
    last_week = today - timedelta(days=today.weekday() + 7)
    book(w.agenda, w.follow_up, at(last_week, 9))
    book(w.agenda, w.follow_up, at(last_week, 10), channel=Channel.SECRETARY)
    book(w.agenda, w.follow_up, at(last_week, 11), status=Status.NO_SHOW)
    book(w.agenda, w.follow_up, at(last_week + timedelta(days=14), 9), status=Status.BOOKED)

    response = as_user(w.gp_user).get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == 4  # three charts, and the SAS participation's
    assert '<title id="chart-appointments-title">' in html and "<desc" in html
    svg = html.split("<svg", 1)[1].rsplit("</svg>", 1)[0]
    assert ' style="' not in svg  # the Content-Security-Policy would drop it
    assert not re.search(r'(?:x|y|width)="[^"]*,', svg)  # no decimal comma in French
    assert "<table>" in html and '<th scope="col">' in html
    board = response.context["board"]
    assert board.past_total == 3 and board.ahead_total == 1
    assert board.online_share == pytest.approx(2 / 3)
    assert board.no_show_rate == pytest.approx(1 / 3)
    assert re.search(r"\b67\s?%", html) and re.search(r"\b33\s?%", html)


def test_the_agenda_filter_narrows_the_figures(practice, as_user):
    w = practice
    today = datetime.now(PARIS).date()
    book(w.agenda, w.follow_up, at(today - timedelta(days=7), 9))
    book(w.agenda2, w.motive2, at(today - timedelta(days=7), 9))

    client = as_user(w.admin)
    assert client.get(URL).context["board"].past_total == 2
    assert client.get(URL, {"agenda": w.agenda2.pk}).context["board"].past_total == 1


def test_a_secretary_may_not_open_the_dashboard(practice, as_user):
    assert as_user(practice.secretary).get(URL).status_code == 403


def test_an_outsider_asking_for_our_agenda_gets_not_found(practice, as_user):
    response = as_user(practice.outsider).get(URL, {"agenda": practice.agenda.pk})
    assert response.status_code == 404


def test_the_agenda_choice_reads_as_french_for_one_agenda_or_several(practice, as_user):
    w = practice
    alone = as_user(w.gp_user).get(URL).content.decode()
    assert "unique agenda" not in alone and "(1)" not in alone
    assert f'<option value="{w.agenda.pk}"' in alone
    several = as_user(w.admin).get(URL).content.decode()
    assert "Tous les agendas (2)" in several
