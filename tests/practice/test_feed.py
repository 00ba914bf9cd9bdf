"""Calendar sync: a practitioner's secret, revocable .ics address for their agenda."""

import hashlib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from consulto.core.models import AuditEvent
from consulto.directory.models import Membership
from consulto.practice import feeds
from consulto.practice.models import AgendaFeed
from consulto.scheduling.models import Appointment

Status = Appointment.Status


def page_url(agenda) -> str:
    return reverse("practice:feed", args=[agenda.pk])


def make_feed(client, agenda, *, names: bool = False) -> str:
    """Create the feed through the page, as a practitioner does; return the address shown."""
    data = {"action": "create", **({"with_patient_names": "on"} if names else {})}
    response = client.post(page_url(agenda), data, follow=True)
    assert response.status_code == 200
    return response.context["new_url"]


def token_of(url: str) -> str:
    return re.search(r"/calendrier/([^/]+)\.ics$", url).group(1)


def fetch(client, url: str):
    return client.get(urlsplit(url).path)


def book(agenda, motive, start, *, patient=None, status=Status.BOOKED, **fields):
    return Appointment.objects.create(
        agenda=agenda,
        motive=motive,
        patient=patient,
        start=start,
        end=start + timedelta(minutes=15),
        status=status,
        hold_expires_at=start if status == Status.HELD else None,
        **fields,
    )


def events(response) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}


@pytest.fixture
def booked(practice):
    """Dr Martin's agenda: what the feed shows and what it must not."""
    w, now = practice, timezone.now()
    w.soon = book(w.agenda, w.follow_up, now + timedelta(days=2), patient=w.profile)
    w.last_week = book(w.agenda, w.first, now - timedelta(days=7), status=Status.SEEN)
    w.cancelled = book(w.agenda, w.first, now + timedelta(days=3), status=Status.CANCELLED)
    w.held = book(w.agenda, w.first, now + timedelta(days=4), status=Status.HELD)
    w.too_old = book(w.agenda, w.first, now - timedelta(days=40), status=Status.SEEN)
    w.too_far = book(w.agenda, w.first, now + timedelta(days=400))
    w.not_mine = book(w.agenda2, w.motive2, now + timedelta(days=2))
    return w


def test_a_practitioner_gets_an_address_shown_once(practice, as_user):
    client = as_user(practice.gp_user)

    url = make_feed(client, practice.agenda)

    assert url.startswith("http") and url.endswith(".ics")
    feed = AgendaFeed.objects.get(agenda=practice.agenda, revoked_at__isnull=True)
    assert feed.token_hash == hashlib.sha256(token_of(url).encode()).hexdigest()
    assert token_of(url) not in feed.token_hash
    page = client.get(page_url(practice.agenda))
    assert page.context["feed"] == feed and page.context["new_url"] is None
    assert token_of(url) not in page.content.decode()


def test_the_address_is_shown_in_a_read_only_field(practice, as_user):
    client = as_user(practice.gp_user)
    client.post(page_url(practice.agenda), {"action": "create"})

    html = client.get(page_url(practice.agenda)).content.decode()

    assert re.search(r'<input id="feed-url" type="text" value="http[^"]+\.ics" readonly', html)
    assert '<label for="feed-url"' in html


def test_the_feed_lists_the_agendas_active_appointments(booked, as_user):
    w = booked
    response = fetch(as_user(w.gp_user), make_feed(as_user(w.gp_user), w.agenda))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    uids = events(response)
    assert set(uids) == {
        f"appointment-{w.soon.pk}@127.0.0.1",
        f"appointment-{w.last_week.pk}@127.0.0.1",
    }


def test_names_are_hidden_unless_chosen(booked, client, as_user):
    w = booked
    url = make_feed(as_user(w.gp_user), w.agenda)
    client.logout()

    summary = str(events(fetch(client, url))[f"appointment-{w.soon.pk}@127.0.0.1"]["summary"])
    assert "Petit" not in summary and "Jeanne" not in summary
    assert w.follow_up.label in summary

    as_user(w.gp_user).post(page_url(w.agenda), {"action": "names", "with_patient_names": "on"})
    client.logout()
    summary = str(events(fetch(client, url))[f"appointment-{w.soon.pk}@127.0.0.1"]["summary"])
    assert summary.startswith("Jeanne Petit") and w.follow_up.label in summary


def test_a_moved_appointment_keeps_the_uid_of_the_first_one(booked, client, as_user):
    w = booked
    w.soon.status = Status.CANCELLED
    w.soon.save()
    moved = book(w.agenda, w.follow_up, w.soon.start + timedelta(hours=2), rescheduled_from=w.soon)
    url = make_feed(as_user(w.gp_user), w.agenda)
    client.logout()

    event = events(fetch(client, url))[f"appointment-{w.soon.pk}@127.0.0.1"]
    assert event.decoded("dtstart") == moved.start.replace(microsecond=0)
    assert int(event["sequence"]) == 1


def test_regenerating_stops_the_old_address(booked, client, as_user):
    gp = as_user(booked.gp_user)
    old = make_feed(gp, booked.agenda)
    new = gp.post(page_url(booked.agenda), {"action": "regenerate"}, follow=True)
    new_url = new.context["new_url"]
    client.logout()

    assert new_url != old
    assert fetch(client, old).status_code == 404
    assert fetch(client, new_url).status_code == 200
    assert AgendaFeed.objects.filter(agenda=booked.agenda, revoked_at__isnull=True).count() == 1


def test_a_revoked_address_is_not_found(booked, client, as_user):
    gp = as_user(booked.gp_user)
    url = make_feed(gp, booked.agenda)
    gp.post(page_url(booked.agenda), {"action": "revoke"})
    client.logout()

    assert fetch(client, url).status_code == 404
    assert client.get(reverse("agenda_feed", args=["not-a-token"])).status_code == 404
    assert AuditEvent.objects.filter(target_type="agenda_feed", action="delete").exists()


def test_a_practitioner_who_left_stops_their_feed(booked, client, as_user):
    url = make_feed(as_user(booked.gp_user), booked.agenda)
    Membership.objects.filter(user=booked.gp_user).delete()
    client.logout()

    assert fetch(client, url).status_code == 404


def test_reading_the_feed_notes_the_time_at_most_once_a_minute(booked, client, as_user):
    url = make_feed(as_user(booked.gp_user), booked.agenda)
    client.logout()

    fetch(client, url)
    feed = AgendaFeed.objects.get(agenda=booked.agenda, revoked_at__isnull=True)
    first = feed.last_used_at
    assert first is not None
    feeds.touch(feed, now=first + timedelta(seconds=30))
    feed.refresh_from_db()
    assert feed.last_used_at == first
    feeds.touch(feed, now=first + timedelta(minutes=2))
    feed.refresh_from_db()
    assert feed.last_used_at == first + timedelta(minutes=2)


def test_the_feed_takes_a_fixed_number_of_queries(
    booked, client, as_user, django_assert_max_num_queries
):
    url = make_feed(as_user(booked.gp_user), booked.agenda)
    client.logout()
    for day in range(5, 25):
        book(booked.agenda, booked.first, timezone.now() + timedelta(days=day))

    with django_assert_max_num_queries(8):
        assert fetch(client, url).status_code == 200


def test_only_the_agendas_practitioner_may_make_a_feed(practice, as_user):
    w = practice
    assert as_user(w.gp2_user).get(page_url(w.agenda)).status_code == 403
    assert as_user(w.secretary).get(page_url(w.agenda)).status_code == 403
    assert as_user(w.admin).post(page_url(w.agenda), {"action": "create"}).status_code == 403
    assert not AgendaFeed.objects.exists()


def test_an_outsider_gets_not_found(practice, as_user):
    client = as_user(practice.outsider)
    assert client.get(page_url(practice.agenda)).status_code == 404
    assert client.post(page_url(practice.agenda), {"action": "create"}).status_code == 404


def test_long_and_special_text_survives_the_round_trip(practice, client, as_user):
    w = practice
    w.follow_up.label = "Suivi; bilan, résultats \\ ordonnance — " + "é" * 60
    w.follow_up.save()
    w.profile.first_name = "Zoé-Ève"
    w.profile.save()
    soon = book(w.agenda, w.follow_up, timezone.now() + timedelta(days=1), patient=w.profile)
    gp = as_user(w.gp_user)
    url = make_feed(gp, w.agenda, names=True)
    client.logout()

    response = fetch(client, url)

    assert all(len(line) <= 75 for line in response.content.split(b"\r\n"))
    summary = str(events(response)[f"appointment-{soon.pk}@127.0.0.1"]["summary"])
    assert summary == f"Zoé-Ève Petit — {w.follow_up.label}"
